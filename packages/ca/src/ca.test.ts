import { execFile, execFileSync, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "@attested/db/testing";
import { systemActor } from "@attested/events";
import {
  answerOcsp,
  createCa,
  createTemplate,
  currentCrl,
  databaseKeyStore,
  ensureOrganizationRootCa,
  issueAndRecord,
  revokeCertificate,
  searchCertificates,
  type CaContext,
} from "./index";

const admin = { type: "user" as const, id: "00000000-0000-0000-0000-000000000001", name: "admin@example.com", role: "ADMIN" as const };
const dir = mkdtempSync(path.join(os.tmpdir(), "ca-test-"));
const file = (name: string, content?: string | Buffer) => {
  const p = path.join(dir, name);
  if (content !== undefined) writeFileSync(p, content);
  return p;
};
const openssl = (...args: string[]) => execFileSync("openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
// For commands that talk to this process's own HTTP server: the event loop must keep running.
const opensslAsync = async (...args: string[]) => (await promisify(execFile)("openssl", args, { encoding: "utf8" })).stdout;

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let ctx: CaContext;
let ocspServer: http.Server;
let ocspBase = "";
const masterKey = randomBytes(32);

beforeAll(async () => {
  db = await createTestDatabase();
  await db.prisma.organization.create({ data: { name: "Acme Corp" } });
  // OCSP over real HTTP, as `openssl ocsp -url` speaks it (POST of the DER request).
  ocspServer = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const caId = req.url!.split("/")[2];
    const body = await answerOcsp(ctx, caId, Buffer.concat(chunks));
    res.writeHead(200, { "content-type": "application/ocsp-response" }).end(body);
  });
  await new Promise<void>((r) => ocspServer.listen(0, "127.0.0.1", () => r()));
  ocspBase = `http://127.0.0.1:${(ocspServer.address() as AddressInfo).port}`;
  ctx = { db: db.prisma, keyStore: databaseKeyStore(db.prisma, masterKey), publicUrl: ocspBase };
});
afterAll(async () => {
  ocspServer.close();
  await db.close();
});

