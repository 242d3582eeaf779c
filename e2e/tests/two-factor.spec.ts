import { expect, test } from "@playwright/test";
import { generate } from "otplib";
import { ADMIN } from "../fixtures/env";
import { navigate, shot, signIn, signOut } from "../fixtures/portal";

// An admin turns on two-factor authentication with an authenticator app (the test computes the codes
// from the key the page shows), then requires it for every admin: an admin without it can only set it
// up; the admin with it signs in with password and code.

const MFA = { email: `mfa-${Date.now()}@e2e.test`, password: "mfa-admin-password-7" };
const codeAt = (secret: string, s = 0) => generate({ secret, epoch: Math.floor(Date.now() / 1000) + s });

test("an admin sets up an authenticator app, signs in with a code, and requires it of every admin", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await navigate(page, "Settings", "Users");
  const add = page.getByRole("form", { name: "Add user" });
  await add.getByLabel("Name").fill("MFA Admin");
  await add.getByLabel("Email").fill(MFA.email);
  await add.getByLabel("Role").selectOption("ADMIN");
  await add.getByLabel("Initial password").fill(MFA.password);
  await add.getByRole("button", { name: "Add", exact: true }).click();
  await expect(page.getByTestId("users-table")).toContainText(MFA.email);
  await signOut(page);

  // Set up: QR code and key, first code, recovery codes shown once.
  await signIn(page, MFA.email, MFA.password);
  await navigate(page, "Settings", "Account");
  await expect(page.getByTestId("second-factor-status")).toContainText("Off");
  await page.getByRole("button", { name: "Set up authenticator app" }).click();
  await expect(page.getByRole("img", { name: "QR code to scan with your authenticator app" })).toBeVisible();
  const secret = (await page.getByTestId("totp-secret").textContent())!.trim();
  const confirm = page.getByRole("form", { name: "Confirm two-factor authentication" });
  await confirm.getByLabel("Code from your app").fill("000000");
  await confirm.getByRole("button", { name: "Turn on" }).click();
  await expect(confirm.getByText("That code is not right").first()).toBeVisible();
  await confirm.getByLabel("Code from your app").fill(await codeAt(secret));
  await confirm.getByRole("button", { name: "Turn on" }).click();
  const codes = page.getByTestId("recovery-codes");
  await expect(codes).toContainText("Two-factor authentication is on");
  expect((await codes.locator("pre").textContent())!.trim().split("\n")).toHaveLength(10);
  await shot(page, "two-factor-recovery-codes");

  // Require it for admins.
  await navigate(page, "Settings", "Users");
  await expect(page.getByRole("row").filter({ hasText: MFA.email })).toContainText("On");
  const requirement = page.getByRole("form", { name: "Two-factor authentication" });
  await requirement.getByLabel("Require two-factor authentication for admins").check();
  await requirement.getByRole("button", { name: "Save" }).click();
  await expect(requirement.getByText("Saved.")).toBeVisible();
  await signOut(page);

  // An admin without it may only set it up.
  await signIn(page, ADMIN.email, ADMIN.password);
  await expect(page).toHaveURL(/\/settings\/account$/);
  await expect(page.getByRole("alert").filter({ hasText: "requires admins to use two-factor authentication" })).toBeVisible();
  await page.goto("/dynamic-pki/certificate-authorities");
  await expect(page).toHaveURL(/\/settings\/account$/);
  await signOut(page);

  // The admin with it: password, then the code (a wrong one first).
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(MFA.email);
  await page.getByLabel("Password").fill(MFA.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  const code = page.getByLabel("Authentication code");
  await expect(code).toBeVisible();
  await code.fill("123456");
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByText("That code is not right").first()).toBeVisible();
  await shot(page, "two-factor-sign-in");
  await page.getByLabel("Authentication code").fill(await codeAt(secret, 30));
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByTestId("current-user")).toHaveText(MFA.email);

  // Lift the requirement again (the other tests' admin has no second factor).
  await navigate(page, "Settings", "Users");
  const lift = page.getByRole("form", { name: "Two-factor authentication" });
  await lift.getByLabel("Require two-factor authentication for admins").uncheck();
  await lift.getByRole("button", { name: "Save" }).click();
  await expect(lift.getByText("Saved.")).toBeVisible();
  await navigate(page, "Data and Monitoring", "General Events");
  await expect(
    page
      .getByRole("row")
      .filter({ hasText: `${MFA.email} signed in with an authentication code` })
      .first(),
  ).toBeVisible();
  await signOut(page);
});
