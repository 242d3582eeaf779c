import { X509Certificate } from "node:crypto";
import type { CaContext } from "@attested/ca";
import type { Certificate } from "@attested/db";
import { EventType, recordEvent, type Actor } from "@attested/events";
import { assertCanWrite } from "@attested/identity";
import { notePlatformAnswer } from "@attested/lifecycle";
import { normalizeSerial, parseDn } from "@attested/pki";
import { resolveIdentity } from "./context";
import type { AttestedPosture } from "./posture";
import { lookupThrough, type DecideOptions } from "./engine";
import { revokeOnFailure, type RevokedOnFailure } from "./revoke";
import { radiusAuthorizeSchema, radiusRefusalSchema } from "./schemas";

// RADIUS Authentication lookups (POST /api/v1/radius/authorize): a RADIUS server that terminated
// EAP-TLS asks whether to let a client certificate in. Accept needs (1) a certificate this PKI
// issued, ACTIVE and within its validity, and (2) when a Security Signal Source with purpose
// RADIUS Authentication applies, a fresh lookup that finds the device. A definite "not found" with
// Revoke On Failure revokes the certificate; a lookup that could not answer rejects without
// revoking. Each answer updates the certificate's last usage and is recorded. An answer about a
// certificate carries the posture Apple attested when it was issued (null for one issued without an
// attestation), so the RADIUS server can, say, put a device with an old OS in another VLAN.

export interface RadiusDecision {
  decision: "accept" | "reject";
  reason: string;
  certificate?: { id: string; serialNumber: string; subjectDn: string; status: string; notAfter: string; issuedAt: string };
  /** What Apple attested at issuance (AttestedPosture), when the certificate is known. */
  posture?: AttestedPosture | null;
  signalSource?: { id: string; name: string } | null;
  revoked?: RevokedOnFailure[];
}

// Type names as openssl, FreeRADIUS and RFC 4514 write them, to compare issuers written either way.
function dnKey(dn: string): string | null {
  const t = dn.trim();
  // openssl's one-line form: /C=US/O=Acme/CN=Root (no escaping of "/" inside values is assumed).
  const rfc = t.startsWith("/") ? t.slice(1).split("/").join(", ") : t;
  const { attributes, errors } = parseDn(rfc);
  if (errors.length || attributes.length === 0) return null;
  return attributes
    .map((a) => `${a.oid}=${a.value.trim().replace(/\s+/g, " ").toLowerCase()}`)
    .sort()
    .join("\n");
}

const SUBJECT_ALIASES: Record<string, string> = {
  CN: "commonName",
  O: "organizationName",
  OU: "organizationalUnitName",
  SERIALNUMBER: "serialNumber",
  UID: "userId",
  E: "emailAddress",
  C: "countryName",
};

/** The /certificate context a RADIUS Security Signal Source reads its identity from. */
export function certificateContext(cert: Certificate): Record<string, unknown> {
  const subject: Record<string, string> = {};
  for (const a of parseDn(cert.subjectDn).attributes) {
    subject[a.type] ??= a.value;
    const alias = SUBJECT_ALIASES[a.type];
    if (alias) subject[alias] ??= a.value;
  }
  const san: Record<string, string[]> = { othername: [], rfc822name: [], dnsname: [], uri: [] };
  const key = { otherName: "othername", rfc822: "rfc822name", dns: "dnsname", uri: "uri" } as Record<string, string>;
  for (const s of (Array.isArray(cert.sans) ? cert.sans : []) as { type?: string; value?: string }[]) {
    const k = s.type ? key[s.type] : undefined;
    if (k && typeof s.value === "string") san[k]!.push(s.value);
  }
  return {
    certificate: {
      serialNumber: cert.serialNumber,
      deviceSerial: cert.deviceSerial,
      deviceUdid: cert.deviceUdid,
      emailAddress: cert.emailAddress,
      subjectDn: cert.subjectDn,
      subject,
      san,
    },
  };
}

async function findCertificate(
  ctx: CaContext,
  input: { certificatePem: string } | { serialNumber: string; issuer: string },
): Promise<{ cert: Certificate | null; why: string }> {
  if ("certificatePem" in input) {
    let x: X509Certificate;
    try {
      x = new X509Certificate(input.certificatePem);
    } catch {
      return { cert: null, why: "certificatePem is not a PEM certificate" };
    }
    const serial = normalizeSerial(x.serialNumber);
    const cert = serial ? await ctx.db.certificate.findUnique({ where: { serialNumber: serial } }) : null;
    // The serial alone is not proof: the presented certificate must be the very one we issued.
    if (!cert || cert.sha256Fingerprint.toUpperCase() !== x.fingerprint256.toUpperCase())
      return { cert: null, why: "the certificate was not issued by this PKI" };
    return { cert, why: "" };
  }
  const serial = normalizeSerial(input.serialNumber);
  const cert = serial ? await ctx.db.certificate.findUnique({ where: { serialNumber: serial }, include: { ca: { select: { subjectDn: true } } } }) : null;
  if (!cert) return { cert: null, why: `no certificate with serial number ${input.serialNumber} was issued by this PKI` };
  const given = dnKey(input.issuer);
  if (!given || given !== dnKey(cert.ca.subjectDn)) return { cert: null, why: `issuer "${input.issuer}" is not the issuer of certificate ${serial}` };
  const { ca: _ca, ...row } = cert;
  return { cert: row, why: "" };
}

