import { EventType, inTransaction, recordEvent, systemActor } from "@attested/events";
import { buildCrl, type RevocationReason, type SignatureAlgorithm } from "@attested/pki";
import type { CaContext } from "./context";
import { isKeyStoreUnavailable, recordKeyFailure } from "./keys";

// A CRL is valid for a day and republished on every revocation and before it goes stale.
const CRL_LIFETIME_MS = 24 * 60 * 60_000;
const REFRESH_MARGIN_MS = 60 * 60_000;

/** Builds, signs and stores the CA's next CRL (crlNumber + 1) from every revoked or held certificate. */
export async function publishCrl(ctx: CaContext, caId: string): Promise<Buffer> {
  try {
    return await signAndStoreCrl(ctx, caId);
  } catch (e) {
    if (isKeyStoreUnavailable(e)) {
      const ca = await ctx.db.certificateAuthority.findUnique({ where: { id: caId }, select: { id: true, commonName: true, keyId: true } });
      if (ca) await recordKeyFailure(ctx, ca, "crl", e);
    }
    throw e;
  }
}

async function signAndStoreCrl(ctx: CaContext, caId: string): Promise<Buffer> {
  const now = ctx.now?.() ?? new Date();
  return inTransaction(ctx.db, async (tx) => {
    // Serializes publishers of one CA so CRL numbers stay strictly increasing.
    const [ca] = await tx.$queryRawUnsafe<{ id: string; crlNumber: bigint }[]>(
      `SELECT id, "crlNumber" FROM "CertificateAuthority" WHERE id = $1 FOR UPDATE`,
      caId,
    );
    const full = await tx.certificateAuthority.findUniqueOrThrow({ where: { id: caId }, omit: { crlDer: true } });
    const revoked = await tx.certificate.findMany({
      where: { caId, status: { in: ["REVOKED", "ON_HOLD"] } },
      select: { serialNumber: true, revokedAt: true, revocationReason: true },
    });
    const crlNumber = BigInt(ca.crlNumber) + 1n;
    const der = await buildCrl({
      ca: { certificatePem: full.certificatePem, keyId: full.keyId, signatureAlgorithm: full.signatureAlgorithm as SignatureAlgorithm },
      keyStore: ctx.keyStore,
      crlNumber,
      thisUpdate: now,
      nextUpdate: new Date(now.getTime() + CRL_LIFETIME_MS),
      revoked: revoked.map((r) => ({
        serialNumber: r.serialNumber,
        revokedAt: r.revokedAt ?? now,
        reason: (r.revocationReason ?? "unspecified") as RevocationReason,
      })),
    });
    await tx.certificateAuthority.update({
      where: { id: caId },
      data: { crlNumber, crlDer: new Uint8Array(der), crlThisUpdate: now, crlNextUpdate: new Date(now.getTime() + CRL_LIFETIME_MS) },
    });
    await recordEvent(tx, {
      type: EventType.CrlPublished,
      outcome: "success",
      actor: systemActor("crl"),
      object: { type: "certificate-authority", id: caId, name: full.commonName },
      summary: `CRL #${crlNumber} of "${full.commonName}" published with ${revoked.length} entr${revoked.length === 1 ? "y" : "ies"}`,
      details: { crlNumber: crlNumber.toString(), entries: revoked.length },
    });
    return Buffer.from(der);
  });
}

/** The current CRL (DER), republished first when missing or close to its nextUpdate. */
export async function currentCrl(ctx: CaContext, caId: string): Promise<Buffer | null> {
  const ca = await ctx.db.certificateAuthority.findUnique({ where: { id: caId }, select: { crlDer: true, crlNextUpdate: true } });
  if (!ca) return null;
  const now = (ctx.now?.() ?? new Date()).getTime();
  if (ca.crlDer && ca.crlNextUpdate && ca.crlNextUpdate.getTime() - now > REFRESH_MARGIN_MS) return Buffer.from(ca.crlDer);
  return publishCrl(ctx, caId);
}
