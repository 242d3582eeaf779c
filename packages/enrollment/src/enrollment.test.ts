import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { X509Certificate, webcrypto } from "node:crypto";
import {
  AcmeClient,
  AcmeClientError,
  FORGERIES,
  SimulatedAppleCa,
  enroll,
  generateDevices,
  prepareDevice,
  prepareDevices,
  runFleet,
  type Forgery,
} from "@attested/device-sim";
import {
  createKeyAttestationPlatform,
  createPlatform,
  platformProfile,
  rotateEnrollmentSecret,
  setTestTrustedRoots,
  updatePlatform,
} from "@attested/platforms";
import { encode } from "cbor-x";
import { revokeCertificate, updateTemplate } from "@attested/ca";
import { forgetCachedConfig } from "@attested/db";
import { startTestbed, testAdmin } from "./testing";

const admin = testAdmin;
let db: Awaited<ReturnType<typeof startTestbed>>["db"];
let bed: Awaited<ReturnType<typeof startTestbed>>;
let publicUrl = "";
let profile = "";
let simCa: SimulatedAppleCa;
let rootPem = "";
let platformId = "";
const device = {
  serialNumber: "C02ZK0XAMD6T",
  udid: "00008112-001A2C3E0E38801E",
  deviceName: "Jane's MacBook",
  email: "jane@example.com",
  fullName: "Jane Appleseed",
};

beforeAll(async () => {
  bed = await startTestbed({
    name: "Kandji",
    subject: "CN=${/attestation/serialNumber},O=Acme Corp",
    validityDays: 365,
    sanRfc822: "${/csr/san/rfc822name}",
    sanUri: "urn:udid:${/attestation/udid}",
    extendedKeyUsages: ["clientAuth"],
  });
  ({ db, publicUrl, rootPem } = bed);
  simCa = await SimulatedAppleCa.create();
  const kap = await createKeyAttestationPlatform(db.prisma, admin, { name: "Apple", type: "apple" });
  await setTestTrustedRoots(db.prisma, admin, kap.id, { testTrustedRoots: simCa.rootPem });
  const platform = await createPlatform(db.prisma, admin, { name: "Kandji", type: "acme-enrollment-token", vendor: "kandji" });
  await updatePlatform(db.prisma, admin, platform.id, { name: "Kandji", description: "", defaultCaId: bed.caId, defaultTemplateId: bed.templateId });
  profile = (await platformProfile(db.prisma, admin, platform.id, publicUrl)).xml;
  platformId = platform.id;
});

afterAll(async () => {
  await bed?.close();
});

