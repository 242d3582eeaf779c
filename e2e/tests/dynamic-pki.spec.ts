import { expect, test } from "@playwright/test";
import { ADMIN } from "../fixtures/env";
import { navigate, shot, signIn } from "../fixtures/portal";

test.describe.configure({ mode: "serial" });

test("the guide's intermediate CA, click for click", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await navigate(page, "Dynamic PKI", "Certificate Authorities");
  await expect(page.getByTestId("ca-table")).toContainText("Default Root CA");
  await page.getByRole("link", { name: "Add Certificate Authority" }).click();
  const form = page.getByRole("form", { name: "Add Certificate Authority" });
  // A wrong value first: the field says why, nothing is created.
  await form.getByLabel("Generate CA For").selectOption("Device and User Authentication");
  await form.getByLabel("Type").selectOption({ label: "Intermediate CA" });
  await form.getByLabel("Certificate Authority", { exact: true }).selectOption({ label: "Acme Corp Root CA (default Root CA)" });
  await form.getByLabel("Generate via").selectOption({ label: "Internal system (private key locked and non-exportable)" });
  await form.getByLabel("Common Name").fill("Kandji ACME Intermediate CA");
  await form.getByLabel("Key Size").selectOption({ label: "2048" });
  await form.getByLabel("Signature Algorithm").selectOption("SHA-256");
  await form.getByLabel("Validity Period (in years)").fill("45");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(form.getByText("Validity must be 1 to 30 years")).toBeVisible();

  await form.getByLabel("Validity Period (in years)").fill("5");
  await form.getByLabel("Expiry Notification Frequency (in days)").selectOption("30");
  await form.getByLabel("Notify user on successful Enrollment").check();
  await form.getByLabel("Revoke Certificate if unused for").fill("90");
  await form.getByLabel("Since last usage").check();
  await form.getByLabel("Reason Code").selectOption({ label: "Privilege Withdrawn" });
  await shot(page, "guide-01-add-intermediate-ca");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Kandji ACME Intermediate CA");
  await expect(page.getByText("Certificate Authority created.")).toBeVisible();
  await expect(page.getByText("CN=Kandji ACME Intermediate CA")).toBeVisible();
  await shot(page, "guide-02-intermediate-ca");
});

test("the guide's Kandji certificate template, with a preview that catches a bad variable", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await navigate(page, "Dynamic PKI", "Certificate Authorities");
  await page.getByRole("link", { name: "Add Certificate Template" }).first().click();
  const form = page.getByRole("form", { name: "Certificate Template" });
  await form.getByLabel("Name", { exact: true }).fill("Kandji Template");
  await form.getByLabel("Subject", { exact: true }).fill("CN=${/csr/subject/commonname");
  await form.getByLabel("Display Description").fill("Certificates for Kandji-managed Apple devices");
  await form.getByLabel("Validity Period", { exact: true }).fill("365");
  await form.getByLabel("Signature Algorithm").selectOption("SHA-256");
  await form.getByLabel("Other Name").fill("${/csr/san/othername}");
  await form.getByLabel("RFC822").fill("${/csr/san/rfc822name}");
  await form.getByLabel("DNS", { exact: true }).fill("${/csr/san/dnsname}");
  await form.getByLabel("URI", { exact: true }).fill("${/device/userDescription}");
  await form.getByLabel("Client Authentication").check();
  await form.getByRole("button", { name: "Preview" }).click();
  await expect(page.getByTestId("preview-errors")).toContainText("subject");
  await shot(page, "guide-03-template-preview-error");

  await form.getByLabel("Subject", { exact: true }).fill("CN=${/csr/subject/commonname}");
  await form.getByRole("button", { name: "Preview" }).click();
  await expect(page.getByTestId("preview-result")).toContainText("CN=");
  await expect(page.getByTestId("preview-result")).toContainText("Client Authentication");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Certificate template saved.")).toBeVisible();
  await navigate(page, "Dynamic PKI", "Certificate Authorities");
  await expect(page.getByTestId("template-table")).toContainText("Kandji Template");
  await shot(page, "guide-04-template-list");
});
