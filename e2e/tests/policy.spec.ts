import { expect, test, type Page } from "@playwright/test";
import { ADMIN, KANDJI } from "../fixtures/env";
import { callServerAction, navigate, shot, signIn, signOut } from "../fixtures/portal";

// The guide's "Creating a Generic HTTP Signal Source" and "Policy Management in JoinNow" sections,
// click for click with its labels, against the Kandji simulator (e2e/fixtures/server.ts).

test.describe.configure({ mode: "serial" });

const SERIAL = KANDJI.devices[0]!.serial_number; // C02E2E0001; C02E2E00012 also exists (partial match)
const names = {
  kap: "Apple MDA",
  ca: "Policy Intermediate CA",
  template: "Kandji Device Template",
  core: "Kandji Devices",
  sss: "Kandji Device Lookup",
  workflow: "Kandji Managed Devices",
  role: "Apple Attested Devices",
  enrollment: "Kandji ACME Enrollment",
};

const tab = (page: Page, name: string) => page.getByRole("tabpanel", { name });
const openTab = async (page: Page, name: string) => {
  await page.getByRole("tab", { name, exact: true }).click();
  await expect(page.getByRole("tab", { name, exact: true })).toHaveAttribute("aria-selected", "true");
  await expect(tab(page, name)).toBeVisible();
};

test("prerequisites from the guide's earlier sections: a Key Attestation Platform, an Intermediate CA, a template", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await navigate(page, "Integration Hub", "Key Attestation Platforms");
  await page.getByRole("link", { name: "Add" }).first().click();
  const kap = page.getByRole("form", { name: "Add Key Attestation Platform" });
  await kap.getByLabel("Name").fill(names.kap);
  await kap.getByLabel("Type").selectOption({ label: "Apple" });
  await kap.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(names.kap);

  await navigate(page, "Dynamic PKI", "Certificate Authorities");
  await page.getByRole("link", { name: "Add Certificate Authority" }).click();
  const ca = page.getByRole("form", { name: "Add Certificate Authority" });
  await ca.getByLabel("Generate CA For").selectOption("Device and User Authentication");
  await ca.getByLabel("Type").selectOption({ label: "Intermediate CA" });
  await ca.getByLabel("Certificate Authority", { exact: true }).selectOption({ label: "Acme Corp Root CA (default Root CA)" });
  await ca.getByLabel("Generate via").selectOption({ label: "Internal system (private key locked and non-exportable)" });
  await ca.getByLabel("Common Name").fill(names.ca);
  await ca.getByLabel("Key Size").selectOption({ label: "2048" });
  await ca.getByLabel("Signature Algorithm").selectOption("SHA-256");
  await ca.getByLabel("Validity Period (in years)").fill("5");
  await ca.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(names.ca);

  await navigate(page, "Dynamic PKI", "Certificate Authorities");
  await page.getByRole("link", { name: "Add Certificate Template" }).first().click();
  const t = page.getByRole("form", { name: "Certificate Template" });
  await t.getByLabel("Name", { exact: true }).fill(names.template);
  await t.getByLabel("Subject", { exact: true }).fill("CN=${/csr/subject/commonname},OU=${/device/deviceName}");
  await t.getByLabel("Validity Period", { exact: true }).fill("365");
  await t.getByLabel("Signature Algorithm").selectOption("SHA-256");
  await t.getByLabel("RFC822").fill("${/device/email}");
  await t.getByLabel("Client Authentication").check();
  await t.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Certificate template saved.")).toBeVisible();
});

