import { expect, test } from "@playwright/test";
import { ADMIN, KANDJI } from "../fixtures/env";
import { openTab } from "../fixtures/guide";
import { navigate, shot, signIn } from "../fixtures/portal";

// When the MDM refuses a Core Platform's saved token (HTTP 401/403), nothing works through it until an
// admin fixes the token: the portal says so on the platform, on the list and in General Events, and
// stops saying so once a lookup gets an answer again.

test("a refused token raises an alert on the Core Platform, and a working one clears it", async ({ page }) => {
  const name = `Refused Kandji ${Date.now()}`;
  await signIn(page, ADMIN.email, ADMIN.password);
  await navigate(page, "Integration Hub", "Core Platforms");
  await page.getByRole("link", { name: "Add" }).first().click();
  const form = page.getByRole("form", { name: "Add Core Platform" });
  await form.getByLabel("Name").fill(name);
  await form.getByLabel("Type").selectOption({ label: "Generic HTTP" });
  await form.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(name);
  const base = page.url().split("?")[0]!;

  const configuration = await openTab(page, "Configuration");
  await configuration.getByLabel("Authentication Method").selectOption({ label: "Bearer Token" });
  await configuration.getByLabel("Bearer Token").fill("a-token-kandji-revoked");
  const api = await openTab(page, "API");
  await api.getByLabel("URI").fill(`${KANDJI.url}/api/v1/devices?serial_number=\${identity}`);
  await page.getByRole("button", { name: "Update" }).click();
  await expect(page.getByText("Core Platform updated.")).toBeVisible();

  // Validate with the saved token: Kandji answers 401.
  await page.goto(`${base}?tab=api`);
  await page.getByLabel("Identity to validate with").fill(KANDJI.devices[0].serial_number);
  await page.getByRole("button", { name: "Validate", exact: true }).click();
  await expect(page.getByTestId("validation-result")).toContainText("HTTP 401");
  await page.goto(base);
  const alert = page.getByTestId("core-platform-alert");
  await expect(alert).toContainText("the MDM refuses this Core Platform's credentials: HTTP 401");
  await expect(alert).toContainText("Devices that enroll or authenticate through it are denied");
  await shot(page, "core-platform-alert");
  await navigate(page, "Integration Hub", "Core Platforms");
  await expect(page.getByRole("row").filter({ hasText: name })).toContainText("Credentials refused");

  // The Overview says so to everyone who signs in.
  await page.goto("/");
  await expect(page.getByTestId("overview-alerts")).toContainText(name);

  // On the trail: the refusal, with who was told.
  await page.goto(`/data-and-monitoring/general-events?type=${encodeURIComponent("Core Platform Alert")}`);
  await expect(page.getByRole("row").filter({ hasText: name }).first()).toContainText("refused the credentials");

  // The admin saves the right token and validates: the alert clears, with an event.
  await page.goto(`${base}?tab=configuration`);
  await page.getByLabel("Bearer Token").fill(KANDJI.token);
  await page.getByRole("button", { name: "Update" }).click();
  await expect(page.getByText("Core Platform updated.")).toBeVisible();
  await page.goto(`${base}?tab=api`);
  await page.getByLabel("Identity to validate with").fill(KANDJI.devices[0].serial_number);
  await page.getByRole("button", { name: "Validate", exact: true }).click();
  await expect(page.getByTestId("validation-result")).toContainText("Device found");
  await page.goto(base);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(name);
  await expect(page.getByTestId("core-platform-alert")).toHaveCount(0);
  await page.goto(`/data-and-monitoring/general-events?type=${encodeURIComponent("Core Platform Alert Cleared")}`);
  await expect(page.getByRole("row").filter({ hasText: name }).first()).toContainText("answers again");
});
