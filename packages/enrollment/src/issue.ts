import { normalizeIp, problem, type AcmeProblem, type Identifier, type IssueHook } from "@attested/acme";
import { samePublicKey } from "@attested/attestation";
import { issueAndRecord, type CaContext } from "@attested/ca";
import { cachedConfig, type Certificate } from "@attested/db";
import { EventType, recordEvent, type Actor } from "@attested/events";
import { csrContext, parseCsr, type CsrSans, type ParsedCsr } from "@attested/pki";
import { decideEnrollment, hasEnrollmentPolicies, type DecideOptions, type EnrollmentDecision } from "@attested/policy";
import { PkiError } from "@attested/errors";

/** What the enrollment path reports for metrics; counted after the event it matches is recorded. */
export interface EnrollmentMetrics {
  issued(): void;
  denied(code: string): void;
  lookup: NonNullable<DecideOptions["onLookup"]>;
  /** A device-attest-01 answer: "verified", or the AttestationError reason. */
  attestation(result: string): void;
}

export interface IssueDeps {
  ca: () => Promise<CaContext>;
  /** Called after a certificate is recorded (e.g. to schedule the enrollment notice). */
  afterIssue?: (certificate: Certificate) => Promise<void>;
  metrics?: EnrollmentMetrics;
}

const CSR_PROBLEMS = new Set(["badCSR", "badPublicKey", "publicKeyMismatch"]);

// What a device is told: enough to act on, nothing of the policies, the MDM or other devices. The
// Enrollment Denied event keeps the full reason for auditors.
const NOT_ALLOWED = "This device is not allowed to enroll; an administrator can see why in the portal's events";
const NOT_CHECKED = "The device could not be checked with its management service; try again later";
const NOT_BUILT = "The certificate could not be built for this request; an administrator can see why in the portal's events";

const SAN_KINDS: ReadonlyArray<readonly [keyof CsrSans, string]> = [["dnsname", "DNS"], ["ipaddress", "IP"], ["rfc822name", "email"], ["othername", "UPN"], ["uri", "URI"]];

/** A DNS or IP name as order identifiers hold it, so a CSR's names compare with the proven ones. */
const asIdentifierValue = (v: string) => normalizeIp(v) ?? v.toLowerCase();

/** Every value of the CSR (subject attributes and SANs of any type) that is none of the proven identifiers. */
function unprovenCsrValues(csr: ParsedCsr, identifiers: Identifier[]): { kind: string; value: string }[] {
  const proven = new Set(identifiers.filter((i) => i.type === "dns" || i.type === "ip").map((i) => asIdentifierValue(i.value)));
  const values = [
    ...csr.subject.map((a) => ({ kind: a.type, value: a.value })),
    ...SAN_KINDS.flatMap(([key, kind]) => csr.sans[key].map((value) => ({ kind, value }))),
  ];
  return values.filter((v) => !proven.has(asIdentifierValue(v.value)));
}

/**
 * The finalize step (docs/protocol.md#the-enrollment-flow, step 4): the CSR's key must be the attested key; the Enrollment Policy (or the
 * platform's defaults) chooses CA and template; the certificate is issued and recorded with a
 * "Certificate Issued" event. Every refusal is an "Enrollment Denied" event saying why.
 */
