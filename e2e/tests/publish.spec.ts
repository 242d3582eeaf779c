import "reflect-metadata";
import { expect, test, type Page } from "@playwright/test";
import { SimulatedAppleCa, enroll } from "@attested/device-sim";
import { ADMIN, KANDJI, PUBLISH_GRACE_SECONDS } from "../fixtures/env";
import { addAcmePlatform, addEnrollmentPolicyByApi, addIntermediateCa, addKandjiTemplate, addKeyAttestationPlatform, openTab } from "../fixtures/guide";
import { navigate, shot, signIn } from "../fixtures/portal";

// Publish to Kandji: the portal puts the platform's profile in the Kandji simulator's Library and on a
// Blueprint; rotating the secret republishes; devices enroll with the profile Kandji holds, and the
// previous profile stops working once the new one is published and the grace period is over.

const kandji = (path: string, init: RequestInit = {}) =>
  fetch(`${KANDJI.url}${path}`, { ...init, headers: { authorization: `Bearer ${KANDJI.token}`, ...init.headers } }).then((r) => r.json());
const simAdmin = (path: string, init: RequestInit = {}) =>
  fetch(`${KANDJI.url}/_sim/${path}`, { ...init, headers: { authorization: `Bearer ${KANDJI.adminToken}`, "content-type": "application/json" } });

interface LibraryItem {
  id: string;
  name: string;
  profile: string;
  updated_at: string;
}
const libraryItems = async () => (await kandji("/api/v1/library/custom-profiles")).results as LibraryItem[];
const directoryOf = (xml: string) => /<key>DirectoryURL<\/key>\s*<string>([^<]+)<\/string>/.exec(xml)?.[1];

const device = (n: number) => ({
  serialNumber: `C02PUBLISH0${n}`,
  udid: `00008112-000E2E00000000${n}0`,
  deviceName: `Publish Mac ${n}`,
  email: `publish${n}@example.com`,
  fullName: `Publish User ${n}`,
});

async function addKandjiCorePlatform(page: Page, name: string) {
  await navigate(page, "Integration Hub", "Core Platforms");
  await page.getByRole("link", { name: "Add" }).first().click();
  const add = page.getByRole("form", { name: "Add Core Platform" });
  await add.getByLabel("Name").fill(name);
  await add.getByLabel("Type").selectOption({ label: "Generic HTTP" });
  await add.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(name);
  const configuration = await openTab(page, "Configuration");
  await configuration.getByLabel("Authentication Method").selectOption({ label: "Bearer Token" });
  await configuration.getByLabel("Bearer Token").fill(KANDJI.token);
  const api = await openTab(page, "API");
  await api.getByLabel("URI").fill(`${KANDJI.url}/api/v1/devices?serial_number=\${identity}`);
  await page.getByRole("button", { name: "Update" }).click();
  await expect(page.getByText("Core Platform updated.")).toBeVisible();
}