describe("Dynamic PKI service", () => {
  let rootId = "";
  let intermediateId = "";
  let templateId = "";
  let certId = "";

  it("creates the organization's default Root CA once", async () => {
    const root = await ensureOrganizationRootCa(ctx);
    expect(root?.isDefault).toBe(true);
    expect(root?.commonName).toBe("Acme Corp Root CA");
    expect(await ensureOrganizationRootCa(ctx)).toBeNull();
    rootId = root!.id;
  });

  it("creates the guide's intermediate CA under the default Root CA", async () => {
    const ca = await createCa(ctx, admin, {
      purpose: "Device and User Authentication",
      type: "INTERMEDIATE",
      parentId: rootId,
      generatedVia: "internal",
      commonName: "Kandji ACME Intermediate CA",
      keyAlgorithm: "RSA-2048",
      signatureAlgorithm: "SHA-256",
      validityYears: 5,
      expiryNotificationDays: "30",
      notifyOnEnrollment: "on",
      revokeUnusedDays: "90",
      revokeSinceLastUsage: "on",
      revocationReason: "privilegeWithdrawn",
    });
    intermediateId = ca.id;
    expect(ca).toMatchObject({ type: "INTERMEDIATE", parentId: rootId, revokeUnusedDays: 90, revocationReason: "privilegeWithdrawn" });
    const text = openssl("x509", "-in", file("intermediate.pem", ca.certificatePem), "-noout", "-text");
    expect(text).toContain("CA:TRUE, pathlen:0");
    expect(text).toContain(`${ocspBase}/crl/${rootId}.crl`);
    expect(await db.prisma.event.count({ where: { type: "Certificate Authority Created", objectId: ca.id } })).toBe(1);
  });

  it("refuses bad CA input with a field error and stores nothing", async () => {
    const before = await db.prisma.certificateAuthority.count();
    const base = {
      purpose: "Device and User Authentication",
      type: "INTERMEDIATE",
      parentId: rootId,
      generatedVia: "internal",
      commonName: "X",
      keyAlgorithm: "RSA-2048",
      signatureAlgorithm: "SHA-256",
      validityYears: 5,
    };
    const fieldOf = async (input: Record<string, unknown>) => {
      try {
        await createCa(ctx, admin, input as never);
      } catch (e) {
        const err = e as { issues?: { path: string[] }[]; field?: string };
        return err.issues?.[0]?.path.join(".") ?? err.field;
      }
      return "accepted";
    };
    expect(await fieldOf({ ...base, validityYears: 99 })).toBe("validityYears");
    expect(await fieldOf({ ...base, keyAlgorithm: "RSA-1024" })).toBe("keyAlgorithm");
    expect(await fieldOf({ ...base, parentId: "7d0f1f5e-0000-4000-8000-000000000000" })).toBe("parentId");
    expect(await fieldOf({ ...base, commonName: "" })).toBe("commonName");
    expect(await db.prisma.certificateAuthority.count()).toBe(before);
  });

  it("refuses a template that renders an invalid name, then issues from a good one", async () => {
    await expect(createTemplate(ctx, admin, { name: "Bad", subject: "CN=${/nope/x}", validityDays: 365, extendedKeyUsages: ["clientAuth"] })).rejects.toThrow();
    const t = await createTemplate(ctx, admin, {
      name: "Kandji Template",
      subject: "CN=${/csr/subject/commonname},O=Acme Corp",
      description: "Kandji devices",
      validityDays: 365,
      signatureAlgorithm: "SHA-256",
      sanRfc822: "${/csr/san/rfc822name}",
      sanDns: "${/csr/san/dnsname}",
      sanUri: "${/device/userDescription}",
      extendedKeyUsages: ["clientAuth"],
    });
    templateId = t.id;
    openssl(
      "req",
      "-new",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      file("leaf.key"),
      "-subj",
      "/CN=C02XK1JHJG5H",
      "-addext",
      "subjectAltName=email:jane@example.com,DNS:mac-jane.example.com",
      "-outform",
      "DER",
      "-out",
      file("leaf.csr"),
    );
    const { certificate, chainPem } = await issueAndRecord(ctx, {
      caId: intermediateId,
      templateId,
      csrDer: readFileSync(file("leaf.csr")),
      context: { device: { userDescription: "https://idp.example.com/users/jane" } },
      actor: systemActor("test"),
      deviceSerial: "C02XK1JHJG5H",
    });
    certId = certificate.id;
    const root = await db.prisma.certificateAuthority.findUniqueOrThrow({ where: { id: rootId } });
    const inter = await db.prisma.certificateAuthority.findUniqueOrThrow({ where: { id: intermediateId } });
    file("root.pem", root.certificatePem);
    file("intermediate.pem", inter.certificatePem);
    file("leaf.pem", certificate.pem);
    expect(openssl("verify", "-CAfile", file("root.pem"), "-untrusted", file("intermediate.pem"), file("leaf.pem")).trim()).toBe(`${file("leaf.pem")}: OK`);
    const text = openssl("x509", "-in", file("leaf.pem"), "-noout", "-text");
    expect(text).toMatch(/Subject: CN\s*=\s*C02XK1JHJG5H, O\s*=\s*Acme Corp/);
    expect(text).toContain("email:jane@example.com");
    expect(text).toContain("DNS:mac-jane.example.com");
    expect(text).toContain("URI:https://idp.example.com/users/jane");
    expect(text).toContain("TLS Web Client Authentication");
    expect(chainPem).toContain(inter.certificatePem.trim().split("\n")[1]);
    expect(await db.prisma.event.count({ where: { type: "Certificate Issued", certificateSerial: certificate.serialNumber } })).toBe(1);
    const found = await searchCertificates(ctx, { q: "mac-jane.example.com" });
    expect(found.certificates.map((c) => c.id)).toEqual([certId]);
    expect((await searchCertificates(ctx, { q: certificate.serialNumber })).certificates).toHaveLength(1);
  });

  it("records an ACME order's certificate only with the order's move from processing to valid", async () => {
    const account = await db.prisma.acmeAccount.create({ data: { id: randomUUID(), platformId: "p", jwkThumbprint: randomUUID(), jwk: {} } });
    const order = await db.prisma.acmeOrder.create({
      data: { id: randomUUID(), accountId: account.id, status: "ready", identifiers: [], expires: new Date(Date.now() + 3600_000) },
    });
    const issue = () =>
      issueAndRecord(ctx, {
        caId: intermediateId,
        templateId,
        csrDer: readFileSync(file("leaf.csr")),
        context: {},
        actor: systemActor("test"),
        acmeOrderId: order.id,
      });
    const recorded = () =>
      Promise.all([db.prisma.certificate.count({ where: { acmeOrderId: order.id } }), db.prisma.event.count({ where: { type: "Certificate Issued" } })]);
    const [, eventsBefore] = await recorded();
    // Not claimed by a finalize (still ready): nothing is recorded, neither the certificate nor its event.
    await expect(issue()).rejects.toThrow(/no longer processing/);
    expect(await recorded()).toEqual([0, eventsBefore]);
    await db.prisma.acmeOrder.update({ where: { id: order.id }, data: { status: "processing" } });
    const { certificate } = await issue();
    expect(await db.prisma.acmeOrder.findUniqueOrThrow({ where: { id: order.id } })).toMatchObject({
      status: "valid",
      certificateId: certificate.id,
      error: null,
    });
    expect(await recorded()).toEqual([1, eventsBefore + 1]);
    // Once valid, a second issuance for the order records nothing.
    await expect(issue()).rejects.toThrow(/no longer processing/);
    expect(await recorded()).toEqual([1, eventsBefore + 1]);
  });

  it("answers OCSP good, then revoked after a revocation, and lists it on the CRL with its reason", async () => {
    const ocsp = () =>
      opensslAsync(
        "ocsp",
        "-issuer",
        file("intermediate.pem"),
        "-cert",
        file("leaf.pem"),
        "-url",
        `${ocspBase}/ocsp/${intermediateId}`,
        "-CAfile",
        file("root.pem"),
        "-verify_other",
        file("intermediate.pem"),
        "-resp_text",
      );
    expect(await ocsp()).toMatch(/leaf\.pem: good/);
    expect((await db.prisma.certificate.findUniqueOrThrow({ where: { id: certId } })).lastSeenAt).not.toBeNull();
    await revokeCertificate(ctx, admin, certId, { reason: "privilegeWithdrawn" });
    const revoked = await ocsp();
    expect(revoked).toMatch(/leaf\.pem: revoked/);
    // RFC 5280 CRLReason privilegeWithdrawn is 9 (OpenSSL has no OCSP label for it, so it prints the code).
    expect(revoked).toMatch(/Revocation Reason: .*\(0x9\)/);
    const crl = await currentCrl(ctx, intermediateId);
    const crlText = openssl("crl", "-inform", "DER", "-in", file("ca.crl", crl!), "-noout", "-text");
    const serial = (await db.prisma.certificate.findUniqueOrThrow({ where: { id: certId } })).serialNumber.toUpperCase();
    expect(crlText.replace(/:/g, "")).toContain(serial.replace(/^0+/, ""));
    expect(crlText).toContain("Privilege Withdrawn");
    const verify = spawnSync("openssl", ["crl", "-inform", "DER", "-in", file("ca.crl"), "-CAfile", file("intermediate.pem"), "-noout", "-verify"], {
      encoding: "utf8",
    });
    expect(verify.status).toBe(0);
    expect(verify.stderr + verify.stdout).toContain("verify OK");
  });

  it("reuses signed OCSP answers without a nonce, never past a revocation (here or by another instance)", async () => {
    const issue = async (cn: string) => {
      openssl(
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        file(`${cn}.key`),
        "-subj",
        `/CN=${cn}`,
        "-outform",
        "DER",
        "-out",
        file(`${cn}.csr`),
      );
      const { certificate } = await issueAndRecord(ctx, {
        caId: intermediateId,
        templateId,
        csrDer: readFileSync(file(`${cn}.csr`)),
        context: {},
        actor: systemActor("test"),
      });
      file(`${cn}.pem`, certificate.pem);
      openssl("ocsp", "-issuer", file("intermediate.pem"), "-cert", file(`${cn}.pem`), "-no_nonce", "-reqout", file(`${cn}.req`));
      return { id: certificate.id, req: readFileSync(file(`${cn}.req`)) };
    };
    const status = (der: Buffer) => {
      const out = openssl("ocsp", "-respin", file("resp.der", der), "-resp_text", "-noverify");
      return /Cert Status: (\w+)/.exec(out)![1];
    };
    const a = await issue("CACHED0001");
    const first = await answerOcsp(ctx, intermediateId, a.req);
    expect(status(first)).toBe("good");
    expect((await answerOcsp(ctx, intermediateId, a.req)).equals(first)).toBe(true); // the same signed answer
    // Revoked in this process: the next answer says so.
    await revokeCertificate(ctx, admin, a.id, { reason: "keyCompromise" });
    expect(status(await answerOcsp(ctx, intermediateId, a.req))).toBe("revoked");
    // Revoked by another instance (only the database changes): within the revalidation second.
    const b = await issue("CACHED0002");
    expect(status(await answerOcsp(ctx, intermediateId, b.req))).toBe("good");
    await db.prisma.certificate.update({ where: { id: b.id }, data: { status: "REVOKED", revokedAt: new Date(), revocationReason: "keyCompromise" } });
    await new Promise((r) => setTimeout(r, 1100));
    expect(status(await answerOcsp(ctx, intermediateId, b.req))).toBe("revoked");
  });

  it("keeps CA keys sealed: the stored blob is useless without the master key", async () => {
    const inter = await db.prisma.certificateAuthority.findUniqueOrThrow({ where: { id: intermediateId } });
    const row = await db.prisma.caKey.findUniqueOrThrow({ where: { id: inter.keyId } });
    const wrongStore = databaseKeyStore(db.prisma, randomBytes(32));
    await expect(wrongStore.privateKey(inter.keyId)).rejects.toThrow();
    expect(Buffer.from(row.sealedKey).includes(Buffer.from("BEGIN"))).toBe(false);
  });
});
