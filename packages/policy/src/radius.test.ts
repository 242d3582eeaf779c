import { setAllowHttp } from "@attested/integrations";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

process.env.MASTER_KEY = randomBytes(32).toString("hex");
setAllowHttp(true); // INTEGRATIONS_ALLOW_HTTP=1, as the server hands it over

const { createTestDatabase } = await import("@attested/db/testing");
const { startKandjiSimulator } = await import("@attested/kandji-sim");
const { createTemplate, databaseKeyStore, ensureOrganizationRootCa, issueAndRecord } = await import("@attested/ca");
const { systemActor } = await import("@attested/events");
const { revokeUnusedCertificates } = await import("@attested/lifecycle");
const { ForbiddenError } = await import("@attested/errors");
const policy = await import("./index");

const TOKEN = "radius-kandji-token";
const admin = { type: "user" as const, id: "00000000-0000-0000-0000-000000000001", name: "admin@example.com", role: "ADMIN" as const };
const radiusServer = { type: "api-token" as const, id: "00000000-0000-0000-0000-0000000000aa", name: "token:freeradius", role: "ADMIN" as const };
const fast = { lookup: { allowHttp: true, http: { backoffBaseMs: 5, backoffMaxMs: 20, retryAfterCapMs: 20 } } };

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let sim: Awaited<ReturnType<typeof startKandjiSimulator>>;
let ctx: import("@attested/ca").CaContext;
let caSubject = "";
let sssId = "";
const dir = mkdtempSync(path.join(os.tmpdir(), "radius-test-"));

async function issue(serial: string) {
  const csr = path.join(dir, `${serial}.der`);
  execFileSync(
    "openssl",
    [
      "req",
      "-new",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      path.join(dir, `${serial}.key`),
      "-subj",
      `/CN=${serial}`,
      "-outform",
      "DER",
      "-out",
      csr,
    ],
    { stdio: "ignore" },
  );
  const template = await db.prisma.certificateTemplate.findFirstOrThrow();
  const ca = await db.prisma.certificateAuthority.findFirstOrThrow();
  return (
    await issueAndRecord(ctx, {
      caId: ca.id,
      templateId: template.id,
      csrDer: readFileSync(csr),
      context: {},
      actor: systemActor("test"),
      deviceSerial: serial,
    })
  ).certificate;
}
const authorize = (input: unknown, actor = radiusServer) => policy.authorizeRadius(ctx, actor, input, fast);

beforeAll(async () => {
  db = await createTestDatabase();
  await db.prisma.organization.create({ data: { name: "Acme Corp" } });
  sim = await startKandjiSimulator({
    token: TOKEN,
    seed: { devices: [{ serial_number: "C02RAD0001" }, { serial_number: "C02RAD0002" }, { serial_number: "C02RAD00023" }] },
  });
  ctx = { db: db.prisma, keyStore: databaseKeyStore(db.prisma), publicUrl: "http://pki.test" };
  const root = await ensureOrganizationRootCa(ctx);
  caSubject = root!.subjectDn;
  await db.prisma.certificateAuthority.update({ where: { id: root!.id }, data: { revocationReason: "privilegeWithdrawn" } });
  await createTemplate(ctx, admin, {
    name: "Wi-Fi",
    subject: "CN=${/csr/subject/commonname}",
    validityDays: 30,
    signatureAlgorithm: "SHA-256",
    extendedKeyUsages: ["clientAuth"],
  });
});
afterAll(async () => {
  await sim?.close();
  await db?.close();
});