test("Creating a Generic HTTP Signal Source, click for click, with Validate against Kandji", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  // 1. Navigate to Integration Hub > Core Platforms.  2. Click Add.
  await navigate(page, "Integration Hub", "Core Platforms");
  await page.getByRole("link", { name: "Add" }).first().click();
  // 3-5. Basic: Name, Description, Type Generic HTTP.  6. Click Save.
  const add = page.getByRole("form", { name: "Add Core Platform" });
  await add.getByRole("button", { name: "Save" }).click();
  await expect(add.getByText("Name is required")).toBeVisible();
  await add.getByLabel("Name").fill(names.core);
  await add.getByLabel("Description").fill("Kandji device lookup during ACME enrollment");
  await add.getByLabel("Type").selectOption({ label: "Generic HTTP" });
  await shot(page, "policy-01-add-core-platform");
  await add.getByRole("button", { name: "Save" }).click();
  // The page refreshes, and the Configuration, API, Attribute Mapping and Groups tabs appear.
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(names.core);
  for (const name of ["Configuration", "API", "Attribute Mapping", "Groups"]) await expect(page.getByRole("tab", { name, exact: true })).toBeVisible();

  // 7-9. Configuration: Authentication Method Bearer Token, then the token from Kandji.
  await openTab(page, "Configuration");
  await tab(page, "Configuration").getByLabel("Authentication Method").selectOption({ label: "Bearer Token" });
  await tab(page, "Configuration").getByLabel("Bearer Token").fill(KANDJI.token);
  await shot(page, "policy-02-configuration");

  // 10-11. API: the organization's API URL, with the serial as ${identity}.
  await openTab(page, "API");
  await tab(page, "API").getByLabel("URI").fill(`${KANDJI.url}/api/v1/devices?serial_number=\${identity}`);
  // 12. Response Validation: Add; data[0].serial_number; Exists; a valid serial number; Validate.
  const validation = tab(page, "API").getByRole("group", { name: "Response Validation" });
  await validation.getByRole("button", { name: "Add" }).click();
  const rule1 = validation.getByRole("group", { name: "Rule 1" });
  await rule1.getByLabel("Response Path").fill("data[0].serial_number");
  await rule1.getByLabel("Condition").selectOption({ label: "Exists" });
  await rule1.getByLabel("Expected result").fill(SERIAL);
  await page.getByRole("button", { name: "Validate", exact: true }).click();
  const result = page.getByTestId("validation-result");
  await expect(result).toContainText("Device found");
  await expect(page.getByTestId("validation-status")).toHaveText("200");
  await expect(result).toContainText(`${SERIAL} (Expected result of rule 1)`);
  await expect(result.getByRole("table", { name: "Rule results" })).toContainText("Passed");
  // Kandji matched C02E2E0001 and C02E2E00012: nothing pins the answer to this serial yet.
  await expect(result).toContainText("No rule compares the response to ${identity} exactly");
  await shot(page, "policy-03-api-validate");
  // 13. Click Update.
  await page.getByRole("button", { name: "Update" }).click();
  await expect(page.getByText("Core Platform updated.")).toBeVisible();
  await expect(page.getByTestId("unpinned-warning")).toBeVisible();

  // Beyond the guide: pin the serial exactly, map attributes and groups, and validate again.
  await validation.getByRole("button", { name: "Add" }).click();
  const rule2 = validation.getByRole("group", { name: "Rule 2" });
  await rule2.getByLabel("Response Path").fill("data[0].serial_number");
  await rule2.getByLabel("Condition").selectOption({ label: "Equals" });
  await rule2.getByLabel("Expected result").fill("${identity}");
  await openTab(page, "Attribute Mapping");
  const mapping = tab(page, "Attribute Mapping");
  await mapping.getByRole("button", { name: "Add" }).click();
  await mapping.getByRole("group", { name: "Mapping 1" }).getByLabel("Response Path").fill("data[0].user.email");
  await mapping.getByRole("group", { name: "Mapping 1" }).getByLabel("Attribute").fill("email");
  await mapping.getByRole("button", { name: "Add" }).click();
  await mapping.getByRole("group", { name: "Mapping 2" }).getByLabel("Response Path").fill("data[0].device_name");
  await mapping.getByRole("group", { name: "Mapping 2" }).getByLabel("Attribute").fill("deviceName");
  await openTab(page, "Groups");
  await tab(page, "Groups").getByLabel("Groups").fill("data[0].blueprint_name, data[0].tags");
  // The unsaved values of every tab are what Validate tries.
  await page.getByLabel("Identity to validate with").fill(SERIAL);
  await page.getByRole("button", { name: "Validate", exact: true }).click();
  await expect(result.getByRole("table", { name: "Mapped attributes" })).toContainText("${/device/email}");
  await expect(result.getByRole("table", { name: "Mapped attributes" })).toContainText("ada@e2e.test");
  await expect(result).toContainText("engineering");
  await expect(result).not.toContainText("No rule compares the response");
  await shot(page, "policy-04-groups-validate");
  // A serial that is only the start of another device's is refused by the exact rule.
  await page.getByLabel("Identity to validate with").fill("C02E2E000");
  await page.getByRole("button", { name: "Validate", exact: true }).click();
  await expect(result).toContainText("Not found");
  await expect(page.getByTestId("validation-reason")).toHaveText('rule failed: data[0].serial_number equals "C02E2E000": actual "C02E2E0001"');
  await page.getByRole("button", { name: "Update" }).click();
  await expect(page.getByText("Core Platform updated.")).toBeVisible();
  await openTab(page, "API");
  await expect(page.getByTestId("unpinned-warning")).toHaveCount(0);

  // The token is stored, never shown again; a wrong one, unsaved, is what Validate tries.
  await openTab(page, "Configuration");
  await expect(tab(page, "Configuration").getByLabel("Bearer Token")).toHaveValue("");
  await expect(tab(page, "Configuration")).toContainText("A Bearer Token is stored (encrypted)");
  expect(await page.content()).not.toContain(KANDJI.token);
  await tab(page, "Configuration").getByLabel("Bearer Token").fill("not-the-token");
  await openTab(page, "API");
  await page.getByLabel("Identity to validate with").fill(SERIAL);
  await page.getByRole("button", { name: "Validate", exact: true }).click();
  await expect(page.getByTestId("validation-status")).toHaveText("401");
  await expect(page.getByTestId("validation-reason")).toHaveText("HTTP 401 (Incorrect authentication credentials.)");
  await page.reload();
});

