import { expect, test } from "@playwright/test";
import { freshPostgres, postgresRelay, startPortal, tempDir } from "../../apps/portal/tests/harness";
import { ADMIN } from "../fixtures/env";
import { shot, signIn } from "../fixtures/portal";

// What an admin sees when something is missing or broken: a page of the portal that says what happened
// and what to do, not the framework's bare default.

test("an unknown address and an unknown record answer Not found, inside the portal when signed in", async ({ page }) => {
  expect((await page.goto("/no-such-page"))?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Not found" })).toBeVisible();
  await signIn(page, ADMIN.email, ADMIN.password);
  expect((await page.goto("/dynamic-pki/certificates/00000000-0000-0000-0000-000000000000"))?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Not found" })).toBeVisible();
  await expect(page.getByTestId("current-user")).toHaveText(ADMIN.email);
  await page.getByRole("link", { name: "Home" }).click();
  await expect(page.getByRole("heading", { name: "Overview", level: 1 })).toBeVisible();
});

test.describe("while PostgreSQL is unreachable", () => {
  test.skip(!process.env.DATABASE_URL, "needs a PostgreSQL server to cut off (DATABASE_URL)");
  const cleanup: (() => Promise<void>)[] = [];
  test.afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  test("a page says the database is not answering, and works again once it is back", async ({ page }) => {
    const db = await freshPostgres();
    cleanup.push(db.drop);
    const relay = await postgresRelay(db.url);
    cleanup.push(relay.cut);
    const admin = { email: "outage-admin@e2e.test", password: "outage-admin-password-1" };
    const portal = await startPortal({ DATABASE_URL: relay.url, DATA_DIR: tempDir(), ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password });
    cleanup.push(portal.stop);
    await page.goto(`${portal.url}/sign-in`);
    await page.getByLabel("Email").fill(admin.email);
    await page.getByLabel("Password").fill(admin.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByTestId("current-user")).toHaveText(admin.email);

    await relay.cut();
    await page.goto(`${portal.url}/dynamic-pki/certificates`);
    const panel = page.getByRole("alert").filter({ has: page.getByRole("heading", { name: "The database is not answering" }) });
    await expect(panel).toBeVisible();
    await expect(panel).toContainText("Nothing was changed");
    await shot(page, "failures-01-database-unreachable");

    await relay.restore();
    await expect(async () => {
      await page.getByRole("button", { name: "Try again" }).click();
      await expect(page.getByRole("heading", { name: "Certificates" })).toBeVisible({ timeout: 2_000 });
    }).toPass({ timeout: 20_000 });
  });
});