describe("POST /api/v1/radius/authorize (authorizeRadius)", () => {
  it("without a RADIUS Authentication source, the certificate's status decides", async () => {
    const cert = await issue("C02RAD0001");
    const d = await authorize({ certificatePem: cert.pem });
    expect(d).toMatchObject({ decision: "accept", signalSource: null, certificate: { serialNumber: cert.serialNumber, status: "ACTIVE" } });
    expect(d.reason).toContain("no RADIUS Authentication Security Signal Source applies");
    expect((await db.prisma.certificate.findUniqueOrThrow({ where: { id: cert.id } })).lastSeenAt).not.toBeNull();
  });

  it("with one, a fresh lookup of the certificate's device decides; last usage is recorded", async () => {
    const cp = await policy.createCorePlatform(db.prisma, admin, {
      name: "Kandji",
      type: "generic-http",
      authMethod: "bearer",
      secret: TOKEN,
      timeoutMs: 1000,
      uri: `${sim.url}/api/v1/devices?serial_number=\${identity}`,
      validationRules: [{ path: "data[0].serial_number", condition: "equals", expected: "${identity}" }],
    });
    const sss = await policy.createSignalSource(db.prisma, admin, {
      name: "RADIUS lookup",
      lookupPurpose: "radius-authentication",
      corePlatformId: cp.id,
      identityType: "certificate",
      identityAttribute: "/certificate/deviceSerial",
      revokeOnFailure: true,
    });
    sssId = sss.id;
    const cert = await db.prisma.certificate.findFirstOrThrow({ where: { deviceSerial: "C02RAD0001" } });
    await db.prisma.certificate.update({ where: { id: cert.id }, data: { lastSeenAt: null } });
    const calls = sim.state.requests.length;
    const d = await authorize({ certificatePem: cert.pem });
    expect(d).toMatchObject({
      decision: "accept",
      reason: 'the certificate is active and device C02RAD0001 was found in "Kandji"',
      signalSource: { name: "RADIUS lookup" },
    });
    expect(sim.state.requests.length - calls).toBe(1);
    expect((await db.prisma.certificate.findUniqueOrThrow({ where: { id: cert.id } })).lastSeenAt).not.toBeNull();
    const ev = await db.prisma.event.findFirstOrThrow({ where: { type: "RADIUS Authentication" }, orderBy: { id: "desc" } });
    expect(ev).toMatchObject({ outcome: "success", actorName: "token:freeradius", certificateSerial: cert.serialNumber, deviceSerial: "C02RAD0001" });
    expect(ev.details).toMatchObject({ identity: { attribute: "/certificate/deviceSerial", value: "C02RAD0001" }, lookup: { outcome: "found", status: 200 } });
  });

  it("finds the certificate by serial number and issuer, written the way RADIUS servers write it", async () => {
    const cert = await db.prisma.certificate.findFirstOrThrow({ where: { deviceSerial: "C02RAD0001" } });
    const slash = `/${caSubject.split(/,\s*/).reverse().join("/")}`;
    expect(await authorize({ serialNumber: cert.serialNumber.toUpperCase().match(/../g)!.join(":"), issuer: slash })).toMatchObject({ decision: "accept" });
    expect(await authorize({ serialNumber: cert.serialNumber, issuer: caSubject })).toMatchObject({ decision: "accept" });
    expect(await authorize({ serialNumber: cert.serialNumber, issuer: "CN=Someone Else" })).toMatchObject({
      decision: "reject",
      reason: `issuer "CN=Someone Else" is not the issuer of certificate ${cert.serialNumber}`,
    });
    expect(await authorize({ serialNumber: "0badc0ffee", issuer: caSubject })).toMatchObject({
      decision: "reject",
      reason: "no certificate with serial number 0badc0ffee was issued by this PKI",
    });
  });

  it("refuses a certificate this PKI did not issue, even with a known serial", async () => {
    const cert = await db.prisma.certificate.findFirstOrThrow({ where: { deviceSerial: "C02RAD0001" } });
    const forged = execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        path.join(dir, "f.key"),
        "-subj",
        "/CN=C02RAD0001",
        "-set_serial",
        `0x${cert.serialNumber}`,
        "-days",
        "1",
      ],
      { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
    );
    expect(await authorize({ certificatePem: forged })).toMatchObject({ decision: "reject", reason: "the certificate was not issued by this PKI" });
    expect(await authorize({ certificatePem: "not a pem" })).toMatchObject({ decision: "reject", reason: "certificatePem is not a PEM certificate" });
    await expect(authorize({ certificatePem: cert.pem, extra: 1 })).rejects.toThrow();
  });

  it("a lookup that cannot answer rejects but never revokes", async () => {
    const cert = await issue("C02RAD0002");
    sim.state.setFaults({ errorStatus: 503 });
    try {
      const d = await authorize({ certificatePem: cert.pem });
      expect(d).toMatchObject({ decision: "reject", reason: 'device lookup in "Kandji" failed: HTTP 503 after 2 retries' });
    } finally {
      sim.state.clearFaults();
    }
    expect((await db.prisma.certificate.findUniqueOrThrow({ where: { id: cert.id } })).status).toBe("ACTIVE");
    expect(await db.prisma.event.count({ where: { type: "Device Lookup Failed", certificateSerial: cert.serialNumber } })).toBe(1);
    // The exact-match rule also holds here: C02RAD0002 is a prefix of C02RAD00023, and is found exactly.
    expect(await authorize({ certificatePem: cert.pem })).toMatchObject({ decision: "accept" });
  });

  it("a device gone from the MDM is rejected and, with Revoke On Failure, revoked with the CA's reason", async () => {
    const cert = await db.prisma.certificate.findFirstOrThrow({ where: { deviceSerial: "C02RAD0002" } });
    sim.state.removeDevice("C02RAD0002");
    const d = await authorize({ certificatePem: cert.pem });
    expect(d).toMatchObject({
      decision: "reject",
      certificate: { status: "REVOKED" },
      revoked: [{ serialNumber: cert.serialNumber, reason: "privilegeWithdrawn" }],
    });
    expect(d.reason).toBe(
      'device C02RAD0002 not found in "Kandji": rule failed: data[0].serial_number equals "C02RAD0002": actual "C02RAD00023"; certificate revoked (Revoke On Failure)',
    );
    expect(await db.prisma.certificate.findUniqueOrThrow({ where: { id: cert.id } })).toMatchObject({
      status: "REVOKED",
      revocationReason: "privilegeWithdrawn",
    });
    const revoked = await db.prisma.event.findFirstOrThrow({ where: { type: "Certificate Revoked", certificateSerial: cert.serialNumber } });
    expect(revoked.actorName).toBe("Revoke On Failure (RADIUS lookup)");
    expect(await authorize({ certificatePem: cert.pem })).toMatchObject({ decision: "reject", reason: "the certificate is revoked (privilegeWithdrawn)" });
  });

  it("without Revoke On Failure the certificate stays; expired certificates and auditors are refused", async () => {
    await policy.updateSignalSource(db.prisma, admin, sssId, { revokeOnFailure: false });
    const cert = await issue("C02RAD0009");
    expect(await authorize({ certificatePem: cert.pem })).toMatchObject({ decision: "reject" });
    expect((await db.prisma.certificate.findUniqueOrThrow({ where: { id: cert.id } })).status).toBe("ACTIVE");
    await db.prisma.certificate.update({ where: { id: cert.id }, data: { notAfter: new Date(Date.now() - 1000) } });
    expect((await authorize({ certificatePem: cert.pem })).reason).toMatch(/^the certificate expired on /);
    await expect(authorize({ certificatePem: cert.pem }, { ...radiusServer, role: "AUDITOR" as never })).rejects.toBeInstanceOf(ForbiddenError);
    const rejected = await db.prisma.event.count({ where: { type: "RADIUS Authentication", outcome: "denied" } });
    expect(rejected).toBeGreaterThanOrEqual(6);
  });
});

