import "reflect-metadata";
import { readFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { SimulatedAppleCa, enroll } from "@attested/device-sim";
import { ADMIN } from "../fixtures/env";
import { navigate, shot, signIn } from "../fixtures/portal";

test.describe.configure({ mode: "serial" });

let profileXml = "";
let platformUrl = "";
const device = { serialNumber: "C02E2EDEV001", udid: "00008112-000E2E0000000001", deviceName: "E2E Mac", email: "e2e.user@example.com", fullName: "E2E User" };

test("an ACME Device Management Platform: Save downloads the .mobileconfig", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await navigate(page, "Integration Hub", "Device Management Platforms");
  await page.getByRole("link", { name: "Add" }).first().click();
  const form = page.getByRole("form", { name: "Add Device Management Platform" });
  await form.getByLabel("Name").fill("Kandji ACME");
  await form.getByLabel("Description").fill("Managed Macs and iPhones");
  await form.getByLabel("Type").selectOption({ label: "ACME Client Certificate Enrollment Token" });
  await form.getByLabel("Vendor").selectOption({ label: "Kandji" });
  const download = page.waitForEvent("download");
  await form.getByRole("button", { name: "Save" }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe("kandji-acme.mobileconfig");
  profileXml = readFileSync((await file.path())!, "utf8");
  expect(profileXml).toContain("<string>com.apple.security.acme</string>");
  expect(profileXml).toContain("<string>$SERIAL_NUMBER</string>");
  expect(profileXml).toMatch(/<key>DirectoryURL<\/key>\s*<string>http:\/\/localhost:\d+\/acme\/[A-Za-z0-9_-]+\/directory<\/string>/);
  platformUrl = page.url().split("?")[0];
  await shot(page, "guide-05-device-management-platform");
});

test("a Key Attestation Platform, a test root for the device simulator, and the platform's defaults", async ({ page }) => {
  const simCa = await SimulatedAppleCa.create();
  await signIn(page, ADMIN.email, ADMIN.password);
  await navigate(page, "Integration Hub", "Key Attestation Platforms");
  await page.getByRole("link", { name: "Add" }).first().click();
  const form = page.getByRole("form", { name: "Add Key Attestation Platform" });
  await form.getByLabel("Name").fill("Apple");
  await form.getByLabel("Display Description").fill("Apple Managed Device Attestation");
  await form.getByLabel("Type").selectOption({ label: "Apple" });
  await form.getByRole("button", { name: "Save" }).click();
  await expect(page.getByTestId("trusted-roots")).toContainText("Apple Enterprise Attestation Root CA");
  await page.getByLabel("Additional trusted roots (FOR TESTING ONLY)").fill(simCa.rootPem);
  await page.getByRole("button", { name: "Update test trust" }).click();
  await expect(page.getByTestId("trusted-roots")).toContainText("Testing only");
  await shot(page, "enroll-01-key-attestation-platform");

  await page.goto(platformUrl);
  const settings = page.getByRole("form", { name: "Platform settings" });
  await settings.getByLabel("Default Certificate Authority").selectOption({ label: "Kandji ACME Intermediate CA" });
  await settings.getByLabel("Default Certificate Template").selectOption({ label: "Kandji Template" });
  await settings.getByRole("button", { name: "Update" }).click();
  await expect(settings.getByText("Platform updated.")).toBeVisible();

  // The device, given the profile the MDM pushed, enrolls over real HTTP.
  const result = await enroll({ profile: profileXml, device, ca: simCa });
  expect(result.certificatePem).toContain("BEGIN CERTIFICATE");

  await navigate(page, "Data and Monitoring", "General Events");
  await page.getByLabel("Search").fill(device.serialNumber);
  await page.getByRole("button", { name: "Apply" }).click();
  const table = page.getByTestId("events-table");
  await expect(table).toContainText("Certificate Issued");
  await expect(table).toContainText("Attestation Verified");
  await shot(page, "enroll-02-general-events");
  await navigate(page, "Dynamic PKI", "Certificates");
  await expect(page.getByTestId("certificates-table")).toContainText(device.serialNumber);
});