test("Creating a Security Signal Source, with Validate Configuration", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  // 1. Go to Policy Management > Security Signal Sources.  2. Click Add Security Signal Source.
  await navigate(page, "Policy Management", "Security Signal Sources");
  await page.getByRole("link", { name: "Add Security Signal Source" }).first().click();
  const add = page.getByRole("form", { name: "Add Security Signal Source" });
  // 3. Name and description.  4. Lookup Purpose: Certificate Issuance.  5. Save.
  await add.getByLabel("Name").fill(names.sss);
  await add.getByLabel("Description").fill("Looks the attested serial up in Kandji");
  await add.getByLabel("Lookup Purpose").selectOption({ label: "Certificate Issuance" });
  await add.getByRole("button", { name: "Save" }).click();
  // 6. The page refreshes, and the Conditions and Settings tabs are displayed.
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(names.sss);
  await expect(page.getByRole("tab", { name: "Conditions" })).toBeVisible();
  await expect(page.getByRole("tab", { name: "Settings" })).toBeVisible();
  // 7. Settings.  8. Identity Provider Lookup.  9. Identity.  10. Revoke On Failure.
  await openTab(page, "Settings");
  const settings = tab(page, "Settings");
  await settings.getByLabel("Identity Provider Lookup").selectOption({ label: names.core });
  await settings.getByLabel("Identity", { exact: true }).selectOption({ label: "CSR" });
  await expect(settings.getByLabel("Lookup attribute")).toHaveValue("/attestation/serialNumber");
  await settings.getByLabel("Revoke On Failure").check();
  // 11. Validate Configuration.  12. Enter a valid identity, then Validate.
  await settings.getByRole("button", { name: "Validate Configuration" }).click();
  const dialog = page.getByRole("dialog", { name: "Validate Configuration" });
  await dialog.getByLabel("Enter a valid identity").fill(SERIAL);
  await dialog.getByRole("button", { name: "Validate", exact: true }).click();
  await expect(dialog.getByTestId("validation-result")).toContainText("Device found");
  await expect(dialog.getByTestId("validation-result")).toContainText(names.core);
  await shot(page, "policy-05-validate-configuration");
  await dialog.getByLabel("Enter a valid identity").fill("NOTINKANDJI");
  await dialog.getByRole("button", { name: "Validate", exact: true }).click();
  await expect(dialog.getByTestId("validation-reason")).toHaveText("device not found");
  await dialog.getByRole("button", { name: "Close" }).click();
  // 13. Click Update.
  await page.getByRole("button", { name: "Update" }).click();
  await expect(page.getByText("Security Signal Source updated.")).toBeVisible();
  await navigate(page, "Policy Management", "Security Signal Sources");
  const row = page.getByTestId("signal-source-table").getByRole("row", { name: new RegExp(names.sss) });
  await expect(row).toContainText("Certificate Issuance");
  await expect(row).toContainText(names.core);
  await expect(row).toContainText("Yes");
});

