import "reflect-metadata";
import { expect, test, type Page } from "@playwright/test";
import { enroll, SimulatedAppleCa, type Mdm } from "@attested/device-sim";
import { startIntuneSimulator, type IntuneSimulator } from "@attested/intune-sim";
import { startJamfSimulator, type JamfSimulator } from "@attested/jamf-sim";
import { ADMIN, KANDJI } from "../fixtures/env";
import {
  addAcmePlatform,
  addDeviceRole,
  addEnrollmentPolicy,
  addIntermediateCa,
  addKandjiTemplate,
  addKeyAttestationPlatform,
  addPolicyWorkflow,
  openTab,
} from "../fixtures/guide";
import { navigate, shot, signIn } from "../fixtures/portal";

// The guide's flow with the MDM swapped (docs/guide.md, README "MDM setup"): Kandji, Jamf Pro and
// Microsoft Intune, each set up from its Core Platform preset with only the tenant and credentials
// typed, each ending with Certificate Issued for a managed device and a denial for an unknown one.
// Intune also denies a non-compliant device through a Policy Workflow condition.

test.describe.configure({ mode: "serial" });

const shared = { ca: "Vendors ACME Intermediate CA", template: "Vendors Template", kap: "Vendors Apple Attestation", role: "Vendors Apple Devices" };
const simulatedApple = SimulatedAppleCa.create();
const TENANT = "0c9f1b7e-5d4a-4e2b-9a61-7f3c2d1e0b99";
let jamf: JamfSimulator;
let intune: IntuneSimulator;

test.beforeAll(async () => {
  jamf = await startJamfSimulator({
    clientId: "e2e-jamf-client",
    clientSecret: "e2e-jamf-secret",
    devices: [{ serialNumber: "JMFE2E000001", name: "Grace's MacBook", username: "grace", realName: "Grace Hopper", email: "grace@e2e.test" }],
  });
  intune = await startIntuneSimulator({
    tenantId: TENANT,
    clientId: "e2e-intune-client",
    clientSecret: "e2e-intune-secret",
    devices: [
      { serialNumber: "INTE2E000001", deviceName: "Alan's MacBook", userPrincipalName: "alan@e2e.test", emailAddress: "alan@e2e.test" },
      { serialNumber: "INTE2E000002", deviceName: "Stale MacBook", userPrincipalName: "stale@e2e.test", complianceState: "noncompliant" },
    ],
  });
});
test.afterAll(async () => {
  await Promise.all([jamf?.close(), intune?.close()]);
});

interface Vendor {
  id: Mdm;
  label: string;
  preset: string;
  /** The preset's tenant fields and the credentials, as typed in the Add form. */
  fill: () => Record<string, string>;
  serialVariable: string;
  managed: { serialNumber: string; deviceName: string; email: string; fullName: string };
  workflowCondition?: { attribute: string; operator: string; value: string };
}

const VENDORS: Vendor[] = [
  {
    id: "kandji",
    label: "Kandji",
    preset: "Kandji",
    fill: () => ({ "Tenant API URL": KANDJI.url, "Bearer Token": KANDJI.token }),
    serialVariable: "$SERIAL_NUMBER",
    managed: { serialNumber: "F4GXK2Q1N72J", deviceName: "Jane's iPhone", email: "jane@e2e.test", fullName: "Jane Appleseed" },
  },
  {
    id: "jamf",
    label: "Jamf Pro",
    preset: "Jamf Pro (computers)",
    fill: () => ({ "Jamf Pro URL": jamf.url, "Client ID": "e2e-jamf-client", "Client Secret": "e2e-jamf-secret" }),
    serialVariable: "$SERIALNUMBER",
    managed: { serialNumber: "JMFE2E000001", deviceName: "Grace's MacBook", email: "grace@e2e.test", fullName: "Grace Hopper" },
  },
  {
    id: "intune",
    label: "Microsoft Intune",
    preset: "Microsoft Intune",
    fill: () => ({
      "Directory (tenant) ID": TENANT,
      "Microsoft Graph URL": intune.url,
      "Microsoft Entra ID URL": intune.url,
      "Client ID": "e2e-intune-client",
      "Client Secret": "e2e-intune-secret",
    }),
    serialVariable: "{{serialnumber}}",
    managed: { serialNumber: "INTE2E000001", deviceName: "Alan's MacBook", email: "alan@e2e.test", fullName: "Alan Turing" },
    workflowCondition: { attribute: "complianceState", operator: "Equals", value: "compliant" },
  },
];

const deviceFor = (d: { serialNumber: string; deviceName: string; email: string; fullName: string }, n: number) => ({
  ...d,
  udid: `00008112-0000E2E0000${String(n).padStart(5, "0")}`,
});

