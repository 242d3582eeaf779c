import { revokeCertificate, reasonLabel } from "@attested/ca";
import { systemActor } from "@attested/events";
import { DAY_MS, nowOf, type LifecycleContext } from "./context";
import { DomainError } from "@attested/errors";

// CA > Revocation: "Revoke Certificate if unused for N days", with the CA's Reason Code.
// Usage is the certificate's last OCSP (or RADIUS) check, Certificate.lastSeenAt.
//   Since last usage:           revoke when the last use is N days old; a certificate never used
//                               counts from its issuance.
//   Since certificate issuance: revoke when the certificate was not used at all in the N days
//                               after it was issued.
// Both describe "unused"; ticking both is the same as "since last usage". Releasing a Certificate
// Hold sets lastSeenAt to the release time (packages/ca releaseHold), so a released certificate gets
// N fresh days and is no longer "never used".

const actor = systemActor("unused-certificates");
const BATCH = 200;

export interface UnusedSweepResult {
  revoked: { certificateId: string; serialNumber: string; caId: string; reason: string; rule: "sinceLastUsage" | "sinceIssuance" }[];
}

export async function revokeUnusedCertificates(ctx: LifecycleContext, opts: { limit?: number } = {}): Promise<UnusedSweepResult> {
  const now = nowOf(ctx);
  const limit = opts.limit ?? 1000;
  const cas = await ctx.db.certificateAuthority.findMany({
    where: { revokeUnusedDays: { not: null }, OR: [{ revokeSinceLastUsage: true }, { revokeSinceIssuance: true }] },
    select: { id: true, commonName: true, revokeUnusedDays: true, revokeSinceLastUsage: true, revokeSinceIssuance: true, revocationReason: true },
  });
  const out: UnusedSweepResult = { revoked: [] };
  for (const ca of cas) {
    const days = ca.revokeUnusedDays!;
    const cutoff = new Date(now.getTime() - days * DAY_MS);
    const rules = [
      ...(ca.revokeSinceLastUsage ? [{ OR: [{ lastSeenAt: { lte: cutoff } }, { lastSeenAt: null, issuedAt: { lte: cutoff } }] }] : []),
      ...(ca.revokeSinceIssuance ? [{ lastSeenAt: null, issuedAt: { lte: cutoff } }] : []),
    ];
    while (out.revoked.length < limit) {
      // Expired certificates are left alone: they no longer work, and the CRL need not grow.
      const due = await ctx.db.certificate.findMany({
        where: { caId: ca.id, status: "ACTIVE", notAfter: { gt: now }, OR: rules },
        select: { id: true, serialNumber: true, issuedAt: true, lastSeenAt: true },
        orderBy: { issuedAt: "asc" },
        take: Math.min(BATCH, limit - out.revoked.length),
      });
      if (!due.length) break;
      for (const c of due) {
        const rule = c.lastSeenAt ? "sinceLastUsage" : ca.revokeSinceIssuance ? "sinceIssuance" : "sinceLastUsage";
        const since = c.lastSeenAt ?? c.issuedAt;
        try {
          await revokeCertificate(
            ctx,
            actor,
            c.id,
            { reason: ca.revocationReason },
            {
              rule,
              unusedDays: days,
              lastUsedAt: c.lastSeenAt,
              issuedAt: c.issuedAt,
              why: `${c.lastSeenAt ? "last used" : "never used since issuance on"} ${since.toISOString().slice(0, 10)}; "${ca.commonName}" revokes certificates unused for ${days} day${days === 1 ? "" : "s"} (${reasonLabel(ca.revocationReason)})`,
            },
          );
          out.revoked.push({ certificateId: c.id, serialNumber: c.serialNumber, caId: ca.id, reason: ca.revocationReason, rule });
        } catch (e) {
          // Revoked by someone else in the meantime: nothing left to do for this one.
          if (!(e instanceof DomainError && e.status === 409)) throw e;
        }
      }
    }
  }
  return out;
}
