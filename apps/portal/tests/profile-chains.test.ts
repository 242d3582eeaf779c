import { X509Certificate } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminApiToken, freshPostgres, startPortal, tempDir, type PortalProcess } from "./harness";

// A platform's .mobileconfig installs only the chains its devices can be issued from, downloaded
// through the REST API of the running portal.
describe("profile certificate payloads", () => {
  let portal: PortalProcess;
  let token = "";
  let dropDb: (() => Promise<void>) | undefined;

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${portal.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    expect(res.status, text).toBeLessThan(300);
    return text.startsWith("{") ? JSON.parse(text) : text;
  };
  const newCa = (commonName: string, parentId?: string) =>
    api("POST", "/certificate-authorities", {
      purpose: "Device and User Authentication",
      type: parentId ? "INTERMEDIATE" : "ROOT",
      ...(parentId ? { parentId } : {}),
      generatedVia: "internal",
      commonName,
      keyAlgorithm: "EC-P256",
      signatureAlgorithm: "SHA-256",
      validityYears: 2,
    });
  /** The common names of the certificates the profile installs. */
  async function profileCas(platformId: string): Promise<string[]> {
    const profile: string = await api("GET", `/device-management-platforms/${platformId}/profile`);
    const payloads = [...profile.matchAll(/<data>([^<]+)<\/data>/g)].map((m) => new X509Certificate(Buffer.from(m[1].replace(/\s/g, ""), "base64")));
    return payloads.map((c) => /CN=([^\n]+)/.exec(c.subject)![1]).sort();
  }

  beforeAll(async () => {
    const pg = process.env.DATABASE_URL ? await freshPostgres() : null;
    dropDb = pg?.drop;
    const env = { DATA_DIR: tempDir(), DATABASE_URL: pg?.url ?? "" };
    token = adminApiToken(env);
    portal = await startPortal({ ...env, ADMIN_PASSWORD: "bootstrap-password-1" });
  });
  afterAll(async () => {
    await portal?.stop();
    await dropDb?.();
  });

  it("carries the chains of the platform's default CA and of the Enrollment Policies' CAs, not the organization's other CAs", async () => {
    const defaultRoot = (await api("GET", "/certificate-authorities")).data.find((c: { isDefault: boolean }) => c.isDefault);
    const wifi = await newCa("Wi-Fi CA", defaultRoot.id);
    const partnerRoot = await newCa("Partner Root CA");
    const partner = await newCa("Partner Issuing CA", partnerRoot.id);
    const vpnRoot = await newCa("VPN Root CA");
    const vpn = await newCa("VPN Issuing CA", vpnRoot.id);
    const template = await api("POST", "/certificate-templates", {
      name: "Device",
      subject: "CN=${/csr/subject/commonname}",
      validityDays: 90,
      extendedKeyUsages: ["clientAuth"],
    });
    const platform = async (name: string, defaultCaId?: string) => {
      const p = await api("POST", "/device-management-platforms", { name, type: "acme-enrollment-token", vendor: "kandji" });
      if (defaultCaId) await api("PATCH", `/device-management-platforms/${p.id}`, { name, description: "", defaultCaId, defaultTemplateId: template.id });
      return p.id as string;
    };
    const laptops = await platform("Laptops", wifi.id);
    const partners = await platform("Partners", partner.id);
    const bare = await platform("Not configured yet");

    expect(await profileCas(laptops)).toEqual([defaultRoot.commonName, "Wi-Fi CA"].sort());
    expect(await profileCas(partners)).toEqual(["Partner Issuing CA", "Partner Root CA"]);
    expect(await profileCas(bare)).toEqual([]);

    // An Enrollment Policy may issue to an attested device of any platform: its chain goes on every profile.
    const kap = await api("POST", "/key-attestation-platforms", { name: "Apple", type: "apple" });
    const role = await api("POST", "/device-roles", { name: "Managed Mac", keyAttestationPlatformId: kap.id });
    const workflow = await api("POST", "/policy-workflows", { name: "Anyone" });
    await api("POST", "/enrollment-policies", { name: "VPN", policyWorkflowId: workflow.id, deviceRoleId: role.id, caId: vpn.id, templateId: template.id });
    // A policy whose Device Role names no Key Attestation Platform never matches a device: no chain.
    const unmatched = await api("POST", "/device-roles", { name: "No identity yet" });
    await api("POST", "/enrollment-policies", {
      name: "Nothing",
      policyWorkflowId: workflow.id,
      deviceRoleId: unmatched.id,
      caId: partner.id,
      templateId: template.id,
    });

    expect(await profileCas(laptops)).toEqual([defaultRoot.commonName, "VPN Issuing CA", "VPN Root CA", "Wi-Fi CA"].sort());
    expect(await profileCas(bare)).toEqual(["VPN Issuing CA", "VPN Root CA"]);
  });
});
