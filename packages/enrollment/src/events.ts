import type { AcmeEvent, Identifier } from "@attested/acme";
import { EventType, type Actor, type EventInput, type EventObject } from "@attested/events";

/**
 * The audit-trail event of an ACME event, which the ACME store records in the statement of the change
 * it describes (see createAcmeService); null for those recorded elsewhere: issuance and denials by the
 * issue hook (with the policy decision), revocations by the CA service, each with its own change.
 */
export function acmeEventInput(e: AcmeEvent): EventInput | null {
  const attested = (("attested" in e.details && e.details.attested) || null) as Record<string, unknown> | null;
  const identifier: Identifier | undefined = "identifier" in e.details ? e.details.identifier : undefined;
  // The attested serial when proven; for a refused attestation, the serial the device claimed.
  const claimed = identifier?.type === "permanent-identifier" ? identifier.value : null;
  const deviceSerial = typeof attested?.serialNumber === "string" ? attested.serialNumber : claimed;
  const actor: Actor = { type: "device", id: e.accountId, name: deviceSerial ?? (e.accountId ? `acme-account:${e.accountId.slice(0, 8)}` : "acme-client") };
  const object: EventObject = { type: "device-management-platform", id: e.platformId };
  const base = { actor, object, deviceSerial };
  switch (e.type) {
    case "account-created":
      return {
        ...base,
        type: EventType.AcmeAccountCreated,
        outcome: "success",
        summary: "ACME account created",
        details: { accountId: e.accountId, ...e.details },
      };
    case "account-updated":
    case "account-deactivated":
    case "account-key-changed":
      return {
        ...base,
        type: EventType.AcmeAccountUpdated,
        outcome: "success",
        summary: `ACME account ${e.type.replace("account-", "")}`,
        details: { accountId: e.accountId, ...e.details },
      };
    case "order-created":
      return {
        ...base,
        type: EventType.AcmeOrderCreated,
        outcome: "success",
        summary: `ACME order for ${e.details.identifiers.map((i) => i.value).join(", ")}`,
        details: { orderId: e.orderId, ...e.details },
      };
    case "challenge-valid": {
      const deviceAttest = e.details.challengeType === "device-attest-01";
      return {
        ...base,
        type: deviceAttest ? EventType.AttestationVerified : EventType.ChallengeValidated,
        outcome: "success",
        summary: deviceAttest
          ? `Apple attestation verified for ${deviceSerial ?? "device"}${attested?.osVersion ? ` (OS ${attested.osVersion})` : ""}`
          : `${e.details.challengeType} challenge validated`,
        details: { orderId: e.orderId, authorizationId: e.authorizationId, ...e.details },
      };
    }
    case "challenge-invalid": {
      const deviceAttest = e.details.challengeType === "device-attest-01";
      const error = e.details.error;
      return {
        ...base,
        type: deviceAttest ? EventType.AttestationFailed : EventType.ChallengeFailed,
        outcome: "failure",
        summary: `${deviceAttest ? "Attestation failed" : `${e.details.challengeType} challenge failed`}: ${e.details.adminDetail ?? error.detail ?? "unknown reason"}`,
        details: { orderId: e.orderId, authorizationId: e.authorizationId, reason: error.reason as string | undefined, ...e.details },
      };
    }
    // Recorded elsewhere: issuance and denials by the issue hook, revocations by the CA service.
    case "authorization-deactivated":
    case "finalize-rejected":
    case "order-invalid":
    case "certificate-issued":
    case "certificate-revoked":
      return null;
  }
}
