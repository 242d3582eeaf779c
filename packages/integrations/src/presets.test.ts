import { startIntuneSimulator, type IntuneSimulator } from "@attested/intune-sim";
import { startJamfSimulator, type JamfSimulator } from "@attested/jamf-sim";
import { startKandjiSimulator, type KandjiSimulator } from "@attested/kandji-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lookupDevice, type LookupConfig } from "./lookup";
import { clearTokenCache } from "./oauth";
import { applyPreset, type PresetId, type PresetInput } from "./presets";
import { rulesPinIdentity } from "./rules";

// Each vendor's preset, filled with a simulated tenant's address, finds its managed device with the
// right attributes and refuses an unknown one: the presets carry the vendors' real paths.

let kandji: KandjiSimulator;
let jamf: JamfSimulator;
let intune: IntuneSimulator;
const TENANT = "9f8e7d6c-0000-4000-8000-00000000e2e1";

beforeAll(async () => {
  clearTokenCache();
  kandji = await startKandjiSimulator({
    token: "kandji-token",
    seed: {
      devices: [
        { serial_number: "C02KANDJI011", device_name: "Other Mac" },
        { serial_number: "C02KANDJI01", device_name: "Ada's Mac", user: { email: "ada@example.com", name: "Ada Lovelace" } },
      ],
    },
  });
  jamf = await startJamfSimulator({
    clientId: "jamf-client",
    clientSecret: "jamf-secret",
    devices: [
      { serialNumber: "C02JAMF0001", name: "Grace's Mac", username: "grace", realName: "Grace Hopper", email: "grace@example.com" },
      { serialNumber: "F4JAMFPHONE1", kind: "mobile", name: "Grace's iPhone", username: "grace", email: "grace@example.com" },
    ],
  });
  intune = await startIntuneSimulator({
    tenantId: TENANT,
    clientId: "intune-client",
    clientSecret: "intune-secret",
    devices: [
      { serialNumber: "C02INTUNE01", deviceName: "Alan's Mac", userPrincipalName: "alan@example.com", emailAddress: "alan@example.com" },
      { serialNumber: "C02INTUNE02", deviceName: "Old Mac", complianceState: "noncompliant" },
    ],
  });
});
afterAll(async () => {
  await Promise.all([kandji.close(), jamf.close(), intune.close()]);
});

function configFor(id: PresetId, input: PresetInput, credentials: Partial<LookupConfig>): LookupConfig {
  const r = applyPreset(id, input, { allowHttp: true });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  expect(rulesPinIdentity(r.config.validationRules)).toBe(true);
  return { ...r.config, timeoutMs: 2000, tokenOwner: id, ...credentials };
}
const lookup = (config: LookupConfig, identity: string) => lookupDevice({ config, identity, options: { allowHttp: true, http: { retries: 0 } } });

