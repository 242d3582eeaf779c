import http from "node:http";
import { expect, test, type Page } from "@playwright/test";
import { ADMIN, KANDJI } from "../fixtures/env";
import { navigate, signIn } from "../fixtures/portal";

// A stored credential follows its destination: the portal's forms ask for it again before a Core
// Platform's URI or the SMTP server points elsewhere, and Validate never sends it to an unsaved origin.

test.describe.configure({ mode: "serial" });

const tab = (page: Page, name: string) => page.getByRole("tabpanel", { name });
const openTab = async (page: Page, name: string) => {
  await page.getByRole("tab", { name, exact: true }).click();
  await expect(tab(page, name)).toBeVisible();
};

test("a Core Platform's saved Bearer Token is asked for again before it goes to another origin", async ({ page }) => {
  // An origin an attacker would choose, on loopback: it records what it receives.
  const received: (string | undefined)[] = [];
  const attacker = http.createServer((req, res) => {
    received.push(req.headers.authorization);
    res.writeHead(200, { "content-type": "application/json" }).end('{"data":[]}');
  });
  await new Promise<void>((r) => attacker.listen(0, "127.0.0.1", r));
  const attackerUrl = `http://127.0.0.1:${(attacker.address() as { port: number }).port}`;
  try {
    await signIn(page, ADMIN.email, ADMIN.password);
    await navigate(page, "Integration Hub", "Core Platforms");
    await page.getByRole("link", { name: "Add" }).first().click();
    const add = page.getByRole("form", { name: "Add Core Platform" });
    await add.getByLabel("Name").fill("Token destination");
    await add.getByLabel("Type").selectOption({ label: "Generic HTTP" });
    await add.getByRole("button", { name: "Save" }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Token destination");
    await openTab(page, "Configuration");
    await tab(page, "Configuration").getByLabel("Authentication Method").selectOption({ label: "Bearer Token" });
    await tab(page, "Configuration").getByLabel("Bearer Token").fill(KANDJI.token);
    await openTab(page, "API");
    const kandjiUri = `${KANDJI.url}/api/v1/devices?serial_number=\${identity}`;
    await tab(page, "API").getByLabel("URI").fill(kandjiUri);
    await page.getByRole("button", { name: "Update" }).click();
    await expect(page.getByText("Core Platform updated.")).toBeVisible();

    // Validate with an unsaved URI on another origin: nothing is sent, and the page says why.
    await page.reload();
    await openTab(page, "API");
    await tab(page, "API").getByLabel("URI").fill(`${attackerUrl}/devices?serial=\${identity}`);
    await page.getByLabel("Identity to validate with").fill(KANDJI.devices[0]!.serial_number);
    await page.getByRole("button", { name: "Validate", exact: true }).click();
    await expect(page.getByRole("region", { name: "Validate" })).toContainText(`Bearer Token is required again: the saved one is only sent to ${KANDJI.url}`);
    expect(received).toEqual([]);
    // Update: refused on the Bearer Token field, nothing saved.
    await page.getByRole("button", { name: "Update" }).click();
    await openTab(page, "Configuration");
    await expect(tab(page, "Configuration")).toContainText("Bearer Token is required again");
    await page.reload();
    await openTab(page, "API");
    await expect(tab(page, "API").getByLabel("URI")).toHaveValue(kandjiUri);
    expect(received).toEqual([]);
  } finally {
    await new Promise((r) => attacker.close(r));
  }
});

test("Settings > Mail asks for the saved password again before it goes to another server", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.goto("/settings/mail");
  const form = page.getByRole("form", { name: "Mail settings" });
  const save = async () => form.getByRole("button", { name: "Save" }).click();
  await form.getByLabel("SMTP host").fill("smtp.e2e.test");
  await form.getByLabel("Port").fill("587");
  await form.getByLabel("From address").fill("pki@e2e.test");
  await form.getByLabel("Username").fill("mailer");
  await form.getByLabel("Password").fill("e2e-smtp-password");
  await save();
  await expect(page.getByText("Mail settings saved.")).toBeVisible();

  await page.reload();
  await form.getByLabel("SMTP host").fill("mail.attacker.test");
  await save();
  await expect(form).toContainText("Enter the password again: the saved one is only sent to smtp://smtp.e2e.test:587");
  await page.reload();
  await expect(form.getByLabel("SMTP host")).toHaveValue("smtp.e2e.test");
});
