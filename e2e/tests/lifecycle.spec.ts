import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { expect, test } from "@playwright/test";
import { SMTPServer } from "smtp-server";
import { ADMIN } from "../fixtures/env";
import { callServerAction, navigate, shot, signIn, signOut, turnMailOff } from "../fixtures/portal";

// Settings > Mail (field errors, write-only password, a real test mail to an SMTP server running
// here), General Events filters and CSV export, and an auditor who can read but not change mail.

test.describe.configure({ mode: "serial" });

const AUDITOR = { name: "Lena Lifecycle", email: "lifecycle-auditor@e2e.test", password: "lifecycle-auditor-pass-1" };
const SMTP_PASSWORD = "e2e-Smtp-Secret-42";
const received: { to: string[]; data: string }[] = [];
/** General Events filtered as in the second test: the admin's successful settings changes. */
const SETTINGS_CHANGES = new URLSearchParams({ actor: ADMIN.email, objectType: "settings", outcome: "success" }).toString();
let settingsChangesBefore = 0;
let smtp: SMTPServer;
let smtpPort = 0;

test.beforeAll(async () => {
  smtp = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        received.push({ to: session.envelope.rcptTo.map((r) => r.address), data: Buffer.concat(chunks).toString("utf8") });
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, "127.0.0.1", () => r()));
  smtpPort = (smtp.server.address() as AddressInfo).port;
});
test.afterAll(async () => {
  await new Promise<void>((r) => smtp.close(() => r()));
});

test("an admin sets up Settings > Mail: field errors, a write-only password, and a test mail", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  // An auditor for the last test.
  await navigate(page, "Settings", "Users");
  const add = page.getByRole("form", { name: "Add user" });
  await add.getByLabel("Name").fill(AUDITOR.name);
  await add.getByLabel("Email").fill(AUDITOR.email);
  await add.getByLabel("Role").selectOption("AUDITOR");
  await add.getByLabel("Initial password").fill(AUDITOR.password);
  await add.getByRole("button", { name: "Add" }).click();
  await expect(page.getByTestId("users-table")).toContainText(AUDITOR.email);

  // Other specs may have set mail up or changed settings before this one: start from mail off, and
  // count the admin's settings changes so far for the filtered view below.
  await turnMailOff(page);
  await page.goto(`/data-and-monitoring/general-events?${SETTINGS_CHANGES}`);
  settingsChangesBefore = await page.getByTestId("events-table").locator("tbody tr").count();
  await navigate(page, "Settings", "Mail");
  await expect(page.getByText("Mail off", { exact: true })).toBeVisible();
  const form = page.getByRole("form", { name: "Mail settings" });
  await form.getByLabel("SMTP host").fill("smtp.example.com");
  await form.getByLabel("Port").fill("99999");
  await form.getByLabel("From address").fill("not-an-address");
  await form.getByLabel("Password", { exact: true }).fill(SMTP_PASSWORD);
  await form.getByRole("button", { name: "Save" }).click();
  await expect(form.getByText("Please correct the highlighted fields.")).toBeVisible();
  await expect(form.getByText("Enter a port from 1 to 65535")).toBeVisible();
  await expect(form.getByLabel("Port")).toHaveAttribute("aria-invalid", "true");
  // The rejected form keeps what was typed, except the password.
  await expect(form.getByLabel("SMTP host")).toHaveValue("smtp.example.com");
  await expect(form.getByLabel("Password", { exact: true })).toHaveValue("");
  await shot(page, "lifecycle-01-mail-field-errors");

  await form.getByLabel("Port").fill("587");
  await form.getByLabel("From address").fill("pki@e2e.test");
  await form.getByLabel("Username").fill("mailer");
  await form.getByLabel("Password", { exact: true }).fill(SMTP_PASSWORD);
  await form.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Mail settings saved.")).toBeVisible();
  await expect(page.getByText("A password is saved.")).toBeVisible();
  await expect(form.getByLabel("Password", { exact: true })).toHaveValue("");
  expect(await page.content()).not.toContain(SMTP_PASSWORD);
  await page.reload();
  expect(await page.content()).not.toContain(SMTP_PASSWORD);
  await expect(form.getByLabel("Username")).toHaveValue("mailer");

  // Point it at the test SMTP server (no authentication there: the saved password goes with the username).
  await form.getByLabel("SMTP host").fill("127.0.0.1");
  await form.getByLabel("Port").fill(String(smtpPort));
  await form.getByLabel("Username").fill("");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Mail settings saved.")).toBeVisible();
  await expect(page.getByText("Mail on", { exact: true })).toBeVisible();

  const test = page.getByRole("form", { name: "Send test mail" });
  await test.getByLabel("Send to").fill("nobody");
  await test.getByRole("button", { name: "Send test mail" }).click();
  await expect(test.getByText("Enter a valid email address")).toBeVisible();
  await test.getByLabel("Send to").fill("ops@e2e.test");
  await test.getByRole("button", { name: "Send test mail" }).click();
  await expect(page.getByText("Test mail sent to ops@e2e.test.")).toBeVisible();
  expect(received.at(-1)?.to).toEqual(["ops@e2e.test"]);
  expect(received.at(-1)?.data).toContain("Subject: Attested PKI test mail");
  await shot(page, "lifecycle-02-mail-saved");

  // Settings > Events: the retention period, with bounds.
  await navigate(page, "Settings", "Events");
  const retention = page.getByRole("form", { name: "Event retention" });
  await retention.getByLabel("Keep events for (days)").fill("7");
  await retention.getByRole("button", { name: "Save" }).click();
  await expect(retention.getByText("Keep events at least 30 days")).toBeVisible();
  await retention.getByLabel("Keep events for (days)").fill("365");
  await retention.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Events older than 365 days will be deleted daily.")).toBeVisible();
  await signOut(page);
});

