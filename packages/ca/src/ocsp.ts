import {
  buildOcspResponse,
  matchesIssuer,
  ocspErrorResponse,
  parseOcspRequest,
  type OcspCertId,
  type OcspEntry,
  type OcspRequestInfo,
  type RevocationReason,
  type SignatureAlgorithm,
} from "@attested/pki";
import { invalidate, type InvalidationBus } from "@attested/db";
import type { CaContext } from "./context";
import { isKeyStoreUnavailable, recordKeyFailure } from "./keys";

// Responses are valid for an hour; relying parties cache them until nextUpdate.
const VALIDITY_MS = 60 * 60_000;
// "Last seen" feeds "Revoke if unused since last usage"; a day's precision is plenty, so write rarely.
const LAST_SEEN_GRANULARITY_MS = 60 * 60_000;

// Signed responses for good certificates are reused (RFC 6960 §2.4 allows pre-produced responses when the
// request has no nonce): signing is most of the cost of an answer. A reused response is at most
// REUSE_MS old, so a client still gets 55 minutes of validity. A revocation must never be hidden:
//  - revokeCertificate() drops the CA's cached responses at once, in this process (the one cache built by
//    the server's services.ts, handed to every CaContext) and in the host's other server processes;
//  - for revocations made by other instances, the cache is used only while a check of the revocation
//    state of the database (count and latest revocation time of revoked or held certificates per CA, via
//    the (caId, status) index) is less than REVALIDATE_MS old; a change drops that CA's responses, and a
//    failing check means no response is reused.
// Requests with a nonce, and any response saying revoked or unknown, are built and signed fresh.
const REUSE_MS = 5 * 60_000;
const REVALIDATE_MS = 1_000;
const MAX_CACHED = 50_000;

interface Cached {
  der: Buffer;
  producedAt: number;
}

/** The signed "good" answers kept for reuse, and what they were checked against (one per process, see services.ts). */
export class OcspResponseCache {
  readonly responses = new Map<string, Cached>();
  /** Per CA: "count|latest revokedAt" of revoked or held certificates, as last read. */
  readonly revocationState = new Map<string, string>();
  checkedAt = 0;
  checking: Promise<void> | null = null;

  /** Drops the CA's answers, and rechecks the revocation state before reusing any. */
  drop(caId: string): void {
    this.dropCa(caId);
    this.checkedAt = 0;
  }

  dropCa(caId: string): void {
    for (const k of this.responses.keys()) if (k.startsWith(`${caId}|`)) this.responses.delete(k);
  }

  /** Applies {kind:"ocsp"} invalidations of `bus` (this process's and its siblings'). */
  follow(bus: InvalidationBus): this {
    bus.subscribe((i) => {
      if (i.kind === "ocsp") this.drop(i.caId);
    });
    return this;
  }
}

// For a CaContext built without one (tests, scripts): a cache of this module's own.
const ownCache = new OcspResponseCache();
const cacheOf = (ctx: CaContext): OcspResponseCache => ctx.ocspResponses ?? ownCache;

/**
 * Called when a certificate of `caId` changes status: no cached "good" for it survives in this context's
 * cache, nor in the other caches of this process and of the host's other server processes (told
 * through the database's invalidation bus).
 */
export function forgetOcspResponses(ctx: CaContext, caId: string): void {
  cacheOf(ctx).drop(caId);
  invalidate(ctx.db, { kind: "ocsp", caId });
}

/** Reads the revocation state at most once per REVALIDATE_MS (concurrent callers share one query). */
async function revalidate(ctx: CaContext, cache: OcspResponseCache, now: number): Promise<void> {
  if (now - cache.checkedAt < REVALIDATE_MS) return;
  cache.checking ??= (async () => {
    try {
      const rows = await ctx.db.$queryRaw<{ caId: string; n: bigint; latest: Date | null }[]>`
        SELECT "caId", count(*) AS n, max("revokedAt") AS latest FROM "Certificate"
        WHERE "status" IN ('REVOKED', 'ON_HOLD') GROUP BY "caId"`;
      const seen = new Set<string>();
      for (const r of rows) {
        const state = `${r.n}|${r.latest ? new Date(r.latest).getTime() : ""}`;
        seen.add(r.caId);
        if (cache.revocationState.get(r.caId) !== state) {
          cache.revocationState.set(r.caId, state);
          cache.dropCa(r.caId);
        }
      }
      for (const caId of [...cache.revocationState.keys()]) {
        if (!seen.has(caId)) {
          cache.revocationState.delete(caId);
          cache.dropCa(caId);
        }
      }
      cache.checkedAt = Date.now();
    } finally {
      cache.checking = null;
    }
  })();
  await cache.checking;
}

