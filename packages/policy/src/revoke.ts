import { revokeCertificate, type CaContext } from "@attested/ca";
import { systemActor } from "@attested/events";

// Revoke On Failure: a device its MDM no longer knows loses its certificates. Only a definite "not
// found" leads here, never a lookup that could not answer. The reason code is the issuing CA's
// (Revocation > Reason Code), so the CRL says what the admin chose for automatic revocations.

export interface RevokedOnFailure {
  serialNumber: string;
  reason: string;
  error?: string;
}

export async function revokeOnFailure(
  ctx: CaContext,
  args: { where: { deviceSerial: string } | { id: string }; signalSource: { id: string; name: string }; reason: string },
): Promise<RevokedOnFailure[]> {
  const certs = await ctx.db.certificate.findMany({
    where: { ...args.where, status: { in: ["ACTIVE", "ON_HOLD"] } },
    select: { id: true, serialNumber: true, status: true, ca: { select: { revocationReason: true } } },
  });
  const actor = systemActor(`Revoke On Failure (${args.signalSource.name})`);
  const out: RevokedOnFailure[] = [];
  for (const c of certs) {
    const reason = c.ca.revocationReason || "unspecified";
    // A certificate on hold with the hold reason stays on hold; anything else is revoked.
    if (c.status === "ON_HOLD" && reason === "certificateHold") continue;
    try {
      await revokeCertificate(ctx, actor, c.id, { reason }, { revokeOnFailure: { signalSource: args.signalSource, lookup: args.reason } });
      out.push({ serialNumber: c.serialNumber, reason });
    } catch (e) {
      // Another revocation may have won the race; the answer stays a rejection either way.
      out.push({ serialNumber: c.serialNumber, reason, error: (e as Error).message });
    }
  }
  return out;
}
