import "reflect-metadata";
import { readdirSync } from "node:fs";
import path from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Browser, type Page, type TestInfo } from "@playwright/test";
import { SimulatedAppleCa, enroll } from "@attested/device-sim";
import { ADMIN } from "../fixtures/env";
import { addAcmePlatform, addIntermediateCa, addKandjiTemplate, addKeyAttestationPlatform, withoutEnrollmentPolicies } from "../fixtures/guide";
import { signIn } from "../fixtures/portal";

// Every page of the portal, as an admin and as an auditor, at 1280 and 1920 px: no sideways
// scrolling, no text cut off in table headers and filters, and axe finds nothing serious.
// The pages come from the app's routes; a route with a [segment] is shown for an object the
// portal holds (made here when the suite has not made one already).

test.describe.configure({ mode: "serial" });

const WIDTHS = [1280, 1920];
const appDir = path.resolve(import.meta.dirname, "../../apps/portal/app/(portal)");

/** Routes of the portal's pages, from its page.tsx files: "/", "/dynamic-pki/certificates/[id]", ... */
function portalRoutes(dir = appDir, prefix = ""): string[] {
  const routes: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile() && entry.name === "page.tsx") routes.push(prefix || "/");
    if (entry.isDirectory()) routes.push(...portalRoutes(path.join(dir, entry.name), `${prefix}/${entry.name}`));
  }
  return routes.sort();
}
const routes = portalRoutes();
const isDynamic = (route: string) => route.includes("[");
// A [segment] is any one path segment but its static siblings ("new", "export").
const routePattern = (route: string) => {
  const parent = route.slice(0, route.indexOf("/["));
  const siblings = readdirSync(path.join(appDir, parent), { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith("["))
    .map((e) => e.name);
  return new RegExp(`^${route.replace(/\[[^\]]+\]/g, `(?!(?:${["new", ...siblings].join("|")})$)[^/]+`)}$`);
};

/** What does not fit: the document scrolls sideways, or a header, label or filter shows less than its text. */
function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const doc = document.documentElement;
    if (doc.scrollWidth > doc.clientWidth) problems.push(`page scrolls sideways: ${doc.scrollWidth} > ${doc.clientWidth} px`);
    const visible = (e: Element) => e.getClientRects().length > 0;
    const name = (e: Element) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ""} "${(e.textContent ?? "").trim().slice(0, 40)}"`;
    for (const e of document.querySelectorAll("th, label")) {
      if (visible(e) && e.scrollWidth > e.clientWidth + 1) problems.push(`${name(e)} cut off: ${e.scrollWidth} > ${e.clientWidth} px`);
    }
    // A select's own scrollWidth ignores its text: measure the chosen option against the room left
    // between its padding and its arrow.
    const canvas = document.createElement("canvas").getContext("2d")!;
    for (const s of document.querySelectorAll("select")) {
      if (!visible(s)) continue;
      const style = getComputedStyle(s);
      canvas.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
      const text = s.selectedOptions[0]?.textContent ?? "";
      const room = s.clientWidth - Number.parseFloat(style.paddingLeft) - Number.parseFloat(style.paddingRight) - 16;
      const width = canvas.measureText(text).width;
      if (width > room) problems.push(`select#${s.id || s.name} shows "${text}" cut off: ${Math.ceil(width)} > ${Math.floor(room)} px`);
    }
    return problems;
  });
}