const cacheKey = (caId: string, ids: OcspCertId[]) =>
  `${caId}|${ids.map((c) => `${c.hashAlgorithmOid}:${c.issuerNameHash}:${c.issuerKeyHash}:${c.serialNumber}`).join(",")}`;

/**
 * Answers an OCSP request (RFC 6960) for one CA: good, revoked (with reason) or unknown, signed by the
 * CA, echoing the nonce. Each request about a known certificate updates its "last seen" time (at most
 * hourly; a reused response skips it, and is itself at most REUSE_MS old).
 */
const MALFORMED = ocspErrorResponse("malformedRequest");

/** True for the answer to bytes that are not an OCSP request: HTTP says 400 as well. */
export const isMalformedOcspAnswer = (der: Buffer): boolean => der === MALFORMED;

/**
 * The DER request of an OCSP GET (RFC 6960 §A.1: the URL-encoding of its base64, which may itself hold
 * "/"); empty, hence malformed, when the path is not one.
 */
export function ocspGetRequest(encoded: string): Uint8Array {
  let b64: string;
  try {
    b64 = decodeURIComponent(encoded);
  } catch {
    return new Uint8Array(0);
  }
  return /^[A-Za-z0-9+/_-]*={0,2}$/.test(b64) ? new Uint8Array(Buffer.from(b64, "base64")) : new Uint8Array(0);
}

export async function answerOcsp(ctx: CaContext, caId: string, requestDer: Uint8Array): Promise<Buffer> {
  if (!/^[0-9a-f-]{36}$/.test(caId)) return ocspErrorResponse("unauthorized");
  let request: OcspRequestInfo;
  try {
    request = parseOcspRequest(new Uint8Array(requestDer));
  } catch {
    return MALFORMED; // whatever the parser tripped on, the bytes are not an OCSP request
  }
  const now = ctx.now?.() ?? new Date();
  const cache = cacheOf(ctx);
  const key = request.nonce ? null : cacheKey(caId, request.requests);
  if (key) {
    const hit = cache.responses.get(key);
    if (hit && now.getTime() - hit.producedAt < REUSE_MS && hit.producedAt <= now.getTime()) {
      let fresh = false;
      try {
        await revalidate(ctx, cache, Date.now());
        fresh = true;
      } catch {
        fresh = false; // cannot tell whether something was revoked: answer from the database below
      }
      const still = cache.responses.get(key);
      if (fresh && still === hit) return hit.der;
    }
  }

  const ca = await ctx.db.certificateAuthority.findUnique({
    where: { id: caId },
    select: { id: true, commonName: true, certificatePem: true, keyId: true, signatureAlgorithm: true },
  });
  if (!ca) return ocspErrorResponse("unauthorized");
  // Read the revocation state before the statuses, so that a response cached below is never older than
  // the state that will validate it.
  if (key) await revalidate(ctx, cache, Date.now()).catch(() => {});
  const stateBefore = key ? cache.revocationState.get(caId) : undefined;
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
    return { certId, status: "revoked", revokedAt: c.revokedAt ?? now, reason: (c.revocationReason ?? "unspecified") as RevocationReason };
  });
  const stale = certs.filter((c) => !c.lastSeenAt || now.getTime() - c.lastSeenAt.getTime() > LAST_SEEN_GRANULARITY_MS).map((c) => c.id);
  if (stale.length) await ctx.db.certificate.updateMany({ where: { id: { in: stale } }, data: { lastSeenAt: now } });
  let der: Buffer;
  try {
    der = await buildOcspResponse({
      responder: { certificatePem: ca.certificatePem, keyId: ca.keyId, signatureAlgorithm: ca.signatureAlgorithm as SignatureAlgorithm },
      keyStore: ctx.keyStore,
      entries,
      nonce: request.nonce,
      thisUpdate: now,
      nextUpdate: new Date(now.getTime() + VALIDITY_MS),
      now,
    });
  } catch (e) {
    if (!isKeyStoreUnavailable(e)) throw e;
    // The HSM cannot sign for now: RFC 6960 §2.3 tryLater, and the outage on the trail.
    await recordKeyFailure(ctx, ca, "ocsp", e);
    return ocspErrorResponse("tryLater");
  }
  // Cache only all-good answers, and only if no revocation of this CA was seen meanwhile in this process.
  if (key && entries.every((e) => e.status === "good") && cache.checkedAt > 0 && cache.revocationState.get(caId) === stateBefore) {
    if (cache.responses.size >= MAX_CACHED) cache.responses.delete(cache.responses.keys().next().value!);
    cache.responses.set(key, { der, producedAt: now.getTime() });
  }
  return der;
}