test("General Events: filter by outcome, actor and object, then download the filtered view as CSV", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await navigate(page, "Data and Monitoring", "General Events");
  const filters = page.getByRole("form", { name: "Filter events" });
  await filters.getByLabel("Actor", { exact: true }).fill(ADMIN.email.toUpperCase());
  await filters.getByLabel("Object type").selectOption("settings");
  await filters.getByLabel("Outcome").selectOption("success");
  await filters.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/objectType=settings/);
  const table = page.getByTestId("events-table");
  await expect(table).toContainText("Mail settings updated");
  await expect(table).not.toContainText("Sign In");
  const rows = await table.locator("tbody tr").count();
  // The two saves of Settings > Mail and the retention change (rejected forms record nothing).
  expect(rows).toBe(settingsChangesBefore + 3);
  await shot(page, "lifecycle-03-general-events-filtered");

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-csv").click()]);
  expect(download.suggestedFilename()).toMatch(/^general-events-\d{8}T\d{6}\.csv$/);
  const csv = readFileSync((await download.path())!, "utf8")
    .trimEnd()
    .split("\r\n");
  expect(csv[0]).toBe("id,time,type,outcome,actorType,actorName,actorId,objectType,objectId,objectName,certificateSerial,deviceSerial,summary,details");
  expect(csv).toHaveLength(1 + rows);
  for (const line of csv.slice(1)) expect(line).toContain(`"Settings Updated","success","user","${ADMIN.email}"`);
  expect(csv.join("\n")).not.toContain(SMTP_PASSWORD);

  // The test mail is an object of its own type.
  await page.goto("/data-and-monitoring/general-events?objectType=mail");
  await expect(table).toContainText("Test mail sent to ops@e2e.test");
  // The export itself is on the trail.
  await page.goto("/data-and-monitoring/general-events?type=Events+Exported");
  await expect(table).toContainText("General Events exported as CSV");
  await signOut(page);
});

test("an auditor reads Settings > Mail but cannot change it, even by calling the server action", async ({ page }) => {
  await signIn(page, AUDITOR.email, AUDITOR.password);
  await navigate(page, "Settings", "Mail");
  const form = page.getByRole("form", { name: "Mail settings" });
  await expect(page.getByText("Auditors can read these settings; only admins change them.")).toBeVisible();
  await expect(form.getByLabel("SMTP host")).toHaveValue("127.0.0.1");
  await expect(form.getByLabel("SMTP host")).toBeDisabled();
  await expect(form.getByRole("button", { name: "Save" })).toHaveCount(0);
  await expect(page.getByRole("form", { name: "Send test mail" })).toHaveCount(0);
  await shot(page, "lifecycle-04-mail-auditor");

  const res = await callServerAction(page, "/settings/mail", "updateMailSettingsAction", { host: "evil.example.com", from: "evil@example.com" });
  expect(await res.text()).toContain("Auditors can read but not change anything.");
  const test = await callServerAction(page, "/settings/mail", "sendTestMailAction", { to: "evil@example.com" });
  expect(await test.text()).toContain("Auditors can read but not change anything.");
  await page.reload();
  await expect(form.getByLabel("SMTP host")).toHaveValue("127.0.0.1");
  expect(received.some((m) => m.to.includes("evil@example.com"))).toBe(false);

  // Auditors may export what they read.
  const csv = await page.request.get("/data-and-monitoring/general-events/export?type=Access+Denied");
  expect(csv.status()).toBe(200);
  expect(csv.headers()["content-type"]).toContain("text/csv");
  expect(await csv.text()).toContain(`${AUDITOR.email} may not change mail settings`);
  await signOut(page);
  const anonymous = await page.request.get("/data-and-monitoring/general-events/export");
  expect(anonymous.status()).toBe(401);
});
