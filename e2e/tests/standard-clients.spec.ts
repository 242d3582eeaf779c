import { expect, test } from "@playwright/test";
import { ADMIN } from "../fixtures/env";
import { addAcmePlatform, addKandjiTemplate } from "../fixtures/guide";
import { signIn } from "../fixtures/portal";

// A platform open to standard ACME clients with a template made for Apple devices.

test("Allow SANs from the CSR is on for the guide's template and can be turned off", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await addKandjiTemplate(page, "CSR SANs Template");
  const form = page.getByRole("form", { name: "Certificate Template" });
  const allow = form.getByLabel("Allow SANs from the CSR");
  await expect(allow).toBeChecked();
  await allow.uncheck();
  await form.getByRole("button", { name: "Update" }).click();
  await expect(form.getByText("Template updated.")).toBeVisible();
  await page.reload();
  const saved = page.getByRole("form", { name: "Certificate Template" });
  await expect(saved.getByLabel("Allow SANs from the CSR")).not.toBeChecked();
  // The preview's sample device then gets no SAN from its request, and says so.
  await saved.getByRole("button", { name: "Preview", exact: true }).click();
  const preview = page.getByTestId("preview-result");
  await expect(preview).toContainText("RFC822 left out: ${/csr/san/rfc822name} is not used: the template does not take SANs from the CSR");
  await expect(preview).not.toContainText("rfc822:");
});

test("the platform page warns when standard clients meet a template that reads /csr/san or /device", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await addKandjiTemplate(page, "Device Template");
  const { url } = await addAcmePlatform(page, "Servers and Devices");
  const warning = page.getByRole("alert", { name: "Standard ACME clients and device templates" });
  const settings = page.getByRole("form", { name: "Platform settings" });
  await settings.getByLabel("Default Certificate Template").selectOption({ label: "Device Template" });
  await settings.getByRole("button", { name: "Update" }).click();
  await expect(settings.getByText("Platform updated.")).toBeVisible();
  await page.goto(url);
  await expect(warning).toHaveCount(0); // devices only: nothing to warn about

  await settings.getByLabel("Also issue to standard ACME clients").check();
  await settings.getByRole("button", { name: "Update" }).click();
  await expect(settings.getByText("Platform updated.")).toBeVisible();
  await page.goto(url);
  await expect(warning).toContainText('"Device Template"');
  await expect(warning).toContainText("${/csr/san/rfc822name}");
  await expect(warning).toContainText("${/device/userDescription}");
});