describe("Apple device enrollment over ACME (device-attest-01)", () => {
  it("issues to a genuine (simulated) device a certificate that chains to the CA and carries the template", async () => {
    const result = await enroll({ profile, device, ca: simCa, allowHttp: true });
    const dir = mkdtempSync(path.join(os.tmpdir(), "enroll-"));
    writeFileSync(path.join(dir, "root.pem"), rootPem);
    writeFileSync(path.join(dir, "chain.pem"), result.chainPem);
    writeFileSync(path.join(dir, "leaf.pem"), result.certificatePem);
    const verify = execFileSync(
      "openssl",
      ["verify", "-CAfile", path.join(dir, "root.pem"), "-untrusted", path.join(dir, "chain.pem"), path.join(dir, "leaf.pem")],
      { encoding: "utf8" },
    );
    expect(verify).toContain(": OK");
    const text = execFileSync("openssl", ["x509", "-in", path.join(dir, "leaf.pem"), "-noout", "-text"], { encoding: "utf8" });
    expect(text).toMatch(/Subject: CN\s*=\s*C02ZK0XAMD6T, O\s*=\s*Acme Corp/);
    expect(text).toContain("email:jane@example.com");
    expect(text).toContain(`URI:urn:udid:${device.udid}`);
    expect(text).toContain("TLS Web Client Authentication");
    const cert = await db.prisma.certificate.findFirstOrThrow({ where: { deviceSerial: device.serialNumber } });
    expect(cert).toMatchObject({ deviceUdid: device.udid, emailAddress: "jane@example.com", status: "ACTIVE" });
    const issued = await db.prisma.event.findFirstOrThrow({ where: { type: "Certificate Issued", deviceSerial: device.serialNumber } });
    expect(issued.details).toMatchObject({ attestation: { serialNumber: device.serialNumber, osVersion: expect.any(String) } });
    // The email came from the device's request, not from Apple or the MDM: the event says so.
    expect((issued.details as { fromCsr: unknown }).fromCsr).toEqual([{ field: "sanRfc822", value: "jane@example.com" }]);
    expect(await db.prisma.event.count({ where: { type: "Attestation Verified", deviceSerial: device.serialNumber } })).toBe(1);
    // The protocol steps are on the trail too, recorded with the change each describes.
    const order = await db.prisma.event.findFirstOrThrow({ where: { type: "ACME Order Created", details: { path: ["orderId"], equals: cert.acmeOrderId! } } });
    expect(order).toMatchObject({ actorType: "device", objectType: "device-management-platform", outcome: "success" });
    expect(order.time.getTime()).toBeGreaterThan(Date.now() - 600_000);
    expect(await db.prisma.event.count({ where: { type: "ACME Account Created" } })).toBeGreaterThanOrEqual(1);
  });

  it("enrolls with a key and CSR prepared ahead (the benchmark's fleet), each certificate for its device's key", async () => {
    const prepared = await prepareDevice({ profile, device: { ...device, serialNumber: "PREPARED001" } });
    const one = await enroll({ profile, device: { ...device, serialNumber: "PREPARED001" }, ca: simCa, allowHttp: true, prepared });
    expect(one.key).toBe(prepared.key);
    expect(new X509Certificate(one.certificatePem).publicKey.export({ type: "spki", format: "der" }).equals(prepared.key.spki)).toBe(true);
    // The ACME account is the prepared account key's.
    const account = await db.prisma.acmeAccount.findUniqueOrThrow({ where: { id: one.accountUrl.split("/").pop()! } });
    const { x, y } = await webcrypto.subtle.exportKey("jwk", prepared.accountKey.publicKey);
    expect(account.jwk).toMatchObject({ kty: "EC", crv: "P-256", x, y });

    const devices = generateDevices(3, "PREPFLT");
    const fleet = await runFleet({ profile, devices, concurrency: 2, ca: simCa, allowHttp: true, prepared: await prepareDevices(profile, devices) });
    expect([fleet.ok, fleet.failed]).toEqual([3, 0]);
    for (const d of devices) {
      const cert = await db.prisma.certificate.findFirstOrThrow({ where: { deviceSerial: d.serialNumber } });
      expect(cert.status).toBe("ACTIVE");
    }
  });

  it("leaves the CSR's SANs out of an attested device's certificate when the template does not allow them, and says so", async () => {
    const template = await db.prisma.certificateTemplate.findUniqueOrThrow({ where: { id: bed.templateId } });
    const { id: _, createdAt: __, updatedAt: ___, ...input } = template;
    await updateTemplate(bed.ctx, admin, bed.templateId, { ...input, allowCsrSans: false });
    try {
      const r = await enroll({ profile, device: { ...device, serialNumber: "NOCSRSANS01" }, ca: simCa, allowHttp: true });
      const text = execFileSync("openssl", ["x509", "-noout", "-text"], { input: r.certificatePem, encoding: "utf8" });
      expect(text).not.toContain("jane@example.com");
      expect(text).toContain("URI:urn:udid:");
      const issued = await db.prisma.event.findFirstOrThrow({ where: { type: "Certificate Issued", deviceSerial: "NOCSRSANS01" } });
      expect(issued.details).toMatchObject({ omitted: [{ field: "sanRfc822", reason: expect.stringContaining("does not take SANs from the CSR") }] });
      expect(issued.details).not.toHaveProperty("fromCsr");
    } finally {
      await updateTemplate(bed.ctx, admin, bed.templateId, { ...input, allowCsrSans: true });
    }
  });

  const forgeries = FORGERIES.filter((f) => f !== "otherKey");
  it.each(forgeries)("refuses a forged attestation (%s) with badAttestationStatement and issues nothing", async (forge) => {
    const before = await db.prisma.certificate.count();
    const serial = `FORGE${forge.toUpperCase().slice(0, 7)}`;
    const err = await enroll({ profile, device: { ...device, serialNumber: serial }, ca: simCa, forge: forge as Forgery, allowHttp: true }).catch((e) => e);
    expect(err).toBeInstanceOf(AcmeClientError);
    expect((err as AcmeClientError).problem?.type).toBe("urn:ietf:params:acme:error:badAttestationStatement");
    expect(await db.prisma.certificate.count()).toBe(before);
    const failed = await db.prisma.event.findFirstOrThrow({ where: { type: "Attestation Failed", deviceSerial: serial } });
    expect(failed.summary).toMatch(/Attestation failed: \w+/);
  });

  it("tells the device only a generic reason when no Key Attestation Platform is configured; the event says which", async () => {
    await db.prisma.keyAttestationPlatform.updateMany({ data: { type: "none" } });
    forgetCachedConfig(db.prisma);
    try {
      const err = await enroll({ profile, device: { ...device, serialNumber: "NOKAP000001" }, ca: simCa, allowHttp: true }).catch((e) => e);
      expect((err as AcmeClientError).problem).toMatchObject({
        type: "urn:ietf:params:acme:error:badAttestationStatement",
        detail: "chainInvalid: The attestation could not be verified; an administrator can see why in the portal's events",
      });
      expect(JSON.stringify((err as AcmeClientError).problem)).not.toMatch(/Key Attestation Platform|Integration Hub/);
      const failed = await db.prisma.event.findFirstOrThrow({ where: { type: "Attestation Failed", deviceSerial: "NOKAP000001" } });
      expect(failed.summary).toBe("Attestation failed: No Key Attestation Platform is configured (Integration Hub > Key Attestation Platforms)");
    } finally {
      await db.prisma.keyAttestationPlatform.updateMany({ data: { type: "apple" } });
      forgetCachedConfig(db.prisma);
    }
  });

  it("lets the device revoke through ACME a certificate an admin put on hold, with its own reason", async () => {
    const prepared = await prepareDevice({ profile, device: { ...device, serialNumber: "ONHOLD00001" } });
    const r = await enroll({ profile, device: { ...device, serialNumber: "ONHOLD00001" }, ca: simCa, allowHttp: true, prepared });
    const cert = await db.prisma.certificate.findFirstOrThrow({ where: { deviceSerial: "ONHOLD00001" } });
    await revokeCertificate(bed.ctx, admin, cert.id, { reason: "certificateHold" });
    const client = new AcmeClient({ directoryUrl: r.payload.DirectoryURL, accountKey: prepared.accountKey });
    await client.createAccount();
    const der = Buffer.from(new X509Certificate(r.certificatePem).raw).toString("base64url");
    const res = await client.post((await client.getDirectory()).revokeCert!, { certificate: der, reason: 1 });
    expect(res.status).toBe(200);
    expect(await db.prisma.certificate.findUniqueOrThrow({ where: { id: cert.id } })).toMatchObject({ status: "REVOKED", revocationReason: "keyCompromise" });
    // Revoked for good: a second request is alreadyRevoked.
    const again = await client.post((await client.getDirectory()).revokeCert!, { certificate: der, reason: 1 }).catch((e) => e);
    expect((again as AcmeClientError).problem?.type).toBe("urn:ietf:params:acme:error:alreadyRevoked");
  });

  it("refuses at finalize a CSR whose key is not the attested key", async () => {
    const before = await db.prisma.certificate.count();
    const err = await enroll({ profile, device: { ...device, serialNumber: "OTHERKEY001" }, ca: simCa, forge: "otherKey", allowHttp: true }).catch((e) => e);
    expect(err).toBeInstanceOf(AcmeClientError);
    expect((err as AcmeClientError).problem?.type).toBe("urn:ietf:params:acme:error:badCSR");
    expect(await db.prisma.certificate.count()).toBe(before);
    const denied = await db.prisma.event.findFirstOrThrow({ where: { type: "Enrollment Denied", deviceSerial: "OTHERKEY001" } });
    expect(denied.summary).toContain("not the key the device attested");
    // What Apple attested about the refused device is on the trail with the denial.
    expect(denied.details).toMatchObject({ code: "publicKeyMismatch", attestation: { serialNumber: "OTHERKEY001", udid: expect.any(String) } });
  });

  it("answers bad requests with RFC 8555 problem documents and keeps serving", async () => {
    const directoryUrl = /<key>DirectoryURL<\/key>\s*<string>([^<]+)<\/string>/.exec(profile)![1];
    const dir = await (await fetch(directoryUrl)).json();
    const cases: RequestInit[] = [
      { method: "POST", headers: { "content-type": "application/jose+json" }, body: "{not json" },
      { method: "POST", headers: { "content-type": "application/json" }, body: "{}" },
      { method: "POST", headers: { "content-type": "application/jose+json" }, body: JSON.stringify({ protected: "!!", payload: "", signature: "" }) },
      { method: "POST", headers: { "content-type": "application/jose+json" }, body: "x".repeat(200_000) },
    ];
    for (const init of cases) {
      const res = await fetch(dir.newAccount, init);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
      expect(res.headers.get("replay-nonce")).toBeTruthy();
      expect((await res.json()).type).toMatch(/^urn:ietf:params:acme:error:/);
    }
    expect((await fetch(directoryUrl)).status).toBe(200);
  });
});