/** Opens one page at each width; returns what is wrong with it and, for finding pages, its links. */
async function checkPage(page: Page, url: string, who: string, axe: boolean, testInfo: TestInfo) {
  const problems: string[] = [];
  await page.setViewportSize({ width: WIDTHS[0], height: 900 });
  const res = await page.goto(url);
  expect(res?.status(), `${who} ${url}`).toBeLessThan(400);
  await expect(page.getByRole("heading", { level: 1 }).first()).toBeVisible();
  // Axe reads the DOM, not the width: once per page.
  if (axe) {
    const result = await new AxeBuilder({ page }).options({ resultTypes: ["violations"] }).analyze();
    for (const v of result.violations.filter((v) => v.impact === "serious" || v.impact === "critical")) {
      problems.push(`${who} ${url}: axe ${v.impact} ${v.id} (${v.help}) at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
    }
  }
  const links = await page.locator("main a[href^='/']:not([download])").evaluateAll((as) => as.map((a) => a.getAttribute("href")!));
  const tabs = await page.getByRole("tab").evaluateAll((as) => as.map((a) => a.getAttribute("href")).filter((h): h is string => Boolean(h)));
  // Each width on the same load: a resize lays the page out again.
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    for (const p of await layoutProblems(page)) problems.push(`${who} ${width}px ${url}: ${p}`);
    const name = `${who}-${width}${url.replace(/[^a-z0-9]+/gi, "_")}.png`;
    const file = testInfo.outputPath(name);
    await page.screenshot({ path: file });
    await testInfo.attach(name, { path: file, contentType: "image/png" });
  }
  return { problems, links, tabs };
}

/**
 * The admin's pass: each route, a [segment] route for the first object a page links to, and each
 * tab (?tab=) of an object's page. Returns the pages visited, for the auditor's pass.
 */
async function checkEveryPage(page: Page, testInfo: TestInfo): Promise<string[]> {
  const problems: string[] = [];
  const visited: string[] = [];
  const links = new Set<string>();
  const check = async (url: string) => {
    const r = await checkPage(page, url, "admin", true, testInfo);
    visited.push(url);
    problems.push(...r.problems);
    for (const l of r.links) links.add(l);
    return r;
  };
  for (const route of routes.filter((r) => !isDynamic(r))) await check(route);
  const missing: string[] = [];
  for (const route of routes.filter(isDynamic)) {
    const href = [...links].find((h) => routePattern(route).test(h));
    if (!href) {
      missing.push(route);
      continue;
    }
    const { tabs } = await check(href);
    for (const tab of tabs.slice(1)) await check(tab.startsWith("?") ? `${href}${tab}` : tab);
  }
  expect(missing, "routes with no object to show").toEqual([]);
  expect(problems).toEqual([]);
  return visited;
}

// The auditor's own screens get axe too; elsewhere the auditor's page is the admin's, less its controls.
const AUDITOR_AXE = new Set(["/", "/data-and-monitoring/general-events"]);

async function checkAsAuditor(page: Page, pages: string[], testInfo: TestInfo) {
  const problems: string[] = [];
  for (const url of pages) problems.push(...(await checkPage(page, url, "auditor", AUDITOR_AXE.has(url), testInfo)).problems);
  expect(problems).toEqual([]);
}

/** The objects whose pages are checked: made the guide's way when the suite has not made them yet. */
async function ensureObjects(page: Page) {
  const has = async (list: string, prefix: string) => {
    await page.goto(list);
    return (await page.locator(`main a[href^='${prefix}/']:not([href$='/new'])`).count()) > 0;
  };
  if (!(await has("/dynamic-pki/certificates", "/dynamic-pki/certificates"))) {
    // A certificate (and so a device) by the platform's defaults, as enrollment.spec.ts does.
    const simCa = await SimulatedAppleCa.create();
    await addIntermediateCa(page, "Pages CA");
    await addKandjiTemplate(page, "Pages Template");
    const { profileXml, url } = await addAcmePlatform(page, "Pages Platform");
    await addKeyAttestationPlatform(page, "Pages Apple", simCa.rootPem);
    await page.goto(url);
    const settings = page.getByRole("form", { name: "Platform settings" });
    await settings.getByLabel("Default Certificate Authority").selectOption({ label: "Pages CA" });
    await settings.getByLabel("Default Certificate Template").selectOption({ label: "Pages Template" });
    await settings.getByRole("button", { name: "Update" }).click();
    await expect(settings.getByText("Platform updated.")).toBeVisible();
    const device = {
      serialNumber: "C02PAGES0001",
      udid: "00008112-000E2E0000PAGES1",
      deviceName: "Pages Mac",
      email: "pages@example.com",
      fullName: "Pages User",
    };
    // The defaults decide only while no Enrollment Policy is in place.
    await withoutEnrollmentPolicies(page, async () => {
      await enroll({ profile: profileXml, device, ca: simCa });
    });
  }
  const basics: [string, string, string, (p: Page) => Promise<void>][] = [
    [
      "/integration-hub/core-platforms",
      "Add",
      "Add Core Platform",
      (p) =>
        p
          .getByLabel("Type")
          .selectOption({ label: "Generic HTTP" })
          .then(() => {}),
    ],
    [
      "/policy-management/security-signal-sources",
      "Add Security Signal Source",
      "Add Security Signal Source",
      (p) =>
        p
          .getByLabel("Lookup Purpose")
          .selectOption({ label: "Certificate Issuance" })
          .then(() => {}),
    ],
    ["/policy-management/policy-workflows", "Add Policy Workflow", "Add Policy Workflow", async () => {}],
    ["/policy-management/device-role", "Add Device Role Policy", "Add Device Role Policy", async () => {}],
    ["/policy-management/enrollment", "Add Enrollment Policy", "Add Enrollment Policy", async () => {}],
  ];
  for (const [list, link, formName, more] of basics) {
    if (await has(list, list)) continue;
    await page.getByRole("link", { name: link }).first().click();
    const form = page.getByRole("form", { name: formName });
    await form.getByLabel("Name").fill(`Pages ${formName.replace("Add ", "")}`);
    await more(page);
    await form.getByRole("button", { name: "Save" }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(`Pages ${formName.replace("Add ", "")}`);
  }
}

/** The Getting started checklist ticks a step exactly when its list holds an object; hidden, every list does. */
async function checklistMatchesLists(page: Page, testInfo: TestInfo) {
  const lists: Record<string, [string, string]> = {
    "certificate-template": ["/dynamic-pki/certificate-authorities", "/dynamic-pki/certificate-templates/"],
    "device-management-platform": ["/integration-hub/device-management-platforms", ""],
    "core-platform": ["/integration-hub/core-platforms", ""],
    "key-attestation-platform": ["/integration-hub/key-attestation-platforms", ""],
    "security-signal-source": ["/policy-management/security-signal-sources", ""],
    "policy-workflow": ["/policy-management/policy-workflows", ""],
    "device-role": ["/policy-management/device-role", ""],
    "enrollment-policy": ["/policy-management/enrollment", ""],
    "certificate-issuance": ["/dynamic-pki/certificates", ""],
  };
  await page.goto("/");
  const checklist = page.getByTestId("getting-started");
  const shown = await checklist.isVisible();
  if (shown) await testInfo.attach("admin-getting-started.png", { body: await page.screenshot(), contentType: "image/png" });
  const ticked: Record<string, boolean> = {};
  if (shown) {
    for (const li of await checklist.locator("li").all()) {
      const done = (await li.getAttribute("data-done")) === "true";
      ticked[(await li.getAttribute("data-step"))!] = done;
      // Each step is a link: to its Add page while to do.
      const href = (await li.getByRole("link").getAttribute("href"))!;
      if (!done && (await li.getAttribute("data-step")) !== "configure-kandji" && (await li.getAttribute("data-step")) !== "certificate-issuance") {
        expect(href).toMatch(/\/new$/);
      }
    }
  }
  for (const [step, [list, prefix]] of Object.entries(lists)) {
    await page.goto(list);
    const objects = await page.locator(`main a[href^='${prefix || `${list}/`}']:not([href$='/new'])`).count();
    expect(shown ? ticked[step] : true, `${step} ticked`).toBe(objects > 0);
  }
  return shown;
}

async function signedIn(browser: Browser, email: string, password: string) {
  const context = await browser.newContext({ viewport: { width: WIDTHS[0], height: 900 } });
  const page = await context.newPage();
  await signIn(page, email, password);
  return { context, page };
}

let pages: string[] = [];
const auditor = { email: `pages.auditor.${Date.now()}@e2e.test`, password: "pages-auditor-password-1" };

test("every page as an admin, at 1280 and 1920 px", async ({ browser }, testInfo) => {
  test.setTimeout(300_000);
  const { context, page } = await signedIn(browser, ADMIN.email, ADMIN.password);
  await checklistMatchesLists(page, testInfo);
  await ensureObjects(page);
  await checklistMatchesLists(page, testInfo);
  await page.goto("/settings/users");
  const add = page.getByRole("form", { name: "Add user" });
  await add.getByLabel("Name").fill("Pages Auditor");
  await add.getByLabel("Email").fill(auditor.email);
  await add.getByLabel("Role").selectOption("AUDITOR");
  await add.getByLabel("Initial password").fill(auditor.password);
  await add.getByRole("button", { name: "Add" }).click();
  await expect(page.getByTestId("users-table")).toContainText(auditor.email);

  pages = await checkEveryPage(page, testInfo);
  await context.close();

  // The one page outside the portal's layout.
  const anonymous = await browser.newContext({ viewport: { width: WIDTHS[0], height: 900 } });
  expect((await checkPage(await anonymous.newPage(), "/sign-in", "anonymous", true, testInfo)).problems).toEqual([]);
  await anonymous.close();
});

test("every page as an auditor, at 1280 and 1920 px", async ({ browser }, testInfo) => {
  test.setTimeout(300_000);
  expect(pages.length).toBeGreaterThan(routes.length);
  const { context, page } = await signedIn(browser, auditor.email, auditor.password);
  // The auditor lands on the last 24 hours; each count opens General Events filtered to just those events.
  await expect(page).toHaveURL((u) => u.pathname === "/");
  const day = page.getByTestId("last-24h");
  const issued = day.getByRole("link", { name: /^Certificates issued\W*\d+$/ });
  const count = Number((await issued.textContent())!.match(/\d+$/)![0]);
  expect(count).toBeGreaterThan(0);
  await issued.click();
  await expect(page.getByLabel("Type", { exact: true })).toHaveValue("Certificate Issued");
  const types = page.getByTestId("events-table").locator("tbody tr td:nth-child(2)");
  await expect(types).toHaveCount(Math.min(count, 50));
  expect(new Set(await types.allTextContents())).toEqual(new Set(["Certificate Issued"]));
  await page.goto("/");
  const reasons = day.getByRole("list", { name: "Denied by reason" }).getByRole("link");
  if ((await reasons.count()) > 0) {
    // After guide.spec.ts: the device Kandji does not know was denied.
    const reason = (await reasons.first().textContent())!;
    const n = Number(await reasons.first().locator("xpath=..").locator("span").last().textContent());
    await reasons.first().click();
    await expect(page.getByTestId("linked-filter")).toContainText(`Denial reason: ${reason}`);
    await expect(types).toHaveCount(Math.min(n, 50));
    expect(new Set(await types.allTextContents())).toEqual(new Set(["Enrollment Denied"]));
  }
  await checkAsAuditor(page, pages, testInfo);
  await context.close();
});
