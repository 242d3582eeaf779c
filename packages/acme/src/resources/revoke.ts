import { createPublicKey, X509Certificate } from "node:crypto";
import { z } from "zod";
import { parsePayload, type Reply, type RequestContext } from "../context";
import { decodeBase64url } from "../encoding";
import { problem } from "../problems";
import type { RevokeArgs } from "../types";

// revokeCert (RFC 8555 §7.6): signed by the account that ordered the certificate or by another account
// holding valid authorizations for all the identifiers it was issued for (kid), or by the certificate's
// own key (jwk).

/** RFC 5280 §5.3.1 reasons a subscriber may ask for; CA-side reasons (cACompromise, certificateHold,
 * removeFromCRL, aACompromise) are refused with badRevocationReason. */
export const SUBSCRIBER_REVOCATION_REASONS: ReadonlyMap<number, string> = new Map([
  [0, "unspecified"],
  [1, "keyCompromise"],
  [3, "affiliationChanged"],
  [4, "superseded"],
  [5, "cessationOfOperation"],
  [9, "privilegeWithdrawn"],
]);

const RevokePayload = z.object({ certificate: z.string(), reason: z.unknown().optional() });

function spkiOfJwk(jwk: Record<string, string>): Buffer {
  return createPublicKey({ key: jwk, format: "jwk" }).export({ type: "spki", format: "der" });
}

export async function revokeCert(ctx: RequestContext): Promise<Reply> {
  const { deps, platform } = ctx;
  const payload = parsePayload(ctx, RevokePayload);
  const der = decodeBase64url(payload.certificate);
  if (!der || der.length === 0) throw problem.malformed('"certificate" must be base64url-encoded DER');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch {
    throw problem.malformed('"certificate" is not a valid X.509 certificate');
  }
  const reason = payload.reason === undefined ? 0 : payload.reason;
  if (typeof reason !== "number" || !Number.isInteger(reason) || !SUBSCRIBER_REVOCATION_REASONS.has(reason)) {
    throw problem.badRevocationReason(`Unsupported revocation reason; allowed: ${[...SUBSCRIBER_REVOCATION_REASONS.keys()].join(", ")}`);
  }

  const known = await deps.findCertificate({ der: new Uint8Array(der), platformId: platform.id });
  if (!known) throw problem.malformed("Certificate not found", { status: 404 });

  let requestedBy: RevokeArgs["requestedBy"];
  if (ctx.account) {
    const issued = known.acmeOrderId ? await deps.store.getOrderWithAuthorizations(known.acmeOrderId) : null;
    if (issued?.order.accountId === ctx.account.id) requestedBy = { kind: "account", accountId: ctx.account.id };
    else if (issued && (await deps.store.holdsAuthorizations(ctx.account.id, issued.authorizations, ctx.now))) {
      requestedBy = { kind: "authorizations", accountId: ctx.account.id };
    } else {
      throw problem.unauthorized("The account neither ordered this certificate nor holds valid authorizations for all its identifiers");
    }
  } else if (ctx.jwk) {
    const certSpki = cert.publicKey.export({ type: "spki", format: "der" });
    if (!spkiOfJwk(ctx.jwk.key).equals(certSpki)) {
      throw problem.unauthorized("The JWS key is not the certificate's key");
    }
    requestedBy = { kind: "certificate-key" };
  } else {
    throw problem.malformed("revokeCert must be signed with the account key or the certificate key");
  }
  if (known.revoked) throw problem.alreadyRevoked("The certificate is already revoked");

  // The hook records the revocation on the audit trail, with who asked.
  await deps.revokeCertificate({ certificateId: known.certificateId, reason, platformId: platform.id, requestedBy });
  await deps.emit({
    type: "certificate-revoked",
    platformId: platform.id,
    ...(ctx.account ? { accountId: ctx.account.id } : {}),
    ...(known.acmeOrderId ? { orderId: known.acmeOrderId } : {}),
    details: {
      certificateId: known.certificateId,
      serialNumber: cert.serialNumber.toLowerCase(),
      reason: SUBSCRIBER_REVOCATION_REASONS.get(reason),
      reasonCode: reason,
      by: requestedBy.kind,
    },
  });
  return { status: 200 };
}