test("Publish to Kandji: publish, rotate, the new profile enrolls and the old one is refused after the grace period", async ({ page }) => {
  const simCa = await SimulatedAppleCa.create();
  await signIn(page, ADMIN.email, ADMIN.password);
  await addIntermediateCa(page, "Publish CA");
  await addKandjiTemplate(page, "Publish Template");
  await addKeyAttestationPlatform(page, "Publish Apple", simCa.rootPem);
  await addKandjiCorePlatform(page, "Kandji Publisher");
  // Other specs leave Enrollment Policies behind, so platform defaults are not used: this Key
  // Attestation Platform gets its own policy, and the devices are in Kandji.
  await addEnrollmentPolicyByApi(page, {
    kap: "Publish Apple",
    core: "Kandji Publisher",
    ca: "Publish CA",
    template: "Publish Template",
    policy: "Publish enrollment",
  });
  const added = await simAdmin("devices", {
    method: "POST",
    body: JSON.stringify(
      [1, 2, 3, 4, 5].map((n) => ({
        serial_number: device(n).serialNumber,
        device_name: device(n).deviceName,
        user: { email: device(n).email, name: device(n).fullName },
      })),
    ),
  });
  expect(added.ok).toBe(true);
  const { url } = await addAcmePlatform(page, "Publish Platform");
  await page.goto(url);
  const settings = page.getByRole("form", { name: "Platform settings" });
  await settings.getByLabel("Default Certificate Authority").selectOption({ label: "Publish CA" });
  await settings.getByLabel("Default Certificate Template").selectOption({ label: "Publish Template" });
  await settings.getByRole("button", { name: "Update" }).click();
  await expect(settings.getByText("Platform updated.")).toBeVisible();

  // Publish: nothing chosen is refused with the fields named, then the Core Platform lists its Blueprints.
  const publish = page.getByRole("form", { name: "Publish to Kandji" });
  await publish.getByRole("button", { name: "Publish to Kandji" }).click();
  await expect(publish.getByText("Choose a Core Platform", { exact: true })).toBeVisible();
  await expect(publish.getByText("Choose at least one Blueprint", { exact: true })).toBeVisible();
  expect(await libraryItems()).toHaveLength(0);
  await publish.getByLabel("Core Platform").selectOption({ label: "Kandji Publisher" });
  await publish.getByLabel("ACME Certificates").check();
  await publish.getByRole("button", { name: "Publish to Kandji" }).click();
  await expect(publish.getByText("Profile published to Kandji.")).toBeVisible();
  const [item] = await libraryItems();
  expect(item!.name).toBe("Attested PKI: Publish Platform");
  const blueprint = (await kandji("/api/v1/blueprints")).results.find((b: { name: string }) => b.name === "ACME Certificates");
  expect((await kandji(`/api/v1/blueprints/${blueprint.id}/list-library-items`)).results.map((r: { id: string }) => r.id)).toEqual([item!.id]);
  const oldProfile = item!.profile;
  expect((await enroll({ profile: oldProfile, device: device(1), ca: simCa })).certificatePem).toContain("BEGIN CERTIFICATE");

  // Rotate: the same library item now holds a profile with the new secret.
  page.on("dialog", (d) => void d.accept());
  await page.getByRole("button", { name: "Rotate enrollment secret" }).click();
  await expect(page.getByText("Enrollment secret rotated and the new profile published to Kandji.")).toBeVisible();
  await expect(page.getByTestId("previous-secret")).toContainText("Grace period: the previous enrollment secret still enrolls until");
  await shot(page, "publish-rotated");
  const [after, ...others] = await libraryItems();
  expect(others).toHaveLength(0);
  expect(after!.id).toBe(item!.id);
  expect(directoryOf(after!.profile)).not.toBe(directoryOf(oldProfile));
  expect((await enroll({ profile: after!.profile, device: device(2), ca: simCa })).certificatePem).toContain("BEGIN CERTIFICATE");
  // After the grace period (and the 2 s platform cache) the old profile's secret is unknown.
  await page.waitForTimeout((PUBLISH_GRACE_SECONDS + 2.5) * 1000);
  await expect(enroll({ profile: oldProfile, device: device(3), ca: simCa })).rejects.toMatchObject({ status: 404 });
  expect((await enroll({ profile: after!.profile, device: device(4), ca: simCa })).certificatePem).toContain("BEGIN CERTIFICATE");

  // Kandji down during a rotation: a warning, an event, and the published profile keeps enrolling.
  expect((await simAdmin("faults", { method: "PUT", body: JSON.stringify({ errorStatus: 503 }) })).ok).toBe(true);
  try {
    await page.reload();
    await page.getByRole("button", { name: "Rotate enrollment secret" }).click();
    await expect(page.getByText("Enrollment secret rotated, but publishing to Kandji failed: Kandji answered 503")).toBeVisible();
  } finally {
    await simAdmin("faults", { method: "DELETE" });
  }
  await page.reload();
  await expect(page.getByRole("alert", { name: "Publishing failed" })).toContainText("Kandji answered 503 to PATCH /api/v1/library/custom-profiles/");
  await expect(page.getByTestId("previous-secret")).toHaveText(/the new profile is not published to Kandji yet/);
  await shot(page, "publish-failed");
  const published = (await libraryItems())[0]!.profile;
  expect(directoryOf(published)).toBe(directoryOf(after!.profile));
  expect((await enroll({ profile: published, device: device(5), ca: simCa })).certificatePem).toContain("BEGIN CERTIFICATE");

  // The secret leaked while Kandji is still down: rotating with "Revoke the previous secret now" cuts
  // every earlier profile off at once, although the new one has not reached Kandji.
  expect((await simAdmin("faults", { method: "PUT", body: JSON.stringify({ errorStatus: 503 }) })).ok).toBe(true);
  try {
    await page.getByLabel("Revoke the previous secret now (it leaked)", { exact: false }).check();
    await page.getByRole("button", { name: "Rotate enrollment secret" }).click();
    await expect(page.getByText("Enrollment secret rotated, but publishing to Kandji failed: Kandji answered 503")).toContainText(
      "The previous secret no longer enrolls.",
    );
  } finally {
    await simAdmin("faults", { method: "DELETE" });
  }
  await expect(enroll({ profile: published, device: device(6), ca: simCa })).rejects.toMatchObject({ status: 404 });
  await page.reload();
  await expect(page.getByTestId("previous-secret")).toHaveCount(0);

  await navigate(page, "Data and Monitoring", "General Events");
  await page.getByLabel("Search").fill("Publish Platform");
  await page.getByRole("button", { name: "Apply" }).click();
  const table = page.getByTestId("events-table");
  await expect(table).toContainText("Profile Published");
  await expect(table).toContainText("Profile Publish Failed");
  expect(await page.content()).not.toContain(KANDJI.token);
});

