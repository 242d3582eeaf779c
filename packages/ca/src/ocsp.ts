import { buildOcspResponse, matchesIssuer, ocspErrorResponse, parseOcspRequest, PkiError, type OcspEntry } from "@attested/pki";
import type { CaContext } from "./context";

// Responses are valid for an hour; relying parties cache them until nextUpdate.
const VALIDITY_MS = 60 * 60_000;
// "Last seen" feeds "Revoke if unused since last usage"; a day's precision is plenty, so write rarely.
const LAST_SEEN_GRANULARITY_MS = 60 * 60_000;

/**
 * Answers an OCSP request (RFC 6960) for one CA: good, revoked (with reason) or unknown, signed by the
 * CA, echoing the nonce. Each request about a known certificate updates its "last seen" time.
 */
export async function answerOcsp(ctx: CaContext, caId: string, requestDer: Uint8Array): Promise<Buffer> {
  const ca = /^[0-9a-f-]{36}$/.test(caId)
    ? await ctx.db.certificateAuthority.findUnique({ where: { id: caId }, select: { id: true, certificatePem: true, keyId: true, signatureAlgorithm: true } })
    : null;
  if (!ca) return ocspErrorResponse("unauthorized");
  let request;
  try {
    request = parseOcspRequest(new Uint8Array(requestDer));
  } catch (e) {
    if (e instanceof PkiError) return ocspErrorResponse("malformedRequest");
    throw e;
  }
  const now = ctx.now?.() ?? new Date();
  const serials = request.requests.filter((r) => matchesIssuer(r, ca.certificatePem)).map((r) => r.serialNumber);
  const certs = await ctx.db.certificate.findMany({
    where: { caId, serialNumber: { in: serials } },
    select: { id: true, serialNumber: true, status: true, revokedAt: true, revocationReason: true, lastSeenAt: true },
  });
  const bySerial = new Map(certs.map((c) => [c.serialNumber, c]));
  const entries: OcspEntry[] = request.requests.map((certId) => {
    const c = matchesIssuer(certId, ca.certificatePem) ? bySerial.get(certId.serialNumber) : undefined;
    if (!c) return { certId, status: "unknown" };
    if (c.status === "ACTIVE") return { certId, status: "good" };
    return { certId, status: "revoked", revokedAt: c.revokedAt ?? now, reason: (c.revocationReason ?? "unspecified") as never };
  });
  const stale = certs.filter((c) => !c.lastSeenAt || now.getTime() - c.lastSeenAt.getTime() > LAST_SEEN_GRANULARITY_MS).map((c) => c.id);
  if (stale.length) await ctx.db.certificate.updateMany({ where: { id: { in: stale } }, data: { lastSeenAt: now } });
  return buildOcspResponse({
    responder: { certificatePem: ca.certificatePem, keyId: ca.keyId, signatureAlgorithm: ca.signatureAlgorithm as never },
    keyStore: ctx.keyStore,
    entries,
    nonce: request.nonce,
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + VALIDITY_MS),
    now,
  });
}
