import { randomUUID } from "node:crypto";
import { cachedConfig, sqlOf, type Certificate } from "@attested/db";
import { eventInsert, EventType, recordEvent, type Actor } from "@attested/events";
import { assertCanWrite, DomainError, NotFoundError } from "@attested/identity";
import { issueCertificate, PkiError, type ParsedCsr } from "@attested/pki";
import { issuingChain } from "./authorities";
import { caUrls, type CaContext } from "./context";
import { publishCrl } from "./crl";
import { forgetOcspResponses } from "./ocsp";
import { reasonLabel } from "./options";
import { revokeInputSchema } from "./schemas";

export interface IssueRequest {
  caId: string;
  templateId: string;
  csrDer: Uint8Array;
  /** The template context: /csr is filled from the CSR; /device, /attestation, /account, /platform from here. */
  context: Record<string, unknown>;
  expectedPublicKeySpki?: Uint8Array;
  /** The caller's parseCsr() of `csrDer`, to avoid parsing and verifying it twice. */
  parsedCsr?: ParsedCsr;
  actor: Actor;
  platformId?: string | null;
  enrollmentPolicyId?: string | null;
  acmeOrderId?: string | null;
  deviceSerial?: string | null;
  deviceUdid?: string | null;
  /** What an auditor needs to see why this certificate was issued (policy decision, lookup, ...). */
  details?: Record<string, unknown>;
}

export interface Issued {
  certificate: Certificate;
  /** Leaf first, then the issuing CA and its parents up to (not including) the root. */
  chainPem: string;
}

export const toTemplateDefinition = (t: {
  name: string; subject: string; description: string; validityDays: number | null; overrideValidity: boolean; overrideNotAfter: Date | null;
  signatureAlgorithm: string; sanOtherName: string; sanRfc822: string; sanDns: string; sanUri: string; extendedKeyUsages: string[];
}) => ({
  name: t.name,
  subject: t.subject,
  description: t.description,
  validityDays: t.validityDays ?? undefined,
  overrideValidity: t.overrideValidity,
  overrideNotAfter: t.overrideNotAfter ?? undefined,
  signatureAlgorithm: t.signatureAlgorithm as never,
  sanOtherName: t.sanOtherName,
  sanRfc822: t.sanRfc822,
  sanDns: t.sanDns,
  sanUri: t.sanUri,
  extendedKeyUsages: t.extendedKeyUsages,
});

/**
 * Issues a certificate and records it with its "Certificate Issued" event in one transaction, so a
 * certificate handed out is a certificate recorded. An ACME order gets at most one certificate.
 */
export async function issueAndRecord(ctx: CaContext, req: IssueRequest): Promise<Issued> {
  const chain = await issuingChain(ctx, req.caId);
  const ca = chain[0];
  // Served after the leaf and the issuing CA: the intermediates above it, not the root.
  const parentsPem = chain.slice(1).filter((c) => c.type !== "ROOT").map((c) => c.certificatePem);
  const template = await cachedConfig(ctx.db, `template:${req.templateId}`, () => ctx.db.certificateTemplate.findUnique({ where: { id: req.templateId } }));
  if (!template) throw new NotFoundError("Certificate Template");
  const issued = await issueCertificate({
    csrDer: new Uint8Array(req.csrDer),
    context: req.context as never,
    template: toTemplateDefinition(template),
    ca: { certificatePem: ca.certificatePem, keyId: ca.keyId, signatureAlgorithm: ca.signatureAlgorithm as never, chainPem: parentsPem },
    keyStore: ctx.keyStore,
    ...caUrls(ctx.publicUrl, ca.id),
    now: ctx.now?.(),
    expectedPublicKeySpki: req.expectedPublicKeySpki && new Uint8Array(req.expectedPublicKeySpki),
    parsedCsr: req.parsedCsr,
  });
  const chainPem = issued.chainPem;
  const id = randomUUID();
  const deviceSerial = req.deviceSerial ?? null;
  const event = eventInsert(
    {
      type: EventType.CertificateIssued,
      outcome: "success",
      actor: req.actor,
      object: { type: "certificate", id, name: issued.subjectDn },
      certificateSerial: issued.serialNumber,
      deviceSerial,
      summary: `Certificate ${issued.subjectDn} issued by "${ca.commonName}" with template "${template.name}"${deviceSerial ? ` to device ${deviceSerial}` : ""}`,
      details: {
        ca: { id: ca.id, name: ca.commonName },
        template: { id: template.id, name: template.name },
        subject: issued.subjectDn,
        sans: issued.sans,
        notBefore: issued.notBefore,
        notAfter: issued.notAfter,
        sha256Fingerprint: issued.sha256Fingerprint,
        ...req.details,
      },
    },
    18,
  );
  try {
    // The certificate and its event in one statement: both are recorded or neither.
    const [certificate] = await sqlOf(ctx.db).query<Certificate>(
      `WITH c AS (
         INSERT INTO "Certificate" ("id", "serialNumber", "caId", "templateId", "platformId", "enrollmentPolicyId", "acmeOrderId", "subjectDn",
           "sans", "emailAddress", "deviceSerial", "deviceUdid", "pem", "sha256Fingerprint", "notBefore", "notAfter", "issuedAt")
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING *),
       e AS (${event.text})
       SELECT * FROM c`,
      [
        id, issued.serialNumber, ca.id, template.id, req.platformId ?? null, req.enrollmentPolicyId ?? null, req.acmeOrderId ?? null, issued.subjectDn,
        JSON.stringify(issued.sans), issued.emailAddress ?? null, deviceSerial, req.deviceUdid ?? null, issued.certificatePem, issued.sha256Fingerprint,
        issued.notBefore, issued.notAfter, new Date(), ...event.values,
      ],
      // The text is constant (the event's columns are fixed): parsed and planned once per connection.
      "ca_record_certificate",
    );
    return { certificate: certificate!, chainPem };
  } catch (e) {
    // A concurrent or retried finalize already recorded this order's certificate: hand out that one.
    if (req.acmeOrderId && (e as { code?: string }).code === "23505") {
      const existing = await ctx.db.certificate.findUnique({ where: { acmeOrderId: req.acmeOrderId } });
      if (existing) return { certificate: existing, chainPem: [existing.pem, ca.certificatePem, ...parentsPem].map((p) => p.trim()).join("\n") + "\n" };
    }
    throw e;
  }
}

