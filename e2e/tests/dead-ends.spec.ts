import { expect, test, type Locator } from "@playwright/test";
import { ADMIN, E2E_PORT } from "../fixtures/env";
import { addAcmePlatform } from "../fixtures/guide";
import { shot, signIn, signOut, turnMailOff } from "../fixtures/portal";

// Screens that used to leave an admin stuck or misled (issue 20): a sign-in at another address than
// PUBLIC_URL, enrollment notices without mail, and a Basic card that broke names mid-word.

test("signing in at another address than PUBLIC_URL goes to PUBLIC_URL with a notice, and the session holds", async ({ page }) => {
  // The portal is configured as http://localhost:PORT; the admin types 127.0.0.1.
  await page.goto(`http://127.0.0.1:${E2E_PORT}/dynamic-pki/certificate-authorities`);
  await expect(page).toHaveURL(new RegExp(`^http://localhost:${E2E_PORT}/sign-in\\?from=`));
  await expect(page.getByTestId("address-notice")).toContainText(`You opened the portal at http://127.0.0.1:${E2E_PORT}`);
  await expect(page.getByTestId("address-notice")).toContainText(`http://localhost:${E2E_PORT} (PUBLIC_URL)`);
  await shot(page, "sign-in-other-address");
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("current-user")).toHaveText(ADMIN.email);
  await expect(page).toHaveURL(new RegExp(`^http://localhost:${E2E_PORT}/`));
  await signOut(page);
  // At PUBLIC_URL itself: no redirect, no notice.
  await page.goto("/sign-in");
  await expect(page).toHaveURL(`http://localhost:${E2E_PORT}/sign-in`);
  await expect(page.getByTestId("address-notice")).toHaveCount(0);
  // A forged `from` shows text only, never a link, and a proxy that keeps the other address cannot loop.
  await page.goto(`http://127.0.0.1:${E2E_PORT}/sign-in?from=${encodeURIComponent("https://evil.example")}`);
  await expect(page).toHaveURL(new RegExp(`^http://127.0.0.1:${E2E_PORT}/sign-in`));
  await expect(page.getByTestId("address-notice")).toContainText(`your browser reaches it as http://127.0.0.1:${E2E_PORT}`);
  await expect(page.getByTestId("address-notice").getByRole("link")).toHaveCount(0);
});

test("Notify user on successful Enrollment without mail: the CA form says so and links to Settings > Mail", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await turnMailOff(page);
  await page.goto("/dynamic-pki/certificate-authorities/new");
  const form = page.getByRole("form", { name: "Add Certificate Authority" });
  await expect(form.getByTestId("mail-not-configured")).toHaveCount(0);
  await form.getByLabel("Notify user on successful Enrollment").check();
  const warning = form.getByTestId("mail-not-configured");
  await expect(warning).toContainText("Mail is not configured");
  await expect(warning).toContainText("Mail Failed");
  await shot(page, "ca-notify-without-mail");
  await form.getByLabel("Notify user on successful Enrollment").uncheck();
  await expect(warning).toHaveCount(0);
  await form.getByLabel("Notify user on successful Enrollment").check();
  await form.getByTestId("mail-not-configured").getByRole("link", { name: "Settings > Mail" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Mail");
  await expect(page.getByRole("form", { name: "Send test mail" })).toBeVisible();
});

/** Whether every word of the element's text sits on one line (a word broken mid-way has two boxes). */
const wordsWhole = (el: Locator) =>
  el.evaluate((root) => {
    const broken: string[] = [];
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent ?? "";
      for (const m of text.matchAll(/\S+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
        if (lines.size > 1) broken.push(m[0]);
      }
    }
    return broken;
  });

test("a Device Management Platform's Basic card wraps long values between words", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.setViewportSize({ width: 1280, height: 900 });
  await addAcmePlatform(page, "Dead Ends Kandji ACME");
  const basic = page.locator("section.card").filter({ has: page.getByRole("heading", { name: "Basic", exact: true }) });
  await expect(basic).toContainText("ACME Client Certificate Enrollment Token");
  expect(await wordsWhole(basic.locator("dl"))).toEqual([]);
  await shot(page, "dmp-saved");
});