describe("enrollment secret rotation", () => {
  it("disables profiles made before, records the rotation, and the new profile enrolls", async () => {
    await rotateEnrollmentSecret(db.prisma, admin, platformId);
    const err = await enroll({ profile, device: { ...device, serialNumber: "ROTATED0001" }, ca: simCa, allowHttp: true }).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(await db.prisma.certificate.count({ where: { deviceSerial: "ROTATED0001" } })).toBe(0);
    expect(await db.prisma.event.count({ where: { type: "Enrollment Secret Rotated", objectId: platformId } })).toBe(1);
    const fresh = (await platformProfile(db.prisma, admin, platformId, publicUrl)).xml;
    expect(fresh).not.toEqual(profile);
    const ok = await enroll({ profile: fresh, device: { ...device, serialNumber: "ROTATED0001" }, ca: simCa, allowHttp: true });
    expect(ok.certificatePem).toContain("BEGIN CERTIFICATE");
    profile = fresh;
  });
});

describe("hostile attestation objects", () => {
  it("answers a CBOR bomb in device-attest-01 with badAttestationStatement and keeps serving", async () => {
    // A declared 4 GiB byte string, and 10,000 levels of nesting: refused before decoding.
    const bombs = [
      Buffer.from([0xa1, 0x63, 0x66, 0x6d, 0x74, 0x5a, 0xff, 0xff, 0xff, 0xff]),
      Buffer.from(encode(JSON.parse("[".repeat(200) + "]".repeat(200)))),
    ];
    for (const bomb of bombs) {
      const err = await enroll({
        profile,
        device: { ...device, serialNumber: "CBORBOMB001" },
        ca: simCa,
        allowHttp: true,
        attObjOverride: new Uint8Array(bomb),
      }).catch((e) => e);
      expect(err).toBeInstanceOf(AcmeClientError);
      expect((err as AcmeClientError).problem?.type).toBe("urn:ietf:params:acme:error:badAttestationStatement");
    }
    expect(await db.prisma.certificate.count({ where: { deviceSerial: "CBORBOMB001" } })).toBe(0);
  });
});
