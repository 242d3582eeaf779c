import "reflect-metadata";
import { expect, test } from "@playwright/test";
import { SimulatedAppleCa, enroll } from "@attested/device-sim";
import { ADMIN, E2E_PORT, KANDJI, METRICS_TOKEN } from "../fixtures/env";
import { addAcmePlatform, addIntermediateCa, addKandjiTemplate, addKeyAttestationPlatform, openTab } from "../fixtures/guide";
import { callServerAction, navigate, shot, signIn, signOut } from "../fixtures/portal";

// The admin guide (docs/guide.md), walked in its order with its labels, as an admin would;
// then the Kandji side with our simulators, and the auditor's check. A screenshot per step.

test.describe.configure({ mode: "serial" });

const n = {
  ca: "Guide ACME Intermediate CA",
  template: "Guide Kandji Template",
  platform: "Guide Kandji ACME",
  core: "Guide Kandji API",
  kap: "Guide Apple Attestation",
  sss: "Guide Kandji Lookup",
  workflow: "Guide Kandji Workflow",
  role: "Guide Apple Devices",
  enrollment: "Guide Kandji Enrollment",
};
const device = KANDJI.devices[0]!; // C02E2E0001, in the Kandji blueprint
const simulatedApple = SimulatedAppleCa.create();
let profileXml = "";

