import { expect, test } from "@playwright/test";
import { ADMIN } from "../fixtures/env";
import { navigate, signIn } from "../fixtures/portal";

// The guide's happy path is in guide.spec.ts; here, what an admin sees when input is wrong.

test("Add Certificate Authority shows the field and the reason, and creates nothing", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await navigate(page, "Dynamic PKI", "Certificate Authorities");
  await expect(page.getByTestId("ca-table")).toBeVisible();
  const before = await page.getByTestId("ca-table").locator("tbody tr").count();
  expect(before).toBeGreaterThan(0); // the organization's root CA at least
  await page.getByRole("link", { name: "Add Certificate Authority" }).click();
  const form = page.getByRole("form", { name: "Add Certificate Authority" });
  await form.getByLabel("Type").selectOption({ label: "Intermediate CA" });
  await form.getByLabel("Common Name").fill("Wrong CA");
  await form.getByLabel("Validity Period (in years)").fill("45");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(form.getByText("Validity must be 1 to 30 years")).toBeVisible();
  await expect(form.getByText("Choose what the CA is for")).toBeVisible();
  // What was typed stays.
  await expect(form.getByLabel("Common Name")).toHaveValue("Wrong CA");
  await navigate(page, "Dynamic PKI", "Certificate Authorities");
  await expect(page.getByTestId("ca-table").locator("tbody tr")).toHaveCount(before);
});

test("the template preview catches a bad variable before saving", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await navigate(page, "Dynamic PKI", "Certificate Authorities");
  await page.getByRole("link", { name: "Add Certificate Template" }).first().click();
  const form = page.getByRole("form", { name: "Certificate Template" });
  await form.getByLabel("Name", { exact: true }).fill("Bad Template");
  await form.getByLabel("Subject", { exact: true }).fill("CN=${/csr/subject/commonname");
  await form.getByLabel("Validity Period", { exact: true }).fill("365");
  await form.getByLabel("URI", { exact: true }).fill("${/nowhere/userDescription}");
  await form.getByLabel("Client Authentication").check();
  await form.getByRole("button", { name: "Preview" }).click();
  const errors = page.getByTestId("preview-errors");
  await expect(errors).toContainText('subject: Unclosed "${"');
  await expect(errors).toContainText("sanUri");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(form.getByRole("alert").first()).toBeVisible();
  await navigate(page, "Dynamic PKI", "Certificate Authorities");
  await expect(page.getByText("Bad Template")).toHaveCount(0);
});
