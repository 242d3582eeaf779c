import { expect, test, type Browser, type Page } from "@playwright/test";
import { ADMIN } from "../fixtures/env";
import { navigate, signIn, signOut } from "../fixtures/portal";

test.describe.configure({ mode: "serial" });

const UMA = { name: "Uma Rotation", email: "uma.rotation@e2e.test", password: "uma-first-pass-2024" };

/** A second browser holding a copy of `page`'s cookies: what an attacker who copied them has. */
async function copyOf(browser: Browser, page: Page): Promise<Page> {
  const context = await browser.newContext();
  await context.addCookies(await page.context().cookies());
  return context.newPage();
}

const userRow = (page: Page, email: string) => page.getByTestId("users-table").getByRole("row").filter({ hasText: email });

test("signing out ends the session everywhere: a copied cookie's open form and pages go to sign-in", async ({ page, browser }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  const copy = await copyOf(browser, page);
  await copy.goto("/settings/users");
  const form = copy.getByRole("form", { name: "Add user" });
  await form.getByLabel("Name").fill("Mallory");
  await form.getByLabel("Email").fill("mallory.copied@e2e.test");
  await form.getByLabel("Initial password").fill("mallory-strong-pass-91");

  await signOut(page);
  await form.getByRole("button", { name: "Add" }).click();
  await expect(copy).toHaveURL(/\/sign-in/);
  await copy.goto("/settings/users");
  await expect(copy).toHaveURL(/\/sign-in/);
  expect((await copy.request.get("/api/v1/users")).status()).toBe(401);

  await signIn(page, ADMIN.email, ADMIN.password);
  await navigate(page, "Settings", "Users");
  await expect(page.getByTestId("users-table")).not.toContainText("mallory.copied@e2e.test");
  await copy.context().close();
});

test("admins refuse guessable passwords, see each user's last sign-in, and a reset ends the user's sessions", async ({ page, browser }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await navigate(page, "Settings", "Users");
  const add = page.getByRole("form", { name: "Add user" });
  await add.getByLabel("Name").fill(UMA.name);
  await add.getByLabel("Email").fill(UMA.email);
  await add.getByLabel("Role").selectOption("ADMIN");
  await add.getByLabel("Initial password").fill("Password123456");
  await add.getByRole("button", { name: "Add" }).click();
  await expect(add.getByText(/too easy to guess/).first()).toBeVisible();
  await add.getByLabel("Initial password").fill(UMA.password);
  await add.getByRole("button", { name: "Add" }).click();
  await expect(userRow(page, UMA.email)).toContainText("—");

  const uma = await (await browser.newContext()).newPage();
  await signIn(uma, UMA.email, UMA.password);
  const copy = await copyOf(browser, uma);
  await copy.goto("/settings/users");
  await expect(copy.getByTestId("current-user")).toHaveText(UMA.email);

  await page.reload();
  await expect(userRow(page, UMA.email)).toContainText(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
  const reset = page.getByRole("form", { name: `Reset password of ${UMA.email}` });
  await reset.getByLabel(`New password for ${UMA.email}`).fill("umaumauma2024");
  await reset.getByRole("button", { name: "Reset password" }).click();
  await expect(reset.getByRole("alert")).toContainText("too easy to guess");
  await copy.reload();
  await expect(copy.getByTestId("current-user")).toHaveText(UMA.email);

  await reset.getByLabel(`New password for ${UMA.email}`).fill("uma-second-pass-77");
  await reset.getByRole("button", { name: "Reset password" }).click();
  await expect(reset.getByRole("status")).toContainText("Password reset.");
  await copy.reload();
  await expect(copy).toHaveURL(/\/sign-in/);
  await uma.reload();
  await expect(uma).toHaveURL(/\/sign-in/);
  UMA.password = "uma-second-pass-77";
  await uma.context().close();
  await copy.context().close();
});

test("users change their own password on Settings > Account: this session goes on, the others end", async ({ page, browser }) => {
  await signIn(page, UMA.email, UMA.password);
  const other = await (await browser.newContext()).newPage();
  await signIn(other, UMA.email, UMA.password);

  await navigate(page, "Settings", "Account");
  const form = page.getByRole("form", { name: "Change password" });
  await form.getByLabel("Current password").fill("not-my-password-1");
  await form.getByLabel("New password").fill("uma-third-pass-314");
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(form.getByText("The current password is not correct").first()).toBeVisible();
  await form.getByLabel("Current password").fill(UMA.password);
  await form.getByLabel("New password").fill("uma.rotation2024");
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(form.getByText(/too easy to guess/).first()).toBeVisible();
  await form.getByLabel("Current password").fill(UMA.password);
  await form.getByLabel("New password").fill("uma-third-pass-314");
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("status")).toContainText("Password changed.");
  UMA.password = "uma-third-pass-314";

  await navigate(page, "Settings", "Users");
  await expect(page.getByTestId("current-user")).toHaveText(UMA.email);
  await other.reload();
  await expect(other).toHaveURL(/\/sign-in/);
  await other.context().close();
});

test("API tokens: the expiry chosen at creation is listed, and an Admin token stops when its creator is demoted", async ({ page, browser, request }) => {
  const uma = await (await browser.newContext()).newPage();
  await signIn(uma, UMA.email, UMA.password);
  await navigate(uma, "Settings", "API Tokens");
  const form = uma.getByRole("form", { name: "Create API token" });
  await expect(form.getByLabel("Expires in")).toHaveValue("90");
  await form.getByLabel("Name").fill("uma-automation");
  await form.getByLabel("Scope").selectOption("ADMIN");
  await form.getByLabel("Expires in").selectOption("30");
  await form.getByRole("button", { name: "Add" }).click();
  const token = await uma.getByTestId("new-token").inputValue();
  const row = uma.getByRole("row").filter({ hasText: "uma-automation" });
  const expires = new Date(Date.now() + 30 * 24 * 3600_000).toISOString().slice(0, 10);
  await expect(row).toContainText(expires);
  await expect(row).toContainText("Active");
  const auth = { Authorization: `Bearer ${token}` };
  expect((await request.get("/api/v1/users", { headers: auth })).status()).toBe(200);

  await signIn(page, ADMIN.email, ADMIN.password);
  await navigate(page, "Settings", "Users");
  const role = page.getByRole("form", { name: `Role of ${UMA.email}` });
  await role.getByLabel(`Role for ${UMA.email}`).selectOption("AUDITOR");
  await role.getByRole("button", { name: "Update" }).click();
  await expect(userRow(page, UMA.email).getByRole("cell").nth(2)).toHaveText("Auditor");

  expect((await request.get("/api/v1/users", { headers: auth })).status()).toBe(401);
  await uma.reload();
  await expect(uma).toHaveURL(/\/sign-in/);
  await uma.context().close();
});