test("Configuring the JoinNow Management Portal, click for click", async ({ page }) => {
  test.setTimeout(180_000);
  await signIn(page, ADMIN.email, ADMIN.password);

  // Creating an Intermediate CA for Kandji SCEP Gateway Integration
  await addIntermediateCa(page, n.ca, "guide-01-intermediate-ca");
  // Creating a Certificate Template for Kandji
  await addKandjiTemplate(page, n.template, "guide-02-certificate-template");
  // Creating an ACME Device Management Platform (Save downloads the .mobileconfig)
  let platformUrl: string;
  ({ profileXml, url: platformUrl } = await addAcmePlatform(page, n.platform, "guide-03-device-management-platform"));
  // No CA can issue to the platform yet, so its profile installs none, and the page says so.
  await expect(page.getByRole("status").filter({ hasText: "installs no CA certificate yet" })).toBeVisible();

  // Creating a Generic HTTP Signal Source
  await navigate(page, "Integration Hub", "Core Platforms");
  await page.getByRole("link", { name: "Add" }).first().click();
  const core = page.getByRole("form", { name: "Add Core Platform" });
  await core.getByLabel("Name").fill(n.core);
  await core.getByLabel("Description").fill("Kandji device lookup");
  await core.getByLabel("Type").selectOption({ label: "Generic HTTP" });
  await core.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(n.core);
  const configuration = await openTab(page, "Configuration");
  await configuration.getByLabel("Authentication Method").selectOption({ label: "Bearer Token" });
  await configuration.getByLabel("Bearer Token").fill(KANDJI.token);
  const api = await openTab(page, "API");
  await api.getByLabel("URI").fill(`${KANDJI.url}/api/v1/devices?serial_number=\${identity}`);
  const validation = api.getByRole("group", { name: "Response Validation" });
  await validation.getByRole("button", { name: "Add" }).click();
  const rule = validation.getByRole("group", { name: "Rule 1" });
  await rule.getByLabel("Response Path").fill("data[0].serial_number");
  await rule.getByLabel("Condition").selectOption({ label: "Exists" });
  await rule.getByLabel("Expected result").fill(device.serial_number);
  await page.getByRole("button", { name: "Validate", exact: true }).click();
  await expect(page.getByTestId("validation-result")).toContainText("Device found");
  await shot(page, "guide-04-generic-http-validate");
  await page.getByRole("button", { name: "Update" }).click();
  await expect(page.getByText("Core Platform updated.")).toBeVisible();

  // Creating a Key Attestation Platform (plus, for the simulator only, its test root)
  await addKeyAttestationPlatform(page, n.kap, (await simulatedApple).rootPem, "guide-05-key-attestation-platform");

  // Creating a Security Signal Source
  await navigate(page, "Policy Management", "Security Signal Sources");
  await page.getByRole("link", { name: "Add Security Signal Source" }).first().click();
  const sss = page.getByRole("form", { name: "Add Security Signal Source" });
  await sss.getByLabel("Name").fill(n.sss);
  await sss.getByLabel("Description").fill("Looks the attested serial up in Kandji");
  await sss.getByLabel("Lookup Purpose").selectOption({ label: "Certificate Issuance" });
  await sss.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(n.sss);
  const settings = await openTab(page, "Settings");
  await settings.getByLabel("Identity Provider Lookup").selectOption({ label: n.core });
  await settings.getByLabel("Identity", { exact: true }).selectOption({ label: "CSR" });
  await settings.getByLabel("Revoke On Failure").check();
  await settings.getByRole("button", { name: "Validate Configuration" }).click();
  const dialog = page.getByRole("dialog", { name: "Validate Configuration" });
  await dialog.getByLabel("Enter a valid identity").fill(device.serial_number);
  await dialog.getByRole("button", { name: "Validate", exact: true }).click();
  await expect(dialog.getByTestId("validation-result")).toContainText("Device found");
  await shot(page, "guide-06-security-signal-source");
  await dialog.getByRole("button", { name: "Close" }).click();
  await page.getByRole("button", { name: "Update" }).click();
  await expect(page.getByText("Security Signal Source updated.")).toBeVisible();

  // Creating a Policy Workflow
  await navigate(page, "Policy Management", "Policy Workflows");
  await page.getByRole("link", { name: "Add Policy Workflow" }).first().click();
  const wf = page.getByRole("form", { name: "Add Policy Workflow" });
  await wf.getByLabel("Name").fill(n.workflow);
  await wf.getByLabel("Display Description").fill("Devices Kandji knows");
  await wf.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(n.workflow);
  const conditions = await openTab(page, "Conditions");
  await conditions.getByLabel("Core Provider").selectOption({ label: n.core });
  await expect(conditions.getByRole("group", { name: "Attributes/Groups" }).getByLabel("Attribute").first()).toHaveValue("ANY");
  // ANY is no condition: there is nothing to fill in until an attribute is chosen.
  const anyRow = conditions.getByRole("group", { name: "Condition 1" });
  await expect(anyRow.getByLabel("Condition", { exact: true })).toBeDisabled();
  await expect(anyRow.getByLabel("Value", { exact: true })).toBeDisabled();
  await shot(page, "guide-07-policy-workflow");
  await page.getByRole("button", { name: "Update" }).click();
  await expect(page.getByText("Policy Workflow updated.")).toBeVisible();

  // Creating a Device Role
  await navigate(page, "Policy Management", "Device Role");
  await page.getByRole("link", { name: "Add Device Role Policy" }).first().click();
  const role = page.getByRole("form", { name: "Add Device Role Policy" });
  await role.getByLabel("Name").fill(n.role);
  await role.getByLabel("Description").fill("Keys attested by Apple");
  await role.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(n.role);
  await (await openTab(page, "Conditions")).getByLabel("Identity").selectOption({ label: n.kap });
  await shot(page, "guide-08-device-role");
  await page.getByRole("button", { name: "Update" }).click();
  await expect(page.getByText("Device Role updated.")).toBeVisible();

  // Creating an Enrollment Policy
  await navigate(page, "Policy Management", "Enrollment");
  await page.getByRole("link", { name: "Add Enrollment Policy" }).first().click();
  const ep = page.getByRole("form", { name: "Add Enrollment Policy" });
  await ep.getByLabel("Name").fill(n.enrollment);
  await ep.getByLabel("Description").fill("Attested, Kandji-managed devices");
  await ep.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(n.enrollment);
  const epConditions = await openTab(page, "Conditions");
  await epConditions.getByLabel("Role", { exact: true }).selectOption({ label: n.workflow });
  await epConditions.getByLabel("Device Role").selectOption({ label: n.role });
  const epSettings = await openTab(page, "Settings");
  await epSettings.getByLabel("Use Certificate Authority").selectOption({ label: `${n.ca} (Intermediate CA)` });
  await epSettings.getByLabel("Use Certificate Template").selectOption({ label: n.template });
  await shot(page, "guide-09-enrollment-policy");
  await page.getByRole("button", { name: "Update" }).click();
  await expect(page.getByText("Enrollment Policy updated.")).toBeVisible();
  // Now the policy's CA issues to the platform: a profile downloaded again installs its chain.
  await page.goto(platformUrl);
  await expect(page.getByTestId("profile-cas")).toContainText(n.ca);
});