describe("a RADIUS Authentication is the certificate's use: the CA's Revoke Certificate if unused rule sees it", () => {
  it("of two certificates unused for longer than the CA allows, the one that just authenticated stays", async () => {
    await policy.updateSignalSource(db.prisma, admin, sssId, { revokeOnFailure: false });
    const [used, idle] = [await issue("C02RAD0001"), await issue("C02RAD0001")];
    const longAgo = new Date(Date.now() - 10 * 86_400_000);
    await db.prisma.certificate.updateMany({ where: { id: { in: [used.id, idle.id] } }, data: { issuedAt: longAgo, lastSeenAt: longAgo } });
    const ca = await db.prisma.certificateAuthority.findFirstOrThrow({ where: { id: used.caId } });
    await db.prisma.certificateAuthority.update({ where: { id: ca.id }, data: { revokeUnusedDays: 7, revokeSinceLastUsage: true } });
    try {
      expect(await authorize({ certificatePem: used.pem })).toMatchObject({ decision: "accept" });
      const { revoked } = await revokeUnusedCertificates(ctx);
      expect(revoked.map((r) => r.certificateId)).toContain(idle.id);
      expect(revoked.map((r) => r.certificateId)).not.toContain(used.id);
      expect((await db.prisma.certificate.findUniqueOrThrow({ where: { id: used.id } })).status).toBe("ACTIVE");
    } finally {
      await db.prisma.certificateAuthority.update({ where: { id: ca.id }, data: { revokeUnusedDays: null, revokeSinceLastUsage: false } });
    }
  });
});

