// Test support (not exported from the package): a migrated database with an organization, a CA and
// a template, certificates issued from real CSRs, a controllable clock, and OpenSSL views of OCSP
// and the CRL.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { answerOcsp, createCa, createTemplate, currentCrl, databaseKeyStore, ensureOrganizationRootCa, issueAndRecord } from "@attested/ca";
import { createTestDatabase } from "@attested/db/testing";
import { systemActor } from "@attested/events";
import type { LifecycleContext } from "./context";

export const admin = { type: "user" as const, id: "00000000-0000-0000-0000-000000000001", name: "admin@example.com", role: "ADMIN" as const };
export const auditor = { type: "user" as const, id: "00000000-0000-0000-0000-000000000002", name: "auditor@example.com", role: "AUDITOR" as const };

export const openssl = (...args: string[]) => execFileSync("openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

export interface Harness {
  db: Awaited<ReturnType<typeof createTestDatabase>>;
  ctx: LifecycleContext;
  clock: { now: Date; advanceDays(days: number): void; set(d: Date): void };
  masterKey: Buffer;
  rootId: string;
  file(name: string, content?: string | Buffer): string;
  makeCa(settings: Record<string, unknown>): Promise<{ id: string; pem: string }>;
  templateId: string;
  issue(
    caId: string,
    opts: { cn: string; email?: string; deviceSerial?: string; deviceUdid?: string; enrollmentPolicyId?: string },
  ): Promise<{ id: string; serialNumber: string; pemFile: string }>;
  /** OpenSSL's reading of this CA's OCSP answer for a certificate ("good", "revoked", ...), with reason line. */
  ocspStatus(caId: string, caPemFile: string, certPemFile: string): Promise<string>;
  crlText(caId: string): Promise<string>;
  close(): Promise<void>;
}

export async function harness(): Promise<Harness> {
  const db = await createTestDatabase();
  await db.prisma.organization.create({ data: { name: "Acme Corp" } });
  const masterKey = randomBytes(32);
  const clock = {
    now: new Date(),
    advanceDays(days: number) {
      this.now = new Date(this.now.getTime() + days * 86_400_000);
    },
    set(d: Date) {
      this.now = d;
    },
  };
  const ctx: LifecycleContext = {
    db: db.prisma,
    keyStore: databaseKeyStore(db.prisma, masterKey),
    publicUrl: "http://pki.test",
    now: () => clock.now,
    masterKey,
    allowHttp: true,
    lookupHttp: { retries: 0, maxTotalMs: 5_000 },
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), "lifecycle-test-"));
  const file = (name: string, content?: string | Buffer) => {
    const p = path.join(dir, name);
    if (content !== undefined) writeFileSync(p, content);
    return p;
  };
  const root = (await ensureOrganizationRootCa(ctx))!;
  file("root.pem", root.certificatePem);
  const template = await createTemplate(ctx, admin, {
    name: "Kandji Template",
    subject: "CN=${/csr/subject/commonname},O=Acme Corp",
    validityDays: 365,
    signatureAlgorithm: "SHA-256",
    sanRfc822: "${/csr/san/rfc822name}",
    extendedKeyUsages: ["clientAuth"],
  });
  let n = 0;
  const h: Harness = {
    db,
    ctx,
    clock,
    masterKey,
    rootId: root.id,
    file,
    templateId: template.id,
    async makeCa(settings) {
      const ca = await createCa(ctx, admin, {
        purpose: "Device and User Authentication",
        type: "INTERMEDIATE",
        parentId: root.id,
        generatedVia: "internal",
        commonName: `ACME CA ${++n}`,
        keyAlgorithm: "EC-P256",
        signatureAlgorithm: "SHA-256",
        validityYears: 5,
        ...settings,
      });
      file(`ca-${ca.id}.pem`, ca.certificatePem);
      return { id: ca.id, pem: file(`ca-${ca.id}.pem`) };
    },
    async issue(caId, opts) {
      const k = ++n;
      const args = [
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        file(`leaf${k}.key`),
        "-subj",
        `/CN=${opts.cn}`,
      ];
      if (opts.email) args.push("-addext", `subjectAltName=email:${opts.email}`);
      openssl(...args, "-outform", "DER", "-out", file(`leaf${k}.csr`));
      const { certificate } = await issueAndRecord(ctx, {
        caId,
        templateId: template.id,
        csrDer: readFileSync(file(`leaf${k}.csr`)),
        context: {},
        actor: systemActor("test"),
        deviceSerial: opts.deviceSerial ?? null,
        deviceUdid: opts.deviceUdid ?? null,
        enrollmentPolicyId: opts.enrollmentPolicyId ?? null,
      });
      return { id: certificate.id, serialNumber: certificate.serialNumber, pemFile: file(`leaf${k}.pem`, certificate.pem) };
    },
    async ocspStatus(caId, caPemFile, certPemFile) {
      const req = file(`ocsp-${++n}.req`);
      openssl("ocsp", "-issuer", caPemFile, "-cert", certPemFile, "-no_nonce", "-reqout", req);
      const resp = file(`ocsp-${n}.resp`, await answerOcsp(ctx, caId, readFileSync(req)));
      // The signature is verified against the chain; the clock is the test's, so times are not.
      return openssl(
        "ocsp",
        "-respin",
        resp,
        "-issuer",
        caPemFile,
        "-cert",
        certPemFile,
        "-CAfile",
        file("root.pem"),
        "-verify_other",
        caPemFile,
        "-no_nonce",
        "-resp_text",
      );
    },
    async crlText(caId) {
      const der = await currentCrl(ctx, caId);
      return openssl("crl", "-inform", "DER", "-in", file(`crl-${++n}.der`, der!), "-noout", "-text");
    },
    close: () => db.close(),
  };
  return h;
}

/** The CRL lists a serial (OpenSSL prints it upper-case, maybe without leading zeros). */
export const crlLists = (crlText: string, serial: string) => crlText.replace(/:/g, "").toUpperCase().includes(serial.toUpperCase().replace(/^0+/, ""));
