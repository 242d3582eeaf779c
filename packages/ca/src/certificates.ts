import { randomUUID } from "node:crypto";
import { cachedConfig, sqlOf, type Certificate } from "@attested/db";
import { eventInsert, EventType, inTransaction, recordEvent, type Actor } from "@attested/events";
import { assertCanWrite } from "@attested/identity";
import { issueCertificate, type ParsedCsr, type SignatureAlgorithm, type TemplateContext } from "@attested/pki";
import { issuingChain } from "./authorities";
import { caUrls, type CaContext } from "./context";
import { isKeyStoreUnavailable, recordKeyFailure } from "./keys";
import { publishCrl } from "./crl";
import { forgetOcspResponses } from "./ocsp";
import { reasonLabel } from "./options";
import { revokeInputSchema } from "./schemas";
import { DomainError, NotFoundError } from "@attested/errors";

export interface IssueRequest {
  caId: string;
  templateId: string;
  csrDer: Uint8Array;
  /** The template context: /csr is filled from the CSR; /device, /attestation, /account, /platform from here. */
  context: Record<string, unknown>;
  expectedPublicKeySpki?: Uint8Array;
  /** The caller's parseCsr() of `csrDer`, to avoid parsing and verifying it twice. */
  parsedCsr?: ParsedCsr;
  /** Every name in the CSR was proven by an ACME challenge (see issueCertificate). */
  csrNamesProven?: boolean;
  actor: Actor;
  platformId?: string | null;
  enrollmentPolicyId?: string | null;
  /**
   * The ACME order this certificate finalizes. It moves from processing to valid with this certificate
   * in the statement that records the certificate; if it is no longer processing, nothing is recorded.
   */
  acmeOrderId?: string | null;
  deviceSerial?: string | null;
  deviceUdid?: string | null;
  /** What Apple attested about the device (policy's AttestedPosture), kept with the certificate for RADIUS. */
  posture?: Record<string, unknown> | null;
  /** What an auditor needs to see why this certificate was issued (policy decision, lookup, ...). */
  details?: Record<string, unknown>;
}

export interface Issued {
  certificate: Certificate;
  /** Leaf first, then the issuing CA and its parents up to (not including) the root. */
  chainPem: string;
}

type TemplateRow = {
  name: string;
  subject: string;
  description: string;
  validityDays: number | null;
  overrideValidity: boolean;
  overrideNotAfter: Date | null;
  signatureAlgorithm: string;
  sanOtherName: string;
  sanRfc822: string;
  sanDns: string;
  sanUri: string;
  allowCsrSans: boolean;
  extendedKeyUsages: string[];
};

// One definition per cached template row, so issueCertificate checks each saved template once.
const definitions = new WeakMap<TemplateRow, ReturnType<typeof toTemplateDefinition>>();
const definitionOf = (t: TemplateRow) => {
  let d = definitions.get(t);
  if (!d) definitions.set(t, (d = toTemplateDefinition(t)));
  return d;
};

export const toTemplateDefinition = (t: TemplateRow) => ({
  name: t.name,
  subject: t.subject,
  description: t.description,
  validityDays: t.validityDays ?? undefined,
  overrideValidity: t.overrideValidity,
  overrideNotAfter: t.overrideNotAfter ?? undefined,
  signatureAlgorithm: t.signatureAlgorithm as SignatureAlgorithm,
  sanOtherName: t.sanOtherName,
  sanRfc822: t.sanRfc822,
  sanDns: t.sanDns,
  sanUri: t.sanUri,
  allowCsrSans: t.allowCsrSans,
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
  const parentsPem = chain
    .slice(1)
    .filter((c) => c.type !== "ROOT")
    .map((c) => c.certificatePem);
  const template = await cachedConfig(ctx.db, `template:${req.templateId}`, () => ctx.db.certificateTemplate.findUnique({ where: { id: req.templateId } }));
  if (!template) throw new NotFoundError("Certificate Template");
  const issued = await issueCertificate({
    csrDer: new Uint8Array(req.csrDer),
    context: req.context as TemplateContext,
    template: definitionOf(template),
    ca: { certificatePem: ca.certificatePem, keyId: ca.keyId, signatureAlgorithm: ca.signatureAlgorithm as SignatureAlgorithm, chainPem: parentsPem },
    keyStore: ctx.keyStore,
    ...caUrls(ctx.publicUrl, ca.id),
    now: ctx.now?.(),
    expectedPublicKeySpki: req.expectedPublicKeySpki && new Uint8Array(req.expectedPublicKeySpki),
    parsedCsr: req.parsedCsr,
    csrNamesProven: req.csrNamesProven,
  }).catch(async (e: unknown) => {
    // The HSM could not sign: on the trail (throttled), and nothing recorded or handed out.
    if (isKeyStoreUnavailable(e)) await recordKeyFailure(ctx, ca, "issue", e, req.actor);
    throw e;
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
        ...(issued.fromCsr.length ? { fromCsr: issued.fromCsr } : {}),
        ...(issued.omitted.length ? { omitted: issued.omitted } : {}),
        ...req.details,
      },
    },
    19,
  );
  // The certificate, its event and (for ACME) the order it completes, in one statement: all or nothing.
  const order = req.acmeOrderId
    ? {
        cte: `o AS (UPDATE "AcmeOrder" SET "status" = 'valid', "certificateId" = $1, "error" = NULL, "updatedAt" = $17::timestamp(3) WHERE "id" = $7 AND "status" = 'processing' RETURNING 1), `,
        from: " FROM o",
      }
    : { cte: "", from: "" };
  const [certificate] = await sqlOf(ctx.db).query<Certificate>(
    `WITH ${order.cte}c AS (
       INSERT INTO "Certificate" (${CERTIFICATE_COLUMNS.map(([c]) => `"${c}"`).join(", ")})
       SELECT ${CERTIFICATE_COLUMNS.map(([, type], i) => `$${i + 1}::${type}`).join(", ")}${order.from} RETURNING *),
     e AS (${event.text} WHERE EXISTS (SELECT 1 FROM c))
     SELECT * FROM c`,
    [
      id,
      issued.serialNumber,
      ca.id,
      template.id,
      req.platformId ?? null,
      req.enrollmentPolicyId ?? null,
      req.acmeOrderId ?? null,
      issued.subjectDn,
      JSON.stringify(issued.sans),
      issued.emailAddress ?? null,
      deviceSerial,
      req.deviceUdid ?? null,
      issued.certificatePem,
      issued.sha256Fingerprint,
      issued.notBefore,
      issued.notAfter,
      new Date(),
      req.posture ? JSON.stringify(req.posture) : null,
      ...event.values,
    ],
    // The text is constant (the event's columns are fixed): parsed and planned once per connection.
    `ca_record_certificate${order.from ? "_acme" : ""}`,
  );
  // Only a concurrent change of the order can stop it (its finalize holds it in processing).
  if (!certificate) throw new Error(`ACME order ${req.acmeOrderId} is no longer processing: its certificate was not recorded`);
  return { certificate, chainPem };
}