/** Why the certificate's own state refuses it (revoked, on hold, outside its validity), or null when it is usable. */
function unusable(cert: Certificate, now: Date): string | null {
  if (cert.status === "REVOKED") return `the certificate is revoked (${cert.revocationReason ?? "unspecified"})`;
  if (cert.status === "ON_HOLD") return "the certificate is on hold";
  if (cert.notAfter <= now) return `the certificate expired on ${cert.notAfter.toISOString()}`;
  if (cert.notBefore > now) return "the certificate is not valid yet";
  return null;
}

const certificateSummary = (cert: Certificate) => ({
  id: cert.id,
  serialNumber: cert.serialNumber,
  subjectDn: cert.subjectDn,
  status: cert.status as string,
  notAfter: cert.notAfter.toISOString(),
  issuedAt: cert.issuedAt.toISOString(),
});

/** Records a RADIUS decision as a RADIUS Authentication event; the answer carries the posture of a known certificate. */
async function recordDecision(
  ctx: CaContext,
  actor: Actor,
  cert: Certificate | null,
  presentedSerial: string | null,
  details: Record<string, unknown>,
  d: RadiusDecision,
): Promise<RadiusDecision> {
  await recordEvent(ctx.db, {
    type: EventType.RadiusAuthentication,
    outcome: d.decision === "accept" ? "success" : "denied",
    actor,
    object: cert ? { type: "certificate", id: cert.id, name: cert.subjectDn } : undefined,
    certificateSerial: cert?.serialNumber ?? (presentedSerial && (normalizeSerial(presentedSerial) || presentedSerial)),
    deviceSerial: cert?.deviceSerial ?? null,
    summary: `RADIUS Authentication ${d.decision === "accept" ? "accepted" : "rejected"}${cert ? ` for ${cert.subjectDn}` : ""}: ${d.reason}`,
    details: { ...details, decision: d.decision, reason: d.reason, signalSource: d.signalSource ?? null, revoked: d.revoked ?? [] },
  });
  return cert ? { ...d, posture: (cert.posture as AttestedPosture | null) ?? null } : d;
}

