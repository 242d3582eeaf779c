import { expect, test } from "@playwright/test";
import { ADMIN } from "../fixtures/env";
import { navigate, shot, signIn } from "../fixtures/portal";

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
  await form.getByRole("button", { name: "Preview", exact: true }).click();
  const errors = page.getByTestId("preview-errors");
  await expect(errors).toContainText('subject: Unclosed "${"');
  await expect(errors).toContainText("sanUri");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(form.getByRole("alert").first()).toBeVisible();
  await navigate(page, "Dynamic PKI", "Certificate Authorities");
  await expect(page.getByText("Bad Template")).toHaveCount(0);
});

test("Generate via: Hardware security module makes the key in the token; the CA page says where it lives; a taken label is refused", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  const addRoot = async (commonName: string) => {
    await page.goto("/dynamic-pki/certificate-authorities/new");
    const form = page.getByRole("form", { name: "Add Certificate Authority" });
    await form.getByLabel("Generate CA For").selectOption("Device and User Authentication");
    await form.getByLabel("Generate via").selectOption({ label: "Hardware security module (PKCS#11)" });
    await form.getByLabel("Key Label").fill("e2e-hsm-root");
    await form.getByLabel("Common Name").fill(commonName);
    await form.getByLabel("Key Size", { exact: true }).selectOption({ label: "EC P-256" });
    await form.getByLabel("Validity Period (in years)").fill("5");
    await shot(page, "hsm-add-ca");
    await form.getByRole("button", { name: "Save" }).click();
    return form;
  };
  await addRoot("HSM Root CA");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("HSM Root CA");
  await expect(page.getByText('Hardware security module (PKCS#11): key "e2e-hsm-root" in token "E2E CA Keys"')).toBeVisible();
  await shot(page, "hsm-ca-page");

  const again = await addRoot("Second HSM Root");
  await expect(again.getByText('The token "E2E CA Keys" already holds a key labelled "e2e-hsm-root"').first()).toBeVisible();
  await expect(again.getByLabel("Key Label")).toHaveValue("e2e-hsm-root");
  await shot(page, "hsm-label-taken");
});