// Certificate columns written at issuance, with their types (INSERT ... SELECT takes no types from the columns).
const CERTIFICATE_COLUMNS = [
  ["id", "text"],
  ["serialNumber", "text"],
  ["caId", "text"],
  ["templateId", "text"],
  ["platformId", "text"],
  ["enrollmentPolicyId", "text"],
  ["acmeOrderId", "text"],
  ["subjectDn", "text"],
  ["sans", "jsonb"],
  ["emailAddress", "text"],
  ["deviceSerial", "text"],
  ["deviceUdid", "text"],
  ["pem", "text"],
  ["sha256Fingerprint", "text"],
  ["notBefore", "timestamp(3)"],
  ["notAfter", "timestamp(3)"],
  ["issuedAt", "timestamp(3)"],
  ["posture", "jsonb"],
] as const;

export async function getCertificate(ctx: CaContext, id: string): Promise<Certificate> {
  const c = /^[0-9a-f-]{36}$/.test(id) ? await ctx.db.certificate.findUnique({ where: { id } }) : null;
  if (!c) throw new NotFoundError("Certificate");
  return c;
}

/** Revokes a certificate (Certificate Hold puts it on hold) and republishes the CA's CRL. */
export async function revokeCertificate(ctx: CaContext, actor: Actor, id: string, input: unknown, why?: Record<string, unknown>): Promise<Certificate> {
  if (actor.type !== "system") await assertCanWrite(ctx.db, actor, "revoke certificates");
  return revoke(ctx, actor, id, input, why);
}

/**
 * ACME revokeCert (RFC 8555 §7.6), for a requester the ACME server has already proven entitled: the
 * account that ordered the certificate, the holder of its key, or an account with valid authorizations
 * for all its identifiers. Such a device is no portal user, so the admin write check does not apply.
 */
export function revokeCertificateForSubscriber(
  ctx: CaContext,
  subscriber: Actor & { type: "device" },
  id: string,
  input: unknown,
  why?: Record<string, unknown>,
): Promise<Certificate> {
  return revoke(ctx, subscriber, id, input, why);
}

async function revoke(ctx: CaContext, actor: Actor, id: string, input: unknown, why?: Record<string, unknown>): Promise<Certificate> {
  const { reason } = revokeInputSchema.parse(input);
  const cert = await getCertificate(ctx, id);
  if (cert.status === "REVOKED") throw new DomainError("The certificate is already revoked", 409);
  const now = ctx.now?.() ?? new Date();
  const updated = await inTransaction(ctx.db, async (tx) => {
    const data = { status: reason === "certificateHold" ? ("ON_HOLD" as const) : ("REVOKED" as const), revokedAt: now, revocationReason: reason };
    // Compare-and-set on the status read above: of two concurrent revocations, one wins and records the event.
    const { count } = await tx.certificate.updateMany({ where: { id, status: cert.status }, data });
    if (count === 0) throw new DomainError("The certificate is already revoked", 409);
    const row = { ...cert, ...data };
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
  forgetOcspResponses(ctx, cert.caId);
  await publishCrl(ctx, cert.caId);
  return updated;
}

/** Releases a Certificate Hold: the certificate is good again and leaves the CRL. */
export async function releaseHold(ctx: CaContext, actor: Actor, id: string): Promise<Certificate> {
  await assertCanWrite(ctx.db, actor, "release certificate holds");
  const cert = await getCertificate(ctx, id);
  if (cert.status !== "ON_HOLD") throw new DomainError("Only a certificate on hold can be released", 409);
  const updated = await inTransaction(ctx.db, async (tx) => {
    const row = await tx.certificate.update({
      where: { id },
      data: { status: "ACTIVE", revokedAt: null, revocationReason: null, lastSeenAt: ctx.now?.() ?? new Date() },
    });
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
