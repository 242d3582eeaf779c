import { type Browser, expect, type Page, test } from "@playwright/test";
import { ADMIN } from "../fixtures/env";
import { OIDC, type OidcAccount, startOidcProvider } from "../fixtures/oidc";
import { navigate, shot, signIn, signOut } from "../fixtures/portal";

// Single sign-on through a real OpenID Connect provider in this process (oidc-provider): the admin
// sets it up, people sign in with it, and their group claim decides their role at every sign-in.

const stamp = Date.now();
const accounts: Record<string, OidcAccount> = {
  [`ada${stamp}`]: { email: `ada.sso.${stamp}@e2e.test`, name: "Ada SSO", groups: ["pki-admins", "staff"] },
  [`bob${stamp}`]: { email: `bob.sso.${stamp}@e2e.test`, name: "Bob SSO", groups: ["pki-auditors"] },
  [`eve${stamp}`]: { email: `eve.sso.${stamp}@e2e.test`, name: "Eve SSO", groups: ["marketing"] },
};
let provider: Awaited<ReturnType<typeof startOidcProvider>>;
test.beforeAll(async () => {
  provider = await startOidcProvider(accounts);
});
test.afterAll(async () => provider?.close());

/** A fresh browser (no provider session): "Sign in with single sign-on" as `login`. */
async function ssoSignIn(browser: Browser, login: string): Promise<{ page: Page; close: () => Promise<void> }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto("/sign-in");
  await page.getByRole("button", { name: "Sign in with single sign-on" }).click();
  await page.waitForURL((u) => u.origin === OIDC.issuer);
  await page.getByPlaceholder("Enter any login").fill(login);
  await page.getByPlaceholder("and password").fill("any password: the development login checks none");
  await page.getByRole("button", { name: "Sign-in" }).click();
  await page.getByRole("button", { name: "Continue" }).click();
  await page.waitForURL((u) => !u.href.startsWith(OIDC.issuer));
  return { page, close: () => context.close() };
}

test("an admin sets up single sign-on; groups give Admin or Auditor at every sign-in, and no mapped group is refused", async ({ page, browser }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await navigate(page, "Settings", "Single sign-on");
  const form = page.getByRole("form", { name: "Single sign-on" });
  await form.getByLabel("Issuer URL").fill("http://idp.example.com");
  await form.getByLabel("Client ID").fill(OIDC.clientId);
  await form.getByRole("button", { name: "Save" }).click();
  await expect(form.getByText("Enter the provider's issuer URL").first()).toBeVisible(); // https only (loopback http for tests)
  await form.getByLabel("Issuer URL").fill(OIDC.issuer);
  await form.getByLabel("Client ID").fill(OIDC.clientId);
  await form.getByLabel("Client secret").fill(OIDC.clientSecret);
  await form.getByLabel("Groups claim").fill("groups");
  await form.getByLabel("Role mappings").fill("pki-admins = Admin\npki-auditors = Auditor");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Single sign-on saved")).toBeVisible();
  await expect(page.getByLabel("Client secret")).toHaveValue("");
  await expect(page.locator("body")).not.toContainText(OIDC.clientSecret);
  await shot(page, "single-sign-on-settings");
  await signOut(page);

  const [ada, bob, eve] = Object.keys(accounts) as [string, string, string];
  const admin = await ssoSignIn(browser, ada);
  await expect(admin.page.getByTestId("current-user")).toHaveText(accounts[ada]!.email);
  await expect(admin.page.getByText("Admin", { exact: true })).toBeVisible();
  await admin.close();

  const auditor = await ssoSignIn(browser, bob);
  await expect(auditor.page.getByTestId("current-user")).toHaveText(accounts[bob]!.email);
  await expect(auditor.page.getByText("Auditor", { exact: true })).toBeVisible();
  await auditor.close();

  const refused = await ssoSignIn(browser, eve);
  await expect(refused.page.getByRole("alert").filter({ hasText: "none of your groups is given a role" })).toBeVisible();
  await shot(refused.page, "single-sign-on-refused");
  await refused.close();

  // Ada leaves the admins' group: at her next sign-in she is an auditor.
  accounts[ada]!.groups = ["pki-auditors"];
  const demoted = await ssoSignIn(browser, ada);
  await expect(demoted.page.getByText("Auditor", { exact: true })).toBeVisible();
  await demoted.close();

  // The trail: users created at first sign-in, the role change, the refusal.
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.goto(`/data-and-monitoring/general-events?type=${encodeURIComponent("Sign-in Failed")}`);
  await expect(page.getByRole("row").filter({ hasText: accounts[eve]!.email }).first()).toContainText("no group maps to a role");
  await page.goto(`/data-and-monitoring/general-events?type=${encodeURIComponent("User Updated")}`);
  await expect(page.getByRole("row").filter({ hasText: accounts[ada]!.email }).first()).toContainText("is now Auditor");
  await navigate(page, "Settings", "Users");
  await expect(page.getByRole("row").filter({ hasText: accounts[bob]!.email })).toContainText("Single sign-on");

  // Turn it off again for the other tests (their sign-in page has no SSO button to wait for).
  await navigate(page, "Settings", "Single sign-on");
  const off = page.getByRole("form", { name: "Single sign-on" });
  await off.getByLabel("Issuer URL").fill("");
  await off.getByLabel("Client ID").fill("");
  await off.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Single sign-on is off until")).toBeVisible();
});