async function expectIssuedEvent(page: Page, serialNumber: string) {
  await page.goto(`/data-and-monitoring/general-events?q=${serialNumber}&type=Certificate+Issued`);
  await expect(page.getByTestId("events-table")).toContainText("Certificate Issued");
  await expect(page.getByTestId("events-table")).toContainText(serialNumber);
}

test("shared setup: the guide's CA, template, Key Attestation Platform and Device Role", async ({ page }) => {
  test.setTimeout(120_000);
  await signIn(page, ADMIN.email, ADMIN.password);
  await addIntermediateCa(page, shared.ca);
  await addKandjiTemplate(page, shared.template);
  await addKeyAttestationPlatform(page, shared.kap, (await simulatedApple).rootPem);
  await addDeviceRole(page, shared.role, shared.kap);
});

for (const [i, v] of VENDORS.entries()) {
  test(`${v.label}: preset Core Platform, policy, a managed device gets Certificate Issued, an unknown one is denied`, async ({ page }) => {
    test.setTimeout(150_000);
    const n = {
      platform: `Vendors ${v.label} ACME`,
      core: `Vendors ${v.label} API`,
      workflow: `Vendors ${v.label} Workflow`,
      enrollment: `Vendors ${v.label} Enrollment`,
    };
    await signIn(page, ADMIN.email, ADMIN.password);

    // The profile carries the vendor's own variables.
    const { profileXml } = await addAcmePlatform(page, n.platform, undefined, v.label);
    expect(profileXml).toContain(v.serialVariable);

    // Core Platform from the preset: only the tenant and the credentials are typed.
    await navigate(page, "Integration Hub", "Core Platforms");
    await page.getByRole("link", { name: "Add" }).first().click();
    const add = page.getByRole("form", { name: "Add Core Platform" });
    await add.getByLabel("Name").fill(n.core);
    await add.getByLabel("Description").fill(`${v.label} device lookup`);
    await add.getByLabel("Type").selectOption({ label: "Generic HTTP" });
    await add.getByLabel("Preset").selectOption({ label: v.preset });
    for (const [label, value] of Object.entries(v.fill())) await add.getByLabel(label, { exact: true }).fill(value);
    if (i === 2) await shot(page, "vendors-intune-preset");
    await add.getByRole("button", { name: "Save" }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(n.core);
    const api = await openTab(page, "API");
    await expect(api.getByLabel("URI")).not.toHaveValue("");
    await page.getByLabel("Identity to validate with").fill(v.managed.serialNumber);
    await page.getByRole("button", { name: "Validate", exact: true }).click();
    await expect(page.getByTestId("validation-result")).toContainText("Device found");
    await expect(page.getByTestId("validation-result")).toContainText(v.managed.email);
    if (i === 1) await shot(page, "vendors-jamf-validate");

    await addPolicyWorkflow(page, n.workflow, n.core, v.workflowCondition);
    await addEnrollmentPolicy(page, n.enrollment, { workflow: n.workflow, role: shared.role, ca: shared.ca, template: shared.template });

    // The MDM delivers the profile with its substitutions; the device enrolls.
    const ca = await simulatedApple;
    const issued = await enroll({ profile: profileXml, ca, mdm: v.id, device: deviceFor(v.managed, i * 10 + 1) });
    expect(issued.certificatePem).toContain("BEGIN CERTIFICATE");
    const unknown = { serialNumber: `UNKNOWN${i}E2E001`, deviceName: "Unmanaged Mac", email: "ghost@e2e.test", fullName: "Nobody" };
    const refused = await enroll({ profile: profileXml, ca, mdm: v.id, device: deviceFor(unknown, i * 10 + 2) }).catch((e) => e);
    expect(refused.problem).toMatchObject({ type: "urn:ietf:params:acme:error:unauthorized" });
    if (v.id === "intune") {
      // Known to Intune, but not compliant: the Policy Workflow's condition refuses it.
      const stale = { serialNumber: "INTE2E000002", deviceName: "Stale MacBook", email: "stale@e2e.test", fullName: "Stale" };
      const denied = await enroll({ profile: profileXml, ca, mdm: "intune", device: deviceFor(stale, i * 10 + 3) }).catch((e) => e);
      expect(denied.problem).toMatchObject({ type: "urn:ietf:params:acme:error:unauthorized" });
      await page.goto(`/data-and-monitoring/general-events?q=${stale.serialNumber}&type=Enrollment+Denied`);
      await page.getByTestId("events-table").getByRole("link", { name: "Enrollment Denied" }).first().click();
      await expect(page.getByTestId("event-decision")).toContainText("Conditions not met");
    }
    await expectIssuedEvent(page, v.managed.serialNumber);
  });
}