export function issueHook(deps: IssueDeps): IssueHook {
  return async ({ order, account, csrDer, authorizations, platformId }) => {
    const ctx = await deps.ca();
    const db = ctx.db;
    const platform = await cachedConfig(db, `dmp:${platformId}`, () =>
      db.deviceManagementPlatform.findUnique({
        where: { id: platformId },
        select: { id: true, name: true, vendor: true, defaultCaId: true, defaultTemplateId: true },
      }),
    );
    const attested = authorizations.find((a) => a.attestedKeySpki);
    const attestation = (attested?.attestation ?? null) as Record<string, unknown> | null;
    const deviceSerial = typeof attestation?.serialNumber === "string" ? attestation.serialNumber : null;
    const deviceUdid = typeof attestation?.udid === "string" ? attestation.udid : null;
    // What Apple attested, recorded with the issuance or the denial.
    const attestedFacts = attestation && {
      serialNumber: attestation.serialNumber, udid: attestation.udid, osVersion: attestation.osVersion, sepOsVersion: attestation.sepOsVersion,
      secureBootLevel: attestation.secureBootLevel, sipStatus: attestation.sipStatus, attestationPlatform: attestation.keyAttestationPlatformName,
      leafFingerprint: attestation.leafFingerprint,
    };
    const identifiers = order.identifiers;
    const actor: Actor = { type: "device", id: account.id, name: deviceSerial ?? `acme-account:${account.id.slice(0, 8)}` };

    /** Records the denial with its full reason; the device gets `p` only. */
    const deny = async (p: AcmeProblem, code: string, inputs: Record<string, unknown> = {}, reason = p.message): Promise<never> => {
      await recordEvent(db, {
        type: EventType.EnrollmentDenied,
        outcome: "denied",
        actor,
        object: platform ? { type: "device-management-platform", id: platform.id, name: platform.name } : undefined,
        deviceSerial,
        summary: `Enrollment denied${deviceSerial ? ` for device ${deviceSerial}` : ""}: ${reason}`,
        details: { code, reason, problem: p.message, orderId: order.id, accountId: account.id, identifiers, ...(attestedFacts ? { attestation: attestedFacts } : {}), ...inputs },
      });
      deps.metrics?.denied(code);
      throw p;
    };
    if (!platform) return deny(problem.unauthorized("This enrollment endpoint no longer exists"), "platformGone");

    let csr: ParsedCsr;
    try {
      csr = await parseCsr(csrDer);
    } catch (e) {
      if (e instanceof PkiError) return deny(problem.badCSR(e.message), e.code);
      throw e;
    }
    // The certificate must be for the key Apple attested (docs/protocol.md#identifier-and-key-binding), nothing else.
    if (attested && !samePublicKey(csr.publicKey.spki, attested.attestedKeySpki!, { aParsed: true }))
      return deny(problem.badCSR("The CSR's public key is not the key the device attested"), "publicKeyMismatch", { csrKey: csr.publicKey.description });
    // Without an attestation, the order's proven names are all the client may put in its certificate.
    if (!attested) {
      const unproven = unprovenCsrValues(csr, identifiers);
      if (unproven.length) {
        const named = unproven.slice(0, 5).map((v) => `${v.kind} "${v.value}"`).join(", ") + (unproven.length > 5 ? ` and ${unproven.length - 5} more` : "");
        const proven = identifiers.map((i) => i.value).join(", ");
        return deny(problem.badCSR(`The CSR asks for ${named}, which this order did not prove; ask only for ${proven}`), "unprovenName", { unproven });
      }
    }
    // RFC 8555 §7.4: for names the client proved, the CSR asks for exactly those names.
    const dnsNames = identifiers.filter((i) => i.type === "dns").map((i) => i.value.toLowerCase());
    if (dnsNames.length) {
      const asked = new Set([...csr.sans.dnsname.map((n) => n.toLowerCase())]);
      const cn = csr.subject.find((a) => a.oid === "2.5.4.3")?.value.toLowerCase();
      if (cn) asked.add(cn);
      if (asked.size !== dnsNames.length || dnsNames.some((n) => !asked.has(n)))
        return deny(problem.badCSR(`The CSR must name exactly the order's identifiers: ${dnsNames.join(", ")}`), "identifierMismatch");
    }

    const csrCtx = csrContext(csr) as Record<string, unknown>;
    let decision: EnrollmentDecision;
    // Attested devices go through the Enrollment Policies; without any, the platform's defaults apply.
    if (attestation && (await hasEnrollmentPolicies(db))) {
      decision = await decideEnrollment(db, {
        platform: { id: platform.id, name: platform.name, vendor: platform.vendor },
        keyAttestationPlatformId: typeof attestation.keyAttestationPlatformId === "string" ? attestation.keyAttestationPlatformId : null,
        attestation,
        csr: csrCtx,
        account: { id: account.id, contact: account.contact },
      }, { ca: ctx, onLookup: deps.metrics?.lookup });
    } else if (platform.defaultCaId && platform.defaultTemplateId) {
      decision = {
        allowed: true,
        policy: { id: "", name: "platform defaults", priority: 0 },
        caId: platform.defaultCaId,
        templateId: platform.defaultTemplateId,
        device: {},
        groups: [],
        inputs: { decidedBy: "the platform's default CA and template (no Enrollment Policy applies)" },
      };
    } else {
      decision = {
        allowed: false,
        code: "noPolicy",
        reason: "No Enrollment Policy applies and the platform has no default CA and template",
        inputs: {},
      };
    }
    if (!decision.allowed)
      return deny(problem.unauthorized(decision.code === "lookupFailed" ? NOT_CHECKED : NOT_ALLOWED), decision.code, { decision: decision.inputs }, decision.reason);

    try {
      const issued = await issueAndRecord(ctx, {
        caId: decision.caId,
        templateId: decision.templateId,
        csrDer,
        context: {
          attestation: attestation ?? {},
          device: decision.device,
          // An account's contact is whatever the client wrote: proven by nothing unless the device is.
          account: attested ? { id: account.id, contact: account.contact } : { id: account.id },
          platform: { id: platform.id, name: platform.name, vendor: platform.vendor },
        },
        csrNamesProven: !attested,
        expectedPublicKeySpki: attested?.attestedKeySpki ?? undefined,
        parsedCsr: csr,
        actor,
        platformId: platform.id,
        enrollmentPolicyId: decision.policy.id || null,
        acmeOrderId: order.id,
        deviceSerial,
        deviceUdid,
        details: {
          platform: { id: platform.id, name: platform.name },
          policy: decision.policy.id ? decision.policy : null,
          decision: decision.inputs,
          groups: decision.groups,
          attestation: attestedFacts,
          orderId: order.id,
          accountId: account.id,
          identifiers,
        },
      });
      deps.metrics?.issued();
      await deps.afterIssue?.(issued.certificate);
      return { certificateId: issued.certificate.id, chainPem: issued.chainPem };
    } catch (e) {
      if (e instanceof PkiError)
        return deny(
          CSR_PROBLEMS.has(e.code) ? problem.badCSR(e.message) : problem.unauthorized(NOT_BUILT),
          e.code,
          { policy: decision.policy, decision: decision.inputs },
          CSR_PROBLEMS.has(e.code) ? e.message : `The certificate could not be built: ${e.message}`,
        );
      throw e;
    }
  };
}
