import { expect, test } from "@playwright/test";
import { ADMIN, AUDITOR } from "../fixtures/env";
import { callServerAction, navigate, shot, signIn, signOut } from "../fixtures/portal";

test.describe.configure({ mode: "serial" });

let auditorToken = "";

test("an admin signs in, creates an auditor and an Auditor-scope API token", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await navigate(page, "Settings", "Users");
  await shot(page, "foundation-01-users");
  const form = page.getByRole("form", { name: "Add user" });
  await form.getByLabel("Name").fill(AUDITOR.name);
  await form.getByLabel("Email").fill(AUDITOR.email);
  await form.getByLabel("Role").selectOption("AUDITOR");
  await form.getByLabel("Initial password").fill("short");
  await form.getByRole("button", { name: "Add" }).click();
  await expect(form.getByText("Password must be at least 12 characters")).toBeVisible();
  await form.getByLabel("Initial password").fill(AUDITOR.password);
  await form.getByRole("button", { name: "Add" }).click();
  await expect(page.getByTestId("users-table")).toContainText(AUDITOR.email);

  await navigate(page, "Settings", "API Tokens");
  const tf = page.getByRole("form", { name: "Create API token" });
  await tf.getByLabel("Name").fill("auditor-automation");
  await tf.getByLabel("Scope").selectOption("AUDITOR");
  await tf.getByRole("button", { name: "Add" }).click();
  auditorToken = await page.getByTestId("new-token").inputValue();
  expect(auditorToken).toMatch(/^apki_/);
  await signOut(page);
});

test("the auditor reads General Events and every attempt to change something is refused and recorded", async ({ page, request }) => {
  await signIn(page, AUDITOR.email, AUDITOR.password);
  await navigate(page, "Data and Monitoring", "General Events");
  const table = page.getByTestId("events-table");
  await expect(table).toContainText("Sign In");
  await expect(table).toContainText(`${AUDITOR.email} signed in`);
  await expect(table).toContainText(`${ADMIN.email} signed in`);
  await shot(page, "foundation-02-general-events-auditor");

  // UI: no write controls for an auditor.
  await navigate(page, "Settings", "Users");
  await expect(page.getByRole("form", { name: "Add user" })).toHaveCount(0);

  // The server action, called directly as the browser would: refused on the server.
  const res = await callServerAction(page, "/settings/users", "createUserAction", {
    name: "Mallory",
    email: "mallory@e2e.test",
    role: "ADMIN",
    password: "mallory-password-123",
  });
  expect(res.status()).toBe(200);
  expect(await res.text()).toContain("Auditors can read but not change anything.");
  await page.reload();
  await expect(page.getByTestId("users-table")).not.toContainText("mallory@e2e.test");

  // REST API with an Auditor token: reads work, writes are 403.
  const auth = { Authorization: `Bearer ${auditorToken}` };
  const list = await request.get("/api/v1/users", { headers: auth });
  expect(list.status()).toBe(200);
  expect((await list.json()).data.map((u: { email: string }) => u.email)).toContain(AUDITOR.email);
  const create = await request.post("/api/v1/users", {
    headers: auth,
    data: { email: "eve@e2e.test", name: "Eve", role: "ADMIN", password: "eve-password-12345" },
  });
  expect(create.status()).toBe(403);
  expect(await create.json()).toEqual({ error: expect.stringContaining("Auditors") });

  // Each refusal is on the trail.
  await page.goto("/data-and-monitoring/general-events?type=Access+Denied");
  await expect(table).toContainText(`${AUDITOR.email} may not create users`);
  await expect(table).toContainText("token:auditor-automation may not create users");
  await shot(page, "foundation-03-access-denied");
});

test("ten wrong passwords are rate limited, with the same message for known and unknown emails", async ({ page }) => {
  const attempt = async (email: string) => {
    await page.goto("/sign-in");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("definitely-wrong-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    const alert = page.locator("form").getByRole("alert");
    await expect(alert).toBeVisible();
    return (await alert.textContent())?.trim();
  };
  const unknown = await attempt("nobody@e2e.test");
  const known = await attempt(AUDITOR.email);
  expect(known).toBe(unknown);
  expect(known).toBe("Invalid email or password.");
  const messages: string[] = [];
  for (let i = 0; i < 8; i++) messages.push((await attempt(AUDITOR.email))!);
  expect(messages).toContain("Too many failed attempts. Wait a moment and try again.");
  // Each wrong password that still counts makes the wait longer; during it even the right one is refused.
  for (let i = 0; i < 40 && (await attempt(AUDITOR.email)) !== "Invalid email or password."; i++);
  await page.getByLabel("Email").fill(AUDITOR.email);
  await page.getByLabel("Password").fill(AUDITOR.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator("form").getByRole("alert")).toContainText("Too many failed attempts");
});

test("the REST API answers JSON errors and serves a valid OpenAPI document", async ({ request }) => {
  const { Validator } = await import("@seriousme/openapi-schema-validator");
  const doc = await (await request.get("/api/v1/openapi.json")).json();
  const result = await new Validator().validate(doc);
  expect(result.errors ?? []).toEqual([]);
  expect(result.valid).toBe(true);
  const noAuth = await request.get("/api/v1/events");
  expect(noAuth.status()).toBe(401);
  expect(await noAuth.json()).toHaveProperty("error");
});