test("Creating a Policy Workflow: Core Provider, Attributes/Groups ANY", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await navigate(page, "Policy Management", "Policy Workflows");
  await page.getByRole("link", { name: "Add Policy Workflow" }).first().click();
  const add = page.getByRole("form", { name: "Add Policy Workflow" });
  await add.getByLabel("Name").fill(names.workflow);
  await add.getByLabel("Display Description").fill("Devices Kandji knows");
  await add.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(names.workflow);
  await openTab(page, "Conditions");
  const conditions = tab(page, "Conditions");
  await conditions.getByLabel("Core Provider").selectOption({ label: names.core });
  const any = conditions.getByRole("group", { name: "Attributes/Groups" }).getByRole("group", { name: "Condition 1" }).getByLabel("Attribute");
  await expect(any).toHaveValue("ANY");
  // The mapped attributes are offered, should a condition be wanted.
  await expect(any.locator("option")).toHaveText(["ANY", "email", "deviceName", "Groups"]);
  await shot(page, "policy-06-policy-workflow");
  await page.getByRole("button", { name: "Update" }).click();
  await expect(page.getByText("Policy Workflow updated.")).toBeVisible();
  await navigate(page, "Policy Management", "Policy Workflows");
  await expect(page.getByTestId("workflow-table").getByRole("row", { name: new RegExp(names.workflow) })).toContainText("ANY");
});

test("Creating a Device Role: Identity = the Key Attestation Platform", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await navigate(page, "Policy Management", "Device Role");
  await page.getByRole("link", { name: "Add Device Role Policy" }).first().click();
  const add = page.getByRole("form", { name: "Add Device Role Policy" });
  await add.getByLabel("Name").fill(names.role);
  await add.getByLabel("Description").fill("Keys attested by Apple");
  await add.getByRole("button", { name: "Save" }).click();
  // The page refreshes, and the Conditions tab opens.
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(names.role);
  await openTab(page, "Conditions");
  await tab(page, "Conditions").getByLabel("Identity").selectOption({ label: names.kap });
  await page.getByRole("button", { name: "Update" }).click();
  await expect(page.getByText("Device Role updated.")).toBeVisible();
});

test("Creating an Enrollment Policy: Role and Device Role, then CA and template", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await navigate(page, "Policy Management", "Enrollment");
  await page.getByRole("link", { name: "Add Enrollment Policy" }).first().click();
  const add = page.getByRole("form", { name: "Add Enrollment Policy" });
  await add.getByLabel("Name").fill(names.enrollment);
  await add.getByLabel("Description").fill("Attested, Kandji-managed devices");
  await add.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(names.enrollment);
  await expect(page.getByRole("tab", { name: "Conditions" })).toBeVisible();
  await expect(page.getByRole("tab", { name: "Settings" })).toBeVisible();
  await openTab(page, "Conditions");
  await tab(page, "Conditions").getByLabel("Role", { exact: true }).selectOption({ label: names.workflow });
  await tab(page, "Conditions").getByLabel("Device Role").selectOption({ label: names.role });
  await openTab(page, "Settings");
  await tab(page, "Settings")
    .getByLabel("Use Certificate Authority")
    .selectOption({ label: `${names.ca} (Intermediate CA)` });
  await tab(page, "Settings").getByLabel("Use Certificate Template").selectOption({ label: names.template });
  await shot(page, "policy-07-enrollment-settings");
  // One Update saves both tabs.
  await page.getByRole("button", { name: "Update" }).click();
  await expect(page.getByText("Enrollment Policy updated.")).toBeVisible();
  await navigate(page, "Policy Management", "Enrollment");
  const row = page.getByTestId("enrollment-table").getByRole("row", { name: new RegExp(names.enrollment) });
  await expect(row).toContainText("100");
  await expect(row).toContainText(names.workflow);
  await expect(row).toContainText(names.ca);
  await expect(row).toContainText("Active");
  await shot(page, "policy-08-enrollment-list");
});

