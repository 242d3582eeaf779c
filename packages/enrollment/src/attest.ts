import { attestationSummary, verifyAppleAttestation } from "@attested/attestation";
import type { DeviceAttestValidator } from "@attested/acme";
import { cachedConfig, type Db } from "@attested/db";
import { trustedRoots } from "@attested/platforms";
import { AttestationError } from "@attested/errors";

/**
 * device-attest-01 (draft-ietf-acme-device-attest, docs/protocol.md#device-attest-01): the attestation must chain to the roots of
 * a Key Attestation Platform. The first platform whose roots verify it is "the platform that verified
 * the attestation"; the policy engine matches Device Roles against it.
 */
export function deviceAttestValidator(db: Db, now: () => Date = () => new Date(), counted?: (result: string) => void): DeviceAttestValidator {
  return async ({ token, attObj, identifier }) => {
    const platforms = await cachedConfig(db, "kap.apple", () =>
      db.keyAttestationPlatform.findMany({ where: { type: "apple" }, orderBy: { createdAt: "asc" } }),
    );
    if (platforms.length === 0)
      throw new AttestationError(
        "chainInvalid",
        "The attestation could not be verified; an administrator can see why in the portal's events",
        "No Key Attestation Platform is configured (Integration Hub > Key Attestation Platforms)",
      );
    let best: AttestationError | undefined;
    for (const kap of platforms) {
      try {
        const a = await verifyAppleAttestation({ attObj, token, identifier: identifier.value, trustedRoots: trustedRoots(kap), now: now() });
        counted?.("verified");
        return {
          publicKeySpki: a.publicKeySpki,
          attested: { ...attestationSummary(a), keyAttestationPlatformId: kap.id, keyAttestationPlatformName: kap.name },
        };
      } catch (e) {
        if (!(e instanceof AttestationError)) throw e;
        // A failure past the chain check (nonce, identifier) is the precise reason; keep it over "untrusted".
        if (!best || (best.reason === "chainInvalid" && e.reason !== "chainInvalid")) best = e;
      }
    }
    counted?.(best!.reason);
    throw best!;
  };
}
