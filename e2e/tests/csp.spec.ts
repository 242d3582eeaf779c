import { expect, test, type Page } from "@playwright/test";
import { navigation } from "../../apps/portal/lib/nav";
import { ADMIN, E2E_PORT } from "../fixtures/env";
import { signIn, signOut } from "../fixtures/portal";

/** Every Content Security Policy violation the page reports, from the DOM event and from the console. */
async function watchViolations(page: Page): Promise<string[]> {
  const seen: string[] = [];
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to (execute|load|apply|connect|frame)/i.test(m.text())) seen.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => seen.push(`pageerror: ${e.message}`));
  await page.exposeFunction("__reportCspViolation", (v: string) => seen.push(`violation: ${v}`));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      (window as unknown as { __reportCspViolation: (v: string) => void }).__reportCspViolation(
        `${e.violatedDirective} ${e.blockedURI} at ${location.pathname}`,
      ),
    );
  });
  return seen;
}

test("the portal runs under its Content Security Policy: no violation on sign-in, every page, a form and a 404", async ({ page }) => {
  const violations = await watchViolations(page);
  const first = await page.goto("/sign-in");
  const csp = first!.headers()["content-security-policy"];
  expect(csp).toMatch(/script-src 'self' 'nonce-[^']+' 'strict-dynamic'/);
  expect(csp).toContain("frame-ancestors 'none'");
  // A wrong password: the sign-in form's server action answers in place (client-side React at work).
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill("not-the-password-1");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText("Invalid email or password.")).toBeVisible();
  await signIn(page, ADMIN.email, ADMIN.password);
  // Client-side navigation through every page of the menu.
  for (const { items } of navigation) {
    for (const item of items) {
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: item.label, exact: true }).click();
      await page.waitForURL((u) => u.pathname === item.href);
      await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
    }
  }
  // A full load of a page with a search, and of a page that does not exist.
  await page.goto("/dynamic-pki/certificates?q=%25");
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  await page.goto("/no-such-page");
  await expect(page.getByText(/not found/i).first()).toBeVisible();
  await page.goto("/");
  await signOut(page);
  expect(violations).toEqual([]);
});

test("the portal cannot be framed by another site", async ({ page }) => {
  const refused = page.waitForEvent("console", { predicate: (m) => /frame-ancestors|Refused to (display|frame)/i.test(m.text()), timeout: 10_000 });
  await page.setContent(`<iframe src="http://localhost:${E2E_PORT}/sign-in"></iframe>`);
  expect((await refused).text()).toMatch(/frame-ancestors|X-Frame-Options/i);
});

test("sign-in and the overview load without a failed request: the tab icon is the portal's own", async ({ page, request }) => {
  // Chromium asks for /favicon.ico on every page without an icon link: a 404 in the console of each.
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await page.goto("/sign-in");
  await expect(page.locator('head link[rel="icon"]')).toHaveCount(1);
  const icon = await page.locator('head link[rel="icon"]').getAttribute("href");
  const served = await request.get(icon!);
  expect(served.status()).toBe(200);
  expect(served.headers()["content-type"]).toContain("image/svg+xml");
  await signIn(page, ADMIN.email, ADMIN.password);
  await expect(page.getByRole("heading", { level: 1, name: "Overview" })).toBeVisible();
  await page.reload();
  await expect(page.getByRole("heading", { level: 1, name: "Overview" })).toBeVisible();
  await signOut(page);
  expect(errors).toEqual([]);
});