test("an object in use cannot be deleted, and the message says where; the trail shows every change", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await navigate(page, "Integration Hub", "Core Platforms");
  await page.getByTestId("core-platform-table").getByRole("link", { name: names.core }).click();
  page.once("dialog", (d) => void d.accept());
  await page.getByRole("form", { name: "Delete" }).getByRole("button", { name: "Delete" }).click();
  await expect(page.getByRole("form", { name: "Delete" }).getByRole("alert")).toHaveText(
    `Core Platform "${names.core}" is used by Security Signal Source "${names.sss}", Policy Workflow "${names.workflow}": change those first.`,
  );
  await navigate(page, "Policy Management", "Device Role");
  await page.getByTestId("device-role-table").getByRole("link", { name: names.role }).click();
  page.once("dialog", (d) => void d.accept());
  await page.getByRole("button", { name: "Delete" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "is used by" })).toHaveText(
    `Device Role "${names.role}" is used by Enrollment Policy "${names.enrollment}": change those first.`,
  );

  await page.goto("/data-and-monitoring/general-events?type=Core+Platform+Updated");
  const table = page.getByTestId("events-table");
  await expect(table).toContainText(`Core Platform "${names.core}" updated`);
  await expect(table).toContainText("credential replaced");
  expect(await page.content()).not.toContain(KANDJI.token);
  await page.goto("/data-and-monitoring/general-events?type=Policy+Updated");
  await expect(table).toContainText(`Enrollment Policy "${names.enrollment}" updated`);
  await shot(page, "policy-09-events");
});

test("REST: the same objects, secrets never returned; RADIUS authorize answers Admin tokens only", async ({ page, request }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  let last = "";
  const token = async (name: string, scope: "ADMIN" | "AUDITOR") => {
    await navigate(page, "Settings", "API Tokens");
    const form = page.getByRole("form", { name: "Create API token" });
    await form.getByLabel("Name").fill(name);
    await form.getByLabel("Scope").selectOption(scope);
    await form.getByRole("button", { name: "Add" }).click();
    // The page may still show the previous token for a moment.
    await expect(page.getByTestId("new-token")).toHaveValue(/^apki_/);
    await expect(page.getByTestId("new-token")).not.toHaveValue(last);
    return (last = await page.getByTestId("new-token").inputValue());
  };
  const admin = { Authorization: `Bearer ${await token("policy-admin", "ADMIN")}` };
  const auditor = { Authorization: `Bearer ${await token("policy-auditor", "AUDITOR")}` };

  const list = await request.get("/api/v1/core-platforms", { headers: auditor });
  expect(list.status()).toBe(200);
  const text = await list.text();
  expect(text).not.toContain(KANDJI.token);
  const core = (JSON.parse(text) as { data: Array<Record<string, unknown>> }).data.find((c) => c.name === names.core)!;
  expect(core).toMatchObject({ hasSecret: true, authMethod: "bearer" });
  expect(core).not.toHaveProperty("secret");

  const validate = await request.post(`/api/v1/core-platforms/${core.id}/validate`, { headers: admin, data: { identity: SERIAL } });
  expect(validate.status()).toBe(200);
  expect(await validate.json()).toMatchObject({ outcome: "found", attributes: { email: "ada@e2e.test" } });
  expect((await request.post(`/api/v1/core-platforms/${core.id}/validate`, { headers: auditor, data: { identity: SERIAL } })).status()).toBe(403);
  const del = await request.delete(`/api/v1/core-platforms/${core.id}`, { headers: admin });
  expect(del.status()).toBe(409);
  expect((await del.json()).error).toContain(`is used by Security Signal Source "${names.sss}"`);

  const radius = await request.post("/api/v1/radius/authorize", { headers: admin, data: { serialNumber: "0badc0ffee", issuer: "CN=Nobody" } });
  expect(radius.status()).toBe(200);
  expect(await radius.json()).toEqual({ decision: "reject", reason: "no certificate with serial number 0badc0ffee was issued by this PKI" });
  expect((await request.post("/api/v1/radius/authorize", { headers: auditor, data: { serialNumber: "0badc0ffee", issuer: "CN=Nobody" } })).status()).toBe(403);
  expect((await request.post("/api/v1/radius/authorize", { headers: admin, data: { serialNumber: "01" } })).status()).toBe(400);

  // A certificate the RADIUS server refused in the TLS handshake is reported, and the auditor reads why.
  const refusal = {
    serialNumber: "5E:C0:FF:EE",
    issuer: "/CN=Someone Else CA",
    subject: "/CN=C02FORGED1",
    reason: "eap_tls: OpenSSL says error 20 : unable to get local issuer certificate",
  };
  expect((await request.post("/api/v1/radius/refusals", { headers: auditor, data: refusal })).status()).toBe(403);
  const refused = await request.post("/api/v1/radius/refusals", { headers: admin, data: refusal });
  expect(refused.status()).toBe(200);
  expect((await refused.json()).reason).toBe(
    "no certificate with serial number 5E:C0:FF:EE was issued by this PKI; the RADIUS server refused it in the TLS handshake (eap_tls: OpenSSL says error 20 : unable to get local issuer certificate)",
  );
  const [event] = (await (await request.get("/api/v1/events?type=RADIUS%20Authentication&certificateSerial=5ec0ffee", { headers: auditor })).json()).data;
  await page.goto(`/data-and-monitoring/general-events/${event.id}`);
  await expect(page.getByRole("heading", { level: 1 }).locator("xpath=following-sibling::p")).toHaveText("RADIUS Authentication rejected");
  const card = page.getByTestId("event-radius");
  await expect(card).toContainText("Rejected");
  await expect(card).toContainText("no certificate with serial number 5E:C0:FF:EE was issued by this PKI");
  await expect(card).toContainText("The RADIUS server, in the TLS handshake (the portal was not asked)");
  await expect(card).toContainText("unable to get local issuer certificate");
  await expect(card).toContainText("/CN=C02FORGED1");
  await shot(page, "policy-10-radius-refusal");

  const policies = (await (await request.get("/api/v1/enrollment-policies", { headers: auditor })).json()) as { data: Array<{ id: string; name: string }> };
  const ours = policies.data.find((p) => p.name === names.enrollment)!;
  const patched = await request.patch(`/api/v1/enrollment-policies/${ours.id}`, { headers: admin, data: { priority: 5 } });
  expect(await patched.json()).toMatchObject({ priority: 5, missing: [] });

  const { Validator } = await import("@seriousme/openapi-schema-validator");
  const doc = await (await request.get("/api/v1/openapi.json")).json();
  expect((await new Validator().validate(doc)).valid).toBe(true);
  for (const p of [
    "/core-platforms/{id}/validate",
    "/security-signal-sources",
    "/policy-workflows/{id}",
    "/device-roles",
    "/enrollment-policies/{id}",
    "/radius/authorize",
    "/radius/refusals",
  ])
    expect(doc.paths).toHaveProperty([p]);
});