export { PkiError };

export async function getCertificate(ctx: CaContext, id: string): Promise<Certificate> {
  const c = /^[0-9a-f-]{36}$/.test(id) ? await ctx.db.certificate.findUnique({ where: { id } }) : null;
  if (!c) throw new NotFoundError("Certificate");
  return c;
}

/** Revokes a certificate (Certificate Hold puts it on hold) and republishes the CA's CRL. */
export async function revokeCertificate(ctx: CaContext, actor: Actor, id: string, input: unknown, why?: Record<string, unknown>): Promise<Certificate> {
  if (actor.type !== "system") await assertCanWrite(ctx.db, actor, "revoke certificates");
  const { reason } = revokeInputSchema.parse(input);
  const cert = await getCertificate(ctx, id);
  if (cert.status === "REVOKED") throw new DomainError("The certificate is already revoked", 409);
  const now = ctx.now?.() ?? new Date();
  const updated = await ctx.db.$transaction(async (tx) => {
    const row = await tx.certificate.update({
      where: { id },
      data: { status: reason === "certificateHold" ? "ON_HOLD" : "REVOKED", revokedAt: now, revocationReason: reason },
    });
    await recordEvent(tx, {
      type: EventType.CertificateRevoked,
      outcome: "success",
      actor,
      object: { type: "certificate", id, name: row.subjectDn },
      certificateSerial: row.serialNumber,
      deviceSerial: row.deviceSerial,
      summary: `Certificate ${row.subjectDn} ${reason === "certificateHold" ? "put on hold" : "revoked"} (${reasonLabel(reason)})`,
      details: { reason, ...why },
    });
    return row;
  });
  // No cached "good" OCSP response may outlive the revocation (other instances: see ocsp.ts).
  forgetOcspResponses(cert.caId);
  await publishCrl(ctx, cert.caId);
  return updated;
}

/** Releases a Certificate Hold: the certificate is good again and leaves the CRL. */
export async function releaseHold(ctx: CaContext, actor: Actor, id: string): Promise<Certificate> {
  await assertCanWrite(ctx.db, actor, "release certificate holds");
  const cert = await getCertificate(ctx, id);
  if (cert.status !== "ON_HOLD") throw new DomainError("Only a certificate on hold can be released", 409);
  const updated = await ctx.db.$transaction(async (tx) => {
    const row = await tx.certificate.update({ where: { id }, data: { status: "ACTIVE", revokedAt: null, revocationReason: null, lastSeenAt: ctx.now?.() ?? new Date() } });
    await recordEvent(tx, {
      type: EventType.CertificateHoldReleased,
      outcome: "success",
      actor,
      object: { type: "certificate", id, name: row.subjectDn },
      certificateSerial: row.serialNumber,
      deviceSerial: row.deviceSerial,
      summary: `Hold released on certificate ${row.subjectDn}`,
    });
    return row;
  });
  await publishCrl(ctx, cert.caId);
  return updated;
}

export function rethrowPki(e: unknown): never {
  if (e instanceof PkiError) throw new DomainError(e.message, 400, e.field);
  throw e;
}