export async function authorizeRadius(ctx: CaContext, actor: Actor, input: unknown, opts: Pick<DecideOptions, "lookup"> = {}): Promise<RadiusDecision> {
  await assertCanWrite(ctx.db, actor, "authorize RADIUS authentications");
  const parsed = radiusAuthorizeSchema.parse(input);
  const now = ctx.now?.() ?? new Date();
  const { cert, why } = await findCertificate(ctx, parsed);
  const details: Record<string, unknown> = { presented: "certificatePem" in parsed ? "certificate" : "serial number and issuer" };
  const finish = (d: RadiusDecision) => recordDecision(ctx, actor, cert, "serialNumber" in parsed ? parsed.serialNumber : null, details, d);

  if (!cert) return finish({ decision: "reject", reason: why });
  const summary = certificateSummary(cert);
  const refused = unusable(cert, now);
  if (refused) return finish({ decision: "reject", reason: refused, certificate: summary });

  // Presented and good: that is a use (the CA's "Revoke Certificate if unused ... Since last usage").
  await ctx.db.certificate.update({ where: { id: cert.id }, data: { lastSeenAt: now } });

  const policy = cert.enrollmentPolicyId
    ? await ctx.db.enrollmentPolicy.findUnique({
        where: { id: cert.enrollmentPolicyId },
        select: { deviceRoleId: true, policyWorkflow: { select: { corePlatformId: true } } },
      })
    : null;
  const sources = await ctx.db.securitySignalSource.findMany({
    where: { lookupPurpose: "radius-authentication", corePlatformId: { not: null } },
    include: { corePlatform: true },
    orderBy: { name: "asc" },
  });
  const deviceRoleId = policy?.deviceRoleId ?? null;
  const provider = policy?.policyWorkflow?.corePlatformId ?? null;
  // The source of the Core Provider that enrolled the device first, then a Device Role match, then by name.
  const source = sources
    .filter((s) => s.deviceRoleIds.length === 0 || (deviceRoleId !== null && s.deviceRoleIds.includes(deviceRoleId)))
    .sort(
      (a, b) =>
        Number(b.corePlatformId === provider) - Number(a.corePlatformId === provider) ||
        Number(b.deviceRoleIds.length > 0) - Number(a.deviceRoleIds.length > 0) ||
        a.name.localeCompare(b.name),
    )[0];
  if (!source)
    return finish({
      decision: "accept",
      reason: "the certificate is active; no RADIUS Authentication Security Signal Source applies, so no device lookup was made",
      certificate: summary,
      signalSource: null,
    });

  const signalSource = { id: source.id, name: source.name };
  const identity = resolveIdentity(certificateContext(cert), source.identityAttribute);
  details.identity = { attribute: source.identityAttribute, value: identity ?? null };
  if (!identity)
    return finish({
      decision: "reject",
      reason: `the certificate has no ${source.identityAttribute} to look the device up with`,
      certificate: summary,
      signalSource,
    });

  const cp = source.corePlatform!;
  const r = await lookupThrough(cp, identity, source.identityAttribute, certificateContext(cert), opts.lookup);
  await notePlatformAnswer(ctx.db, cp, r, "a RADIUS Authentication lookup got an answer");
  details.lookup = {
    corePlatform: { id: cp.id, name: cp.name },
    outcome: r.outcome,
    reason: r.reason,
    status: r.status ?? null,
    attempts: r.attempts,
    timeMs: r.timeMs,
    rules: r.rules.map((x) => ({ path: x.rule.path, condition: x.rule.condition, passed: x.passed, actual: x.actual, message: x.message })),
  };
  if (r.outcome === "found")
    return finish({
      decision: "accept",
      reason: `the certificate is active and device ${identity} was found in "${cp.name}"`,
      certificate: summary,
      signalSource,
    });
  if (r.outcome === "error") {
    await recordEvent(ctx.db, {
      type: EventType.DeviceLookupFailed,
      outcome: "failure",
      actor,
      object: { type: "core-platform", id: cp.id, name: cp.name },
      certificateSerial: cert.serialNumber,
      deviceSerial: cert.deviceSerial,
      summary: `Device lookup of ${identity} in "${cp.name}" failed during RADIUS Authentication: ${r.reason}`,
      details: { signalSource, lookup: details.lookup },
    });
    return finish({ decision: "reject", reason: `device lookup in "${cp.name}" failed: ${r.reason}`, certificate: summary, signalSource });
  }
  const reason = `device ${identity} not found in "${cp.name}": ${r.reason}`;
  if (!source.revokeOnFailure) return finish({ decision: "reject", reason, certificate: summary, signalSource });
  const revoked = await revokeOnFailure(ctx, { where: { id: cert.id }, signalSource, reason });
  const done = revoked.find((x) => !x.error);
  const hold = done?.reason === "certificateHold";
  return finish({
    decision: "reject",
    reason: `${reason}; ${done ? (hold ? "certificate put on hold" : "certificate revoked") : "revocation failed"} (Revoke On Failure)`,
    certificate: { ...summary, status: done ? (hold ? "ON_HOLD" : "REVOKED") : summary.status },
    signalSource,
    revoked,
  });
}

/**
 * POST /api/v1/radius/refusals: the RADIUS server refused a client certificate in the EAP-TLS
 * handshake itself (OCSP said revoked, the chain does not lead to a trusted CA, it expired), so it
 * never asked authorizeRadius. Recording it makes that refusal a RADIUS Authentication event too.
 * All the server can report is what the certificate claims (serial number, issuer), which anyone can
 * copy: it counts as the certificate's last use only when the portal's own record explains the
 * refusal (revoked, on hold, outside its validity). A refused certificate that the record says is
 * usable was not proven to be the one issued, so a forged copy cannot keep it looking used.
 */
export async function recordRadiusRefusal(ctx: CaContext, actor: Actor, input: unknown): Promise<RadiusDecision> {
  await assertCanWrite(ctx.db, actor, "record RADIUS authentications");
  const parsed = radiusRefusalSchema.parse(input);
  const now = ctx.now?.() ?? new Date();
  const { cert, why } = await findCertificate(ctx, parsed);
  const serverReason = parsed.reason || "no reason given";
  const details: Record<string, unknown> = { presented: "serial number and issuer", refusedBy: "TLS handshake", serverReason, subject: parsed.subject ?? null };
  const record = (c: Certificate | null, reason: string, certificate?: RadiusDecision["certificate"]) =>
    recordDecision(ctx, actor, c, parsed.serialNumber, details, {
      decision: "reject",
      reason: `${reason}; the RADIUS server refused it in the TLS handshake (${serverReason})`,
      certificate,
    });
  if (!cert) return record(null, why);
  const explained = unusable(cert, now);
  if (!explained) {
    details.countedAsUse = false;
    return record(null, `certificate ${cert.serialNumber} of this PKI is usable, so the certificate presented was not proven to be it`);
  }
  details.countedAsUse = true;
  await ctx.db.certificate.update({ where: { id: cert.id }, data: { lastSeenAt: now } });
  return record(cert, explained, certificateSummary(cert));
}