test("an auditor reads the policy pages and can change or call nothing", async ({ page }) => {
  const auditor = { name: "Policy Auditor", email: "policy.auditor@e2e.test", password: "policy-auditor-password-1" };
  await signIn(page, ADMIN.email, ADMIN.password);
  await navigate(page, "Settings", "Users");
  const form = page.getByRole("form", { name: "Add user" });
  await form.getByLabel("Name").fill(auditor.name);
  await form.getByLabel("Email").fill(auditor.email);
  await form.getByLabel("Role").selectOption("AUDITOR");
  await form.getByLabel("Initial password").fill(auditor.password);
  await form.getByRole("button", { name: "Add" }).click();
  await expect(page.getByTestId("users-table")).toContainText(auditor.email);
  await signOut(page);

  await signIn(page, auditor.email, auditor.password);
  await navigate(page, "Integration Hub", "Core Platforms");
  await expect(page.getByRole("link", { name: "Add" })).toHaveCount(0);
  await page.getByTestId("core-platform-table").getByRole("link", { name: names.core }).click();
  const id = page.url().split("/").pop()!.split("?")[0]!;
  await openTab(page, "API");
  await expect(tab(page, "API").getByLabel("URI")).toBeDisabled();
  await expect(page.getByRole("button", { name: "Update" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Validate", exact: true })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Delete" })).toHaveCount(0);
  for (const [section, item] of [
    ["Policy Management", "Security Signal Sources"],
    ["Policy Management", "Policy Workflows"],
    ["Policy Management", "Device Role"],
    ["Policy Management", "Enrollment"],
  ] as const) {
    await navigate(page, section, item);
    await expect(page.getByRole("link", { name: /^Add / })).toHaveCount(0);
  }

  // The server actions, called as the browser would: refused on the server, and recorded.
  const path = `/integration-hub/core-platforms/${id}`;
  const update = await callServerAction(page, path, "updateCorePlatformAction", { id, uri: "https://attacker.example/${identity}" });
  expect(await update.text()).toContain("Auditors can read but not change anything.");
  const validate = await callServerAction(page, path, "validateCorePlatformAction", { id, identity: SERIAL, uri: "https://attacker.example/${identity}" });
  expect(await validate.text()).toContain("Auditors can read but not change anything.");
  await page.goto("/data-and-monitoring/general-events?type=Access+Denied");
  await expect(page.getByTestId("events-table")).toContainText(`${auditor.email} may not change core platforms`);
  await expect(page.getByTestId("events-table")).toContainText(`${auditor.email} may not validate core platforms`);
});