const ghost = {
  serialNumber: "C02E2EGHOST1",
  udid: "00008112-0000E2E0000000FF",
  deviceName: "Unmanaged Mac",
  email: "ghost@e2e.test",
  fullName: "Nobody Managed",
};

/** The samples of /metrics (Prometheus text), by name and labels as written. */
async function metrics(): Promise<Map<string, number>> {
  const text = await (await fetch(`http://localhost:${E2E_PORT}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  return new Map(
    text
      .split("\n")
      .filter((l) => l && !l.startsWith("#"))
      .map((l) => [l.slice(0, l.lastIndexOf(" ")), Number(l.slice(l.lastIndexOf(" ") + 1))]),
  );
}

test("Configuring Kandji: the profile reaches a device in the blueprint, which enrolls; a device Kandji does not manage is denied", async () => {
  const before = await metrics();
  // Kandji pushes the downloaded profile to the device and fills in its variables; the device
  // simulator plays the device with that Kandji device's attributes.
  const result = await enroll({
    profile: profileXml,
    ca: await simulatedApple,
    device: {
      serialNumber: device.serial_number,
      udid: "00008112-0000E2E000000001",
      deviceName: device.device_name,
      email: device.user!.email,
      fullName: device.user!.name,
    },
  });
  expect(result.certificatePem).toContain("BEGIN CERTIFICATE");
  // Genuine Apple hardware, but not in Kandji: the Enrollment Policy's lookup finds nothing. The device
  // is told it may not enroll, not why: the reason is for the auditor (the Enrollment Denied event below).
  const refused = await enroll({ profile: profileXml, ca: await simulatedApple, device: ghost }).catch((e) => e);
  expect(refused.problem).toMatchObject({ type: "urn:ietf:params:acme:error:unauthorized", detail: expect.stringContaining("not allowed to enroll") });
  expect(refused.problem.detail).not.toMatch(/not found|Kandji|polic/i);

  // The same two enrollments in the Prometheus metrics an admin alerts on.
  const after = await metrics();
  const delta = (k: string) => (after.get(k) ?? 0) - (before.get(k) ?? 0);
  expect(delta("attested_certificates_issued_total")).toBe(1);
  expect(delta('attested_enrollments_denied_total{code="deviceNotFound"}')).toBe(1);
  expect(delta('attested_attestations_total{result="verified"}')).toBe(2);
  expect(delta(`attested_device_lookup_duration_seconds_count{core_platform="${n.core}",outcome="found"}`)).toBe(1);
  expect(delta(`attested_device_lookup_duration_seconds_count{core_platform="${n.core}",outcome="notFound"}`)).toBe(1);
});

test("Certificate Issuance: an auditor finds Certificate Issued under General Events with the serial", async ({ page }) => {
  const auditor = { email: "guide.auditor@e2e.test", password: "guide-auditor-password-1" };
  await signIn(page, ADMIN.email, ADMIN.password);
  await navigate(page, "Settings", "Users");
  const add = page.getByRole("form", { name: "Add user" });
  await add.getByLabel("Name").fill("Guide Auditor");
  await add.getByLabel("Email").fill(auditor.email);
  await add.getByLabel("Role").selectOption("AUDITOR");
  await add.getByLabel("Initial password").fill(auditor.password);
  await add.getByRole("button", { name: "Add" }).click();
  await expect(page.getByTestId("users-table")).toContainText(auditor.email);
  await signOut(page);

  await signIn(page, auditor.email, auditor.password);
  await navigate(page, "Data and Monitoring", "General Events");
  await page.getByLabel("Search").fill(device.serial_number);
  await page.getByLabel("Type", { exact: true }).selectOption("Certificate Issued");
  await page.getByRole("button", { name: "Apply" }).click();
  const table = page.getByTestId("events-table");
  await expect(table).toContainText("Certificate Issued");
  await expect(table).toContainText(device.serial_number);
  await shot(page, "guide-10-general-events-certificate-issued");
  await page.getByTestId("events-table").getByRole("link", { name: "Certificate Issued" }).first().click();
  const details = page.getByTestId("event-details");
  await expect(details).toContainText(n.enrollment);
  await expect(details).toContainText(n.template);
  await expect(details).toContainText(n.ca);
  // The decision, readable without the JSON: which policy, what the lookup answered, what Apple attested.
  const decision = page.getByTestId("event-decision");
  await expect(decision).toContainText("Allowed");
  const considered = decision.getByRole("table", { name: "Enrollment Policies considered" });
  await expect(considered).toContainText(n.enrollment);
  await expect(considered).toContainText("found");
  await expect(considered).toContainText("Selected");
  await expect(page.getByTestId("event-attestation")).toContainText(device.serial_number);
  await expect(page.getByTestId("event-attestation")).toContainText("00008112-0000E2E000000001");
  // The email is the one the profile put in the device's request, not one Apple or Kandji vouched for.
  await expect(page.getByTestId("event-values")).toContainText(`RFC822: ${device.user!.email}`);
  // The guide's URI SAN reads an attribute the Core Platform does not map: the certificate went without it, and says so.
  await expect(page.getByTestId("event-values")).toContainText("URI left out: ${/device/userDescription} has no value");
  await shot(page, "guide-11-event-detail");

  // The denied device: its Enrollment Denied event says why, in the same form.
  await page.goto(`/data-and-monitoring/general-events?q=${ghost.serialNumber}&type=Enrollment+Denied`);
  await page.getByTestId("events-table").getByRole("link", { name: "Enrollment Denied" }).first().click();
  const denied = page.getByTestId("event-decision");
  await expect(denied).toContainText("Denied: device not found");
  await expect(denied.getByRole("table", { name: "Enrollment Policies considered" })).toContainText("Device not found");
  await expect(denied).toContainText(ghost.serialNumber);
  // What was tried and why it failed, said once: the policy tried is named, the lookup's reason appears once.
  await expect(denied.getByTestId("decision-policy")).toHaveText(`none chosen; tried "${n.enrollment}"`);
  expect(((await denied.textContent()) ?? "").split(`looking up ${ghost.serialNumber}`).length - 1).toBe(1);
  // And once on the whole page: the header says what happened (denied, for which device), the card why.
  await expect(page.getByRole("heading", { level: 1 }).locator("xpath=following-sibling::p")).toHaveText(`Enrollment denied for device ${ghost.serialNumber}`);
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText, which leaves out the closed JSON details
  expect((await page.getByRole("main").innerText()).split(`looking up ${ghost.serialNumber}`).length - 1).toBe(1);
  await expect(page.getByTestId("event-attestation")).toContainText(ghost.udid);
  await shot(page, "guide-12-event-denied");
  await signOut(page);
});

test("After the guide: Preview names the variables with no source and renders a real device; the Signal Source shows its policy", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await navigate(page, "Dynamic PKI", "Certificate Authorities");
  await page.getByRole("link", { name: n.template }).first().click();
  const form = page.getByRole("form", { name: "Certificate Template" });
  await form.getByRole("button", { name: "Preview", exact: true }).click();
  // The sample device has a userDescription; the guide's Core Platform maps no such attribute.
  const unsourced = page.getByTestId("preview-unsourced");
  await expect(unsourced).toContainText("${/device/userDescription}");
  await expect(unsourced).toContainText(`Enrollment Policy "${n.enrollment}": Core Platform "${n.core}" maps no attribute named userdescription`);

  // A real device, looked up in Kandji (the simulator) through the policy's Core Platform.
  const real = page.getByRole("group", { name: "Preview for a real device" });
  await expect(real.getByLabel("Core Platform")).toHaveValue(/./);
  await expect(real.getByLabel("Core Platform").locator("option:checked")).toHaveText(n.core);
  await real.getByLabel("Device serial number").fill("C02NOSUCHDEV");
  await real.getByRole("button", { name: "Preview for this device" }).click();
  await expect(page.getByRole("group", { name: "Preview for a real device" }).getByRole("alert")).toContainText("C02NOSUCHDEV");
  await page.getByRole("group", { name: "Preview for a real device" }).getByLabel("Device serial number").fill(device.serial_number);
  await page.getByRole("group", { name: "Preview for a real device" }).getByRole("button", { name: "Preview for this device" }).click();
  const preview = page.getByRole("region", { name: "Preview" });
  await expect(preview).toContainText(`Preview for device ${device.serial_number}, as "${n.core}" answered`);
  await expect(page.getByTestId("preview-result")).toContainText(`CN=${device.serial_number}`);
  await expect(page.getByTestId("preview-result")).not.toContainText("uri:");
  await expect(page.getByTestId("preview-result")).toContainText("URI left out: ${/device/userDescription} has no value");
  await shot(page, "template-preview-real-device");
  const templatePath = new URL(page.url()).pathname;
  const corePlatformId = await page.getByRole("group", { name: "Preview for a real device" }).getByLabel("Core Platform").inputValue();
  // The lookup was a real call with the stored credential: it is on the trail.
  await page.goto(`/data-and-monitoring/general-events?q=${encodeURIComponent(n.core)}`);
  const latest = page.getByTestId("events-table").locator("tbody tr").first();
  await expect(latest).toContainText(`Core Platform "${n.core}" validated against ${KANDJI.url}: device found`);
  await latest.getByRole("link", { name: "Core Platform Validated" }).click();
  await expect(page.getByTestId("event-details")).toContainText(`"identity": "${device.serial_number}"`);

  // The Security Signal Source is used by the guide's Enrollment Policy (worked out, as at enrollment).
  await navigate(page, "Policy Management", "Security Signal Sources");
  await page.getByRole("link", { name: n.sss }).first().click();
  await expect(page.getByTestId("signal-source-used-by")).toHaveText(`Enrollment Policy "${n.enrollment}"`);
  await shot(page, "signal-source-used-by");
  await signOut(page);

  // An auditor reads the template but cannot make the portal call Kandji with its credential, even by
  // posting the action directly.
  await signIn(page, "guide.auditor@e2e.test", "guide-auditor-password-1");
  await page.goto(templatePath);
  await page.getByRole("form", { name: "Certificate Template" }).getByRole("button", { name: "Preview", exact: true }).click();
  await expect(page.getByTestId("preview-unsourced")).toContainText("${/device/userDescription}");
  await expect(page.getByRole("group", { name: "Preview for a real device" })).toHaveCount(0);
  const forged = await callServerAction(page, templatePath, "previewTemplateAction", {
    name: n.template,
    subject: "CN=${/csr/subject/commonname}",
    previewFor: "device",
    corePlatformId,
    serial: device.serial_number,
  });
  expect(await forged.text()).toContain("Auditors can read but not change anything");
  const gone = await callServerAction(page, templatePath, "previewTemplateAction", { id: "00000000-0000-4000-8000-000000000000", subject: "CN=x" });
  expect(gone.status()).toBe(200);
  expect(await gone.text()).toContain("This Certificate Template no longer exists.");
  await page.goto(`/data-and-monitoring/general-events?type=${encodeURIComponent("Core Platform Validated")}`);
  await expect(page.getByTestId("events-table").locator("tbody tr").first()).toContainText("admin@e2e.test");
});
