import "reflect-metadata";
import { expect, test, type APIRequestContext } from "@playwright/test";
import { AcmeClientError, SimulatedAppleCa, enroll } from "@attested/device-sim";
import { ADMIN, KANDJI } from "../fixtures/env";
import { callServerAction, navigate, shot, signIn, signOut } from "../fixtures/portal";

// Issue #23, section 1: the Device Role's posture conditions on what Apple attested. The policy's
// parts come through the REST API; the posture is set in the Conditions tab, a Mac below the
// required macOS is denied and the auditor reads why in General Events; a current Mac enrolls and
// the RADIUS answer carries its posture.

const names = { role: "Posture Macs", policy: "Posture enrollment", kap: "Posture Apple" };
const device = { serialNumber: KANDJI.devices[0]!.serial_number, udid: "00008112-0000E2E0000000AA" };

async function api(request: APIRequestContext, token: string) {
  return async (method: string, path: string, data?: unknown) => {
    const r = await request.fetch(`/api/v1${path}`, { method, data, headers: { Authorization: `Bearer ${token}` } });
    expect(r.status(), `${method} ${path}: ${await r.text()}`).toBeLessThan(300);
    return r.json();
  };
}

test("a Device Role's attested posture: set in the Conditions tab, enforced at enrollment, explained in General Events, answered to RADIUS", async ({
  page,
  request,
}) => {
  const simCa = await SimulatedAppleCa.create();
  await signIn(page, ADMIN.email, ADMIN.password);
  await navigate(page, "Settings", "API Tokens");
  const form = page.getByRole("form", { name: "Create API token" });
  await form.getByLabel("Name").fill("posture-admin");
  await form.getByLabel("Scope").selectOption("ADMIN");
  await form.getByRole("button", { name: "Add" }).click();
  await expect(page.getByTestId("new-token")).toHaveValue(/^apki_/);
  const token = await page.getByTestId("new-token").inputValue();
  const admin = await api(request, token);

  const root = (await admin("GET", "/certificate-authorities")).data.find((c: { isDefault: boolean }) => c.isDefault);
  const ca = await admin("POST", "/certificate-authorities", {
    purpose: "Device and User Authentication",
    type: "INTERMEDIATE",
    parentId: root.id,
    generatedVia: "internal",
    commonName: "Posture CA",
    keyAlgorithm: "EC-P256",
    signatureAlgorithm: "SHA-256",
    validityYears: 2,
  });
  const template = await admin("POST", "/certificate-templates", {
    name: "Posture template",
    subject: "CN=${/attestation/serialNumber},OU=macOS ${/attestation/osVersion}",
    validityDays: 30,
    extendedKeyUsages: ["clientAuth"],
  });
  const kap = await admin("POST", "/key-attestation-platforms", { name: names.kap, type: "apple" });
  await admin("PATCH", `/key-attestation-platforms/${kap.id}`, { testTrustedRoots: simCa.rootPem });
  const dmp = await admin("POST", "/device-management-platforms", { name: "Posture Kandji", type: "acme-enrollment-token", vendor: "kandji" });
  const profile = await (await request.get(`/api/v1/device-management-platforms/${dmp.id}/profile`, { headers: { Authorization: `Bearer ${token}` } })).text();
  const core = await admin("POST", "/core-platforms", {
    name: "Posture Kandji API",
    description: "",
    type: "generic-http",
    authMethod: "bearer",
    secret: KANDJI.token,
    uri: `${KANDJI.url}/api/v1/devices?serial_number=\${identity}`,
    validationRules: [{ path: "data[0].serial_number", condition: "equals", expected: "${identity}" }],
  });
  const workflow = await admin("POST", "/policy-workflows", { name: "Posture Role", description: "", corePlatformId: core.id, attributeConditions: [] });
  const role = await admin("POST", "/device-roles", { name: names.role, description: "", keyAttestationPlatformId: kap.id });
  await admin("POST", "/enrollment-policies", {
    name: names.policy,
    description: "",
    priority: 100,
    policyWorkflowId: workflow.id,
    deviceRoleId: role.id,
    caId: ca.id,
    templateId: template.id,
  });

  // The Conditions tab: a bad version is refused beside its field, nothing saved; then the real rules.
  await page.goto(`/policy-management/device-role/${role.id}?tab=conditions`);
  const posture = page.getByRole("group", { name: "Attested posture" });
  await posture.getByLabel("Condition", { exact: true }).selectOption({ label: "macOS version at least" });
  await posture.getByLabel("Value", { exact: true }).fill("fourteen");
  await page.getByRole("button", { name: "Update" }).click();
  await expect(posture.getByRole("alert")).toHaveText("Write a version such as 14, 14.6 or 17.4.1");
  expect((await admin("GET", `/device-roles/${role.id}`)).postureConditions).toEqual([]);
  await posture.getByLabel("Value", { exact: true }).fill("14.0");
  await posture.getByRole("button", { name: "Add posture condition" }).click();
  const second = posture.getByRole("group", { name: "Posture condition 2" });
  await second.getByLabel("Condition", { exact: true }).selectOption({ label: "System Integrity Protection" });
  await second.getByLabel("Value", { exact: true }).selectOption({ label: "enabled" });
  await page.getByRole("button", { name: "Update" }).click();
  await expect(page.getByText("Device Role updated.")).toBeVisible();
  expect((await admin("GET", `/device-roles/${role.id}`)).postureConditions).toEqual([
    { check: "macosVersionAtLeast", value: "14.0" },
    { check: "sip", value: "enabled" },
  ]);
  await shot(page, "posture-01-device-role-conditions");
  await navigate(page, "Policy Management", "Device Role");
  await expect(page.getByTestId("device-role-table").getByRole("row", { name: new RegExp(names.role) })).toContainText(
    "macOS version at least 14.0; System Integrity Protection enabled",
  );
  await shot(page, "posture-01b-device-role-list");

  // A Mac on macOS 13.6 is denied; it is told nothing of the rule.
  const err = await enroll({ profile, device: { ...device, osVersion: "13.6" }, ca: simCa }).catch((e) => e);
  expect(err).toBeInstanceOf(AcmeClientError);
  expect((err as AcmeClientError).problem?.type).toBe("urn:ietf:params:acme:error:unauthorized");
  expect((err as AcmeClientError).problem?.detail).not.toContain("13.6");

  // A current Mac enrolls; the RADIUS answer carries what Apple attested at issuance.
  const ok = await enroll({ profile, device: { ...device, osVersion: "14.10" }, ca: simCa });
  const radius = await admin("POST", "/radius/authorize", { certificatePem: ok.certificatePem });
  expect(radius).toMatchObject({ decision: "accept", posture: { platform: "macOS", osVersion: "14.10", sipEnabled: true } });

  // The auditor reads the denial's decision table, and cannot change the posture.
  await signOut(page);
  const auditor = { email: "posture.auditor@e2e.test", password: "posture-auditor-password-1" };
  await admin("POST", "/users", { email: auditor.email, name: "Posture Auditor", role: "AUDITOR", password: auditor.password });
  await signIn(page, auditor.email, auditor.password);
  await navigate(page, "Data and Monitoring", "General Events");
  await page.getByLabel("Search").fill(device.serialNumber);
  await page.getByLabel("Type", { exact: true }).selectOption("Enrollment Denied");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.getByTestId("events-table").getByRole("link", { name: "Enrollment Denied" }).first().click();
  const decision = page.getByTestId("event-decision");
  await expect(decision).toContainText("Denied: attested posture not met");
  const considered = decision.getByRole("table", { name: "Enrollment Policies considered" });
  await expect(considered).toContainText(names.policy);
  await expect(considered).toContainText("Posture not met");
  await expect(considered.getByRole("list", { name: "Attested posture" })).toContainText("attested macOS 13.6 is below the required 14.0");
  await expect(page.getByTestId("event-attestation")).toContainText("13.6");
  await shot(page, "posture-02-enrollment-denied");

  const path = `/policy-management/device-role/${role.id}`;
  const refused = await callServerAction(page, path, "updateDeviceRoleAction", {
    id: role.id,
    keyAttestationPlatformId: kap.id,
    "postureConditions.0.check": "macosVersionAtLeast",
    "postureConditions.0.value": "1",
  });
  expect(await refused.text()).toContain("Auditors can read but not change anything.");
  await page.goto(`${path}?tab=conditions`);
  await expect(page.getByRole("group", { name: "Posture condition 1" }).getByLabel("Value", { exact: true })).toHaveValue("14.0");
  await expect(page.getByRole("group", { name: "Posture condition 1" }).getByLabel("Value", { exact: true })).toBeDisabled();
});
