import "reflect-metadata";
import { expect, test } from "@playwright/test";
import { SimulatedAppleCa, enroll } from "@attested/device-sim";
import { ADMIN } from "../fixtures/env";
import { addAcmePlatform, addIntermediateCa, addKandjiTemplate, addKeyAttestationPlatform, withoutEnrollmentPolicies } from "../fixtures/guide";
import { navigate, shot, signIn } from "../fixtures/portal";

// Without any Enrollment Policy, a platform's default CA and template decide (guide.spec.ts walks
// the policy path).

const device = { serialNumber: "C02DEFAULT01", udid: "00008112-000E2E0000000001", deviceName: "E2E Mac", email: "e2e.user@example.com", fullName: "E2E User" };

test("a device enrolls with the profile the portal downloaded, through the platform's defaults", async ({ page }) => {
  const simCa = await SimulatedAppleCa.create();
  await signIn(page, ADMIN.email, ADMIN.password);
  await addIntermediateCa(page, "Defaults CA");
  await addKandjiTemplate(page, "Defaults Template");
  const { profileXml, url } = await addAcmePlatform(page, "Defaults Platform");
  expect(profileXml).toContain("<string>com.apple.security.acme</string>");
  expect(profileXml).toMatch(/<key>DirectoryURL<\/key>\s*<string>http:\/\/localhost:\d+\/acme\/[A-Za-z0-9_-]+\/directory<\/string>/);
  await addKeyAttestationPlatform(page, "Defaults Apple", simCa.rootPem);
  await page.goto(url);
  const settings = page.getByRole("form", { name: "Platform settings" });
  await settings.getByLabel("Default Certificate Authority").selectOption({ label: "Defaults CA" });
  await settings.getByLabel("Default Certificate Template").selectOption({ label: "Defaults Template" });
  await settings.getByRole("button", { name: "Update" }).click();
  await expect(settings.getByText("Platform updated.")).toBeVisible();

  // Other specs may have left Enrollment Policies: with any in place, the platform's defaults are not used.
  await withoutEnrollmentPolicies(page, async () => {
    const result = await enroll({ profile: profileXml, device, ca: simCa });
    expect(result.certificatePem).toContain("BEGIN CERTIFICATE");
  });

  await navigate(page, "Data and Monitoring", "General Events");
  await page.getByLabel("Search").fill(device.serialNumber);
  await page.getByRole("button", { name: "Apply" }).click();
  const table = page.getByTestId("events-table");
  await expect(table).toContainText("Certificate Issued");
  await expect(table).toContainText("Attestation Verified");
  await shot(page, "enroll-defaults-events");
  await navigate(page, "Dynamic PKI", "Certificates");
  await expect(page.getByTestId("certificates-table")).toContainText(device.serialNumber);
});