describe("POST /api/v1/radius/refusals (recordRadiusRefusal): a certificate the TLS handshake refused", () => {
  const refuse = (input: unknown, actor = radiusServer) => policy.recordRadiusRefusal(ctx, actor, input);
  const slash = () => `/${caSubject.split(/,\s*/).reverse().join("/")}`;
  const latest = () => db.prisma.event.findFirstOrThrow({ where: { type: "RADIUS Authentication" }, orderBy: { id: "desc" } });

  it("a revoked certificate: an event on the certificate and its device, counted as its last use", async () => {
    const cert = await issue("C02RAD0011");
    await policy.authorizeRadius(ctx, radiusServer, { certificatePem: cert.pem }, fast); // so the revocation below is the portal's doing
    await db.prisma.certificate.update({
      where: { id: cert.id },
      data: { status: "REVOKED", revokedAt: new Date(), revocationReason: "keyCompromise", lastSeenAt: null },
    });
    const d = await refuse({ serialNumber: cert.serialNumber, issuer: slash(), subject: "/CN=C02RAD0011", reason: "eap_tls: ocsp: Cert status: revoked" });
    expect(d).toMatchObject({
      decision: "reject",
      reason: "the certificate is revoked (keyCompromise); the RADIUS server refused it in the TLS handshake (eap_tls: ocsp: Cert status: revoked)",
      certificate: { id: cert.id, status: "REVOKED" },
    });
    expect((await db.prisma.certificate.findUniqueOrThrow({ where: { id: cert.id } })).lastSeenAt).not.toBeNull();
    expect(await latest()).toMatchObject({
      outcome: "denied",
      objectId: cert.id,
      certificateSerial: cert.serialNumber,
      deviceSerial: "C02RAD0011",
      details: { refusedBy: "TLS handshake", countedAsUse: true, serverReason: "eap_tls: ocsp: Cert status: revoked", subject: "/CN=C02RAD0011" },
    });
  });

  it("an unknown certificate: an event with the serial it presented, nothing else touched", async () => {
    const d = await refuse({ serialNumber: "73:60:23:BB:5A", issuer: "/CN=Wi-Fi Devices CA", reason: "unable to get local issuer certificate" });
    expect(d.reason).toBe(
      "no certificate with serial number 73:60:23:BB:5A was issued by this PKI; the RADIUS server refused it in the TLS handshake (unable to get local issuer certificate)",
    );
    expect(d.certificate).toBeUndefined();
    expect(await latest()).toMatchObject({ outcome: "denied", objectId: null, certificateSerial: "736023bb5a", deviceSerial: null });
  });

  it("a copy of a usable certificate (same serial and issuer) is not proven to be it: not linked, not a use", async () => {
    const cert = await issue("C02RAD0012");
    const d = await refuse({ serialNumber: cert.serialNumber, issuer: slash(), reason: "OpenSSL says error 7 : certificate signature failure" });
    expect(d.reason).toBe(
      `certificate ${cert.serialNumber} of this PKI is usable, so the certificate presented was not proven to be it; the RADIUS server refused it in the TLS handshake (OpenSSL says error 7 : certificate signature failure)`,
    );
    expect(d.certificate).toBeUndefined();
    expect((await db.prisma.certificate.findUniqueOrThrow({ where: { id: cert.id } })).lastSeenAt).toBeNull();
    expect(await latest()).toMatchObject({ objectId: null, deviceSerial: null, certificateSerial: cert.serialNumber, details: { countedAsUse: false } });
  });

  it("the server's text is kept to one printable line; bad bodies and auditors change nothing", async () => {
    const cert = await db.prisma.certificate.findFirstOrThrow({ where: { deviceSerial: "C02RAD0011" } });
    const d = await refuse({ serialNumber: cert.serialNumber, issuer: caSubject, reason: `ocsp:\r\nCert status: revoked\u0007${"x".repeat(600)}` });
    expect(d.reason).toContain("(ocsp: Cert status: revoked x");
    expect((await latest()).details).toMatchObject({ serverReason: `ocsp: Cert status: revoked ${"x".repeat(500 - 27)}` });
    const radiusEvents = () => db.prisma.event.count({ where: { type: "RADIUS Authentication" } });
    const before = await radiusEvents();
    await expect(refuse({ serialNumber: cert.serialNumber, issuer: caSubject }, { ...radiusServer, role: "AUDITOR" as never })).rejects.toBeInstanceOf(
      ForbiddenError,
    );
    for (const bad of [
      {},
      { serialNumber: cert.serialNumber },
      { serialNumber: "", issuer: caSubject },
      { serialNumber: "1", issuer: "x", decision: "accept" },
      { serialNumber: 1e308, issuer: "x" },
    ])
      await expect(refuse(bad)).rejects.toThrow();
    expect(await radiusEvents()).toBe(before);
  });
});