test("an auditor cannot publish, and the Kandji token is never returned", async ({ page, request }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  let last = "";
  const token = async (name: string, scope: "ADMIN" | "AUDITOR") => {
    await navigate(page, "Settings", "API Tokens");
    const form = page.getByRole("form", { name: "Create API token" });
    await form.getByLabel("Name").fill(name);
    await form.getByLabel("Scope").selectOption(scope);
    await form.getByRole("button", { name: "Add" }).click();
    await expect(page.getByTestId("new-token")).toHaveValue(/^apki_/);
    await expect(page.getByTestId("new-token")).not.toHaveValue(last);
    return (last = await page.getByTestId("new-token").inputValue());
  };
  const auditor = { Authorization: `Bearer ${await token("publish-auditor", "AUDITOR")}` };
  const admin = { Authorization: `Bearer ${await token("publish-admin", "ADMIN")}` };

  const platforms = (await (await request.get("/api/v1/device-management-platforms", { headers: auditor })).json()).data as { id: string; name: string }[];
  const platform = platforms.find((p) => p.name === "Publish Platform")!;
  const cores = (await (await request.get("/api/v1/core-platforms", { headers: auditor })).json()).data as { id: string; name: string }[];
  const core = cores.find((c) => c.name === "Kandji Publisher")!;
  const before = (await libraryItems())[0]!;
  const refused = await request.post(`/api/v1/device-management-platforms/${platform.id}/publish`, {
    headers: auditor,
    data: { corePlatformId: core.id, blueprintIds: ["x"] },
  });
  expect(refused.status()).toBe(403);
  expect((await request.post(`/api/v1/device-management-platforms/${platform.id}/rotate-secret`, { headers: auditor })).status()).toBe(403);
  // A revocation sent wrong is refused, not taken for a plain rotation.
  const rotate = (headers: Record<string, string>, data: unknown) =>
    request.post(`/api/v1/device-management-platforms/${platform.id}/rotate-secret`, { headers: { ...admin, ...headers }, data });
  expect((await rotate({ "content-type": "text/plain" }, '{"revokePrevious":true}')).status()).toBe(415);
  const bad = await rotate({}, { revokePrevious: "yes" });
  expect(bad.status()).toBe(400);
  expect((await bad.json()).error).toContain("revokePrevious must be true or false");
  expect((await rotate({}, { revokePrevious: true, extra: 1 })).status()).toBe(400);
  expect((await libraryItems())[0]!.updated_at).toBe(before.updated_at);
  // No body, whatever the Content-Type, is a plain rotation (published again: 200 with how it went).
  const plain = await rotate({ "content-type": "application/json" }, undefined);
  expect(plain.status()).toBe(200);
  expect((await plain.json()).data.published).toMatchObject({ ok: true });

  // The Core Platform that publishes cannot be deleted from under the platform.
  const del = await request.delete(`/api/v1/core-platforms/${core.id}`, { headers: admin });
  expect(del.status()).toBe(409);
  expect((await del.json()).error).toContain('Device Management Platform "Publish Platform" (Publish to Kandji)');

  const { Validator } = await import("@seriousme/openapi-schema-validator");
  const doc = await (await request.get("/api/v1/openapi.json")).json();
  expect((await new Validator().validate(doc)).valid).toBe(true);
  expect(doc.paths["/device-management-platforms/{id}/publish"].post.requestBody.content["application/json"].schema.required).toEqual([
    "corePlatformId",
    "blueprintIds",
  ]);

  // The platform page, its publish form included, holds no token either.
  await page.goto(`/integration-hub/device-management-platforms/${platform.id}`);
  await expect(page.getByRole("heading", { name: "Publish to Kandji" })).toBeVisible();
  for (const text of [await page.content(), JSON.stringify(platforms), JSON.stringify(cores)]) expect(text).not.toContain(KANDJI.token);
});