describe("vendor presets against the simulators", () => {
  it("Kandji: the exact serial among partial matches", async () => {
    const c = configFor("kandji", { tenantUrl: `${kandji.url}/` }, { secret: "kandji-token" });
    expect(c.uri).toBe(`${kandji.url}/api/v1/devices?serial_number=\${identity}`);
    expect(await lookup(c, "C02KANDJI01")).toMatchObject({
      outcome: "found",
      attributes: { email: "ada@example.com", deviceName: "Ada's Mac", user: "Ada Lovelace" },
    });
    expect(await lookup(c, "C02KANDJI0")).toMatchObject({ outcome: "notFound" });
  });

  it("Jamf Pro: computers and mobile devices with an OAuth token, one token for many lookups", async () => {
    const creds = { secret: "jamf-secret", oauthClientId: "jamf-client" };
    const computers = configFor("jamf-computers", { tenantUrl: jamf.url }, creds);
    expect(computers.oauthTokenUrl).toBe(`${jamf.url}/api/oauth/token`);
    expect(await lookup(computers, "C02JAMF0001")).toMatchObject({
      outcome: "found",
      attributes: { email: "grace@example.com", deviceName: "Grace's Mac", user: "grace" },
    });
    expect(await lookup(computers, "C02UNKNOWN")).toMatchObject({ outcome: "notFound" });
    const mobile = configFor("jamf-mobile", { tenantUrl: jamf.url }, creds);
    expect(await lookup(mobile, "F4JAMFPHONE1")).toMatchObject({ outcome: "found", attributes: { deviceName: "Grace's iPhone" } });
    expect(jamf.tokensIssued).toBe(2); // one per Core Platform

    // The instance forgets its tokens: the 401 brings one new token, and the lookup succeeds.
    jamf.revokeTokens();
    expect(await lookup(computers, "C02JAMF0001")).toMatchObject({ outcome: "found" });
    expect(jamf.tokensIssued).toBe(3);

    const wrong = configFor("jamf-computers", { tenantUrl: jamf.url }, { ...creds, secret: "wrong" });
    expect(await lookup(wrong, "C02JAMF0001")).toMatchObject({
      outcome: "error",
      failedStep: "token",
      reason: "token request failed: HTTP 401 (invalid_client)",
    });
    jamf.faults.errorStatus = 403;
    jamf.faults.errorCount = 1;
    expect(await lookup(computers, "C02JAMF0001")).toMatchObject({ outcome: "error", failedStep: "lookup", reason: "HTTP 403 (INVALID_PRIVILEGE: Forbidden)" });
  });

  it("Intune: Graph with the .default scope, the compliance state mapped; Entra's and Graph's errors explained", async () => {
    const creds = { secret: "intune-secret", oauthClientId: "intune-client" };
    const c = configFor("intune", { tenantId: TENANT, graphUrl: intune.url, loginUrl: intune.url }, creds);
    expect(c.oauthTokenUrl).toBe(intune.tokenUrl);
    expect(c.oauthScope).toBe(`${intune.url}/.default`);
    expect(await lookup(c, "C02INTUNE01")).toMatchObject({
      outcome: "found",
      attributes: { email: "alan@example.com", deviceName: "Alan's Mac", user: "alan@example.com", complianceState: "compliant" },
    });
    expect(await lookup(c, "C02INTUNE02")).toMatchObject({ outcome: "found", attributes: { complianceState: "noncompliant" } });
    expect(await lookup(c, "C02NOPE")).toMatchObject({ outcome: "notFound" });
    // An identity cannot widen the OData filter.
    expect(await lookup(c, "x' or serialNumber ne 'y")).toMatchObject({ outcome: "error", status: 400 });

    const badSecret = configFor("intune", { tenantId: TENANT, graphUrl: intune.url, loginUrl: intune.url }, { ...creds, secret: "nope" });
    const r = await lookup(badSecret, "C02INTUNE01");
    expect(r).toMatchObject({ outcome: "error", failedStep: "token" });
    expect(r.reason).toBe("token request failed: HTTP 401 (invalid_client: AADSTS7000215: Invalid client secret provided.)");

    intune.faults.missingPermission = true;
    const denied = await lookup(c, "C02INTUNE01");
    intune.faults.missingPermission = false;
    expect(denied).toMatchObject({ outcome: "error", failedStep: "lookup", status: 403 });
    expect(denied.reason).toContain("DeviceManagementManagedDevices.Read.All");
  });

  it("refuses a preset's tenant fields with the field and the reason", () => {
    expect(applyPreset("jamf-computers", {}, { allowHttp: false })).toEqual({ ok: false, errors: { tenantUrl: "Jamf Pro URL is required" } });
    expect(applyPreset("kandji", { tenantUrl: "http://acme.api.kandji.io" }, { allowHttp: false })).toEqual({
      ok: false,
      errors: { tenantUrl: "Tenant API URL must start with https://" },
    });
    expect(applyPreset("kandji", { tenantUrl: "https://acme.api.kandji.io/api/v1" }, { allowHttp: false })).toMatchObject({ ok: false });
    expect(applyPreset("intune", { tenantId: "a/b" }, { allowHttp: false })).toEqual({
      ok: false,
      errors: { tenantId: "Directory (tenant) ID is a GUID or a domain such as contoso.onmicrosoft.com" },
    });
    const ok = applyPreset("intune", { tenantId: "contoso.onmicrosoft.com" }, { allowHttp: false });
    expect(ok).toMatchObject({
      ok: true,
      config: {
        oauthTokenUrl: "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
        oauthScope: "https://graph.microsoft.com/.default",
      },
      list: { paging: "nextLink" },
    });
  });
});
