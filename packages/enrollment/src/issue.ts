import {
  httpProblem,
  normalizeIp,
  problem,
  type AccountRecord,
  type AcmeProblem,
  type AuthorizationRecord,
  type Identifier,
  type IssueArgs,
  type IssueHook,
} from "@attested/acme";
import { samePublicKey } from "@attested/attestation";
import { issueAndRecord, isKeyStoreUnavailable, KEY_STORE_RETRY_AFTER_SECONDS, type CaContext } from "@attested/ca";
import { cachedConfig, type Certificate, type Db } from "@attested/db";
import { EventType, recordEvent, type Actor, type EnrollmentDeniedDetails } from "@attested/events";
import { csrContext, parseCsr, type CsrSans, type ParsedCsr } from "@attested/pki";
import {
  applyEnrollmentEffects,
  attestedPosture,
  evaluateEnrollment,
  hasEnrollmentPolicies,
  type DecideOptions,
  type EnrollmentDecision,
} from "@attested/policy";
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
/** How long a device waits before it asks again while its MDM does not answer. */
const MDM_RETRY_AFTER_SECONDS = 30;
const NOT_CHECKED = "The device could not be checked with its management service; try again later";
const NOT_BUILT = "The certificate could not be built for this request; an administrator can see why in the portal's events";

const SAN_KINDS: ReadonlyArray<readonly [keyof CsrSans, string]> = [
  ["dnsname", "DNS"],
  ["ipaddress", "IP"],
  ["rfc822name", "email"],
  ["othername", "UPN"],
  ["uri", "URI"],
];

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

/** The Device Management Platform of the enrollment URL, as finalize needs it. */
interface FinalizePlatform {
  id: string;
  name: string;
  vendor: string;
  defaultCaId: string | null;
  defaultTemplateId: string | null;
}

/** Who finalizes and what was proven: the order's attested key and Apple's facts, if any. */
interface FinalizeSubject {
  order: IssueArgs["order"];
  account: AccountRecord;
  identifiers: Identifier[];
  /** The authorization whose device-attest-01 proved the key, if any. */
  attested: (AuthorizationRecord & { attestedKeySpki: Buffer }) | undefined;
  attestation: Record<string, unknown> | null;
  deviceSerial: string | null;
  deviceUdid: string | null;
  /** What Apple attested, recorded with the issuance or the denial. */
  attestedFacts: Record<string, unknown> | null;
  actor: Actor;
}

/** A refusal: the problem the device gets, and for the Enrollment Denied event the code, the full reason and what led to it. */
interface Denial {
  problem: AcmeProblem;
  code: string;
  reason: string;
  inputs: Pick<EnrollmentDeniedDetails, "csrKey" | "unproven" | "decision" | "policy">;
}

const denial = (p: AcmeProblem, code: string, inputs: Denial["inputs"] = {}, reason = p.message): Denial => ({ problem: p, code, reason, inputs });

function finalizeSubject({ order, account, authorizations }: Pick<IssueArgs, "order" | "account" | "authorizations">): FinalizeSubject {
  const attested = authorizations.find((a) => a.attestedKeySpki) as FinalizeSubject["attested"];
  const attestation = (attested?.attestation ?? null) as Record<string, unknown> | null;
  const deviceSerial = typeof attestation?.serialNumber === "string" ? attestation.serialNumber : null;
  const deviceUdid = typeof attestation?.udid === "string" ? attestation.udid : null;
  const attestedFacts = attestation && {
    serialNumber: attestation.serialNumber,
    udid: attestation.udid,
    osVersion: attestation.osVersion,
    sepOsVersion: attestation.sepOsVersion,
    llbVersion: attestation.llbVersion,
    softwareUpdateDeviceId: attestation.softwareUpdateDeviceId,
    secureBootLevel: attestation.secureBootLevel,
    sipStatus: attestation.sipStatus,
    thirdPartyKexts: attestation.thirdPartyKexts,
    attestationPlatform: attestation.keyAttestationPlatformName,
    leafFingerprint: attestation.leafFingerprint,
  };
  const actor: Actor = { type: "device", id: account.id, name: deviceSerial ?? `acme-account:${account.id.slice(0, 8)}` };
  return { order, account, identifiers: order.identifiers, attested, attestation, deviceSerial, deviceUdid, attestedFacts, actor };
}

/**
 * Step 1, validate the request: the CSR parses and verifies, is for the key Apple attested (docs/protocol.md#identifier-and-key-binding),
 * and names only what the order proved (RFC 8555 §7.4). The parsed CSR, or why not.
 */
export async function validateRequest(
  csrDer: Uint8Array,
  s: Pick<FinalizeSubject, "attested" | "identifiers">,
): Promise<{ csr: ParsedCsr } | { denied: Denial }> {
  let csr: ParsedCsr;
  try {
    csr = await parseCsr(csrDer);
  } catch (e) {
    if (e instanceof PkiError) return { denied: denial(problem.badCSR(e.message), e.code) };
    throw e;
  }
  const refused = checkCsrNames(csr, s);
  return refused ? { denied: refused } : { csr };
}

/** The CSR against what was proven: the attested key, or (without an attestation) the order's names. */
function checkCsrNames(csr: ParsedCsr, { attested, identifiers }: Pick<FinalizeSubject, "attested" | "identifiers">): Denial | null {
  // The certificate must be for the key Apple attested, nothing else.
  if (attested && !samePublicKey(csr.publicKey.spki, attested.attestedKeySpki, { aParsed: true }))
    return denial(problem.badCSR("The CSR's public key is not the key the device attested"), "publicKeyMismatch", { csrKey: csr.publicKey.description });
  // Without an attestation, the order's proven names are all the client may put in its certificate.
  if (!attested) {
    const unproven = unprovenCsrValues(csr, identifiers);
    if (unproven.length) {
      const named =
        unproven
          .slice(0, 5)
          .map((v) => `${v.kind} "${v.value}"`)
          .join(", ") + (unproven.length > 5 ? ` and ${unproven.length - 5} more` : "");
      const proven = identifiers.map((i) => i.value).join(", ");
      return denial(problem.badCSR(`The CSR asks for ${named}, which this order did not prove; ask only for ${proven}`), "unprovenName", { unproven });
    }
  }
  // RFC 8555 §7.4: for names the client proved, the CSR asks for exactly those names.
  const dnsNames = identifiers.filter((i) => i.type === "dns").map((i) => i.value.toLowerCase());
  if (dnsNames.length) {
    const asked = new Set([...csr.sans.dnsname.map((n) => n.toLowerCase())]);
    const cn = csr.subject.find((a) => a.oid === "2.5.4.3")?.value.toLowerCase();
    if (cn) asked.add(cn);
    if (asked.size !== dnsNames.length || dnsNames.some((n) => !asked.has(n)))
      return denial(problem.badCSR(`The CSR must name exactly the order's identifiers: ${dnsNames.join(", ")}`), "identifierMismatch");
  }
  return null;
}

/**
 * Step 2, decide: a pure function of what was read before it. An attested device goes through the
 * Enrollment Policies when there are any (`policyDecision`, see evaluateEnrollment); otherwise the
 * platform's default CA and template apply, or nothing does.
 */
export function decideIssuance(
  platform: Pick<FinalizePlatform, "defaultCaId" | "defaultTemplateId">,
  policyDecision: EnrollmentDecision | null,
): EnrollmentDecision {
  if (policyDecision) return policyDecision;
  if (platform.defaultCaId && platform.defaultTemplateId)
    return {
      allowed: true,
      policy: { id: "", name: "platform defaults", priority: 0 },
      caId: platform.defaultCaId,
      templateId: platform.defaultTemplateId,
      device: {},
      groups: [],
      inputs: { decidedBy: "the platform's default CA and template (no Enrollment Policy applies)" },
    };
  return { allowed: false, code: "noPolicy", reason: "No Enrollment Policy applies and the platform has no default CA and template", inputs: {} };
}

/** What a denied decision tells the device, and keeps for the event. */
function decisionDenial(decision: Extract<EnrollmentDecision, { allowed: false }>): Denial {
  return denial(
    problem.unauthorized(decision.code === "lookupFailed" ? NOT_CHECKED : NOT_ALLOWED),
    decision.code,
    { decision: decision.inputs },
    decision.reason,
  );
}

/**
 * The finalize step (docs/protocol.md#the-enrollment-flow, step 4), in named steps: validate the request (validateRequest), decide
 * (evaluateEnrollment's reads, then decideIssuance; the decision's own effects applied after it), issue
 * (issueAndRecord records the certificate, its "Certificate Issued" event and the order's move to valid
 * in one statement). Every refusal is an "Enrollment Denied" event saying why.
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
    const subject = finalizeSubject({ order, account, authorizations });
    const deny = (d: Denial): Promise<never> => recordDenial(db, deps.metrics, subject, platform, d);
    if (!platform) return deny(denial(problem.unauthorized("This enrollment endpoint no longer exists"), "platformGone"));

    const validated = await validateRequest(csrDer, subject);
    if ("denied" in validated) return deny(validated.denied);
    const { csr } = validated;

    const { attestation } = subject;
    const platformRef = { id: platform.id, name: platform.name, vendor: platform.vendor };
    // Reads first (the Enrollment Policies, the device lookups), then the decision; its effects (lookup
    // failures, Revoke On Failure) are applied before its own event is recorded.
    const evaluated =
      attestation && (await hasEnrollmentPolicies(db))
        ? await evaluateEnrollment(
            db,
            {
              platform: platformRef,
              keyAttestationPlatformId: typeof attestation.keyAttestationPlatformId === "string" ? attestation.keyAttestationPlatformId : null,
              attestation,
              csr: csrContext(csr) as Record<string, unknown>,
              account: { id: account.id, contact: account.contact },
            },
            { onLookup: deps.metrics?.lookup },
          )
        : null;
    const decision = decideIssuance(platform, evaluated && (await applyEnrollmentEffects(db, evaluated, ctx)));
    // The MDM is down or overloaded: nothing is decided. The device is told to come back (503 with
    // Retry-After; the ACME front end gives the order back to ready) and the outage is on the trail as
    // the lookup's "Device Lookup Failed" event, recorded with the decision's effects above.
    if (!decision.allowed && decision.code === "mdmUnavailable") throw httpProblem.unavailable(MDM_RETRY_AFTER_SECONDS);
    if (!decision.allowed) return deny(decisionDenial(decision));

    const issued = await issueCertificate(ctx, subject, platform, decision, csr, csrDer);
    if ("denied" in issued) return deny(issued.denied);
    deps.metrics?.issued();
    await deps.afterIssue?.(issued.certificate);
    return { certificateId: issued.certificate.id, chainPem: issued.chainPem };
  };
}

/**
 * Step 3, issue: the certificate from the chosen CA and template, recorded with its "Certificate Issued"
 * event and the order's move to valid in one statement (issueAndRecord). A certificate the template
 * cannot build from this request is a denial.
 */
async function issueCertificate(
  ctx: CaContext,
  subject: FinalizeSubject,
  platform: FinalizePlatform,
  decision: Extract<EnrollmentDecision, { allowed: true }>,
  csr: ParsedCsr,
  csrDer: Uint8Array,
): Promise<{ certificate: Certificate; chainPem: string } | { denied: Denial }> {
  const { order, account, attestation, attested } = subject;
  try {
    return await issueAndRecord(ctx, {
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
      actor: subject.actor,
      platformId: platform.id,
      enrollmentPolicyId: decision.policy.id || null,
      acmeOrderId: order.id,
      deviceSerial: subject.deviceSerial,
      deviceUdid: subject.deviceUdid,
      posture: attestation ? { ...attestedPosture(attestation) } : null,
      details: {
        platform: { id: platform.id, name: platform.name },
        policy: decision.policy.id ? decision.policy : null,
        decision: decision.inputs,
        groups: decision.groups,
        attestation: subject.attestedFacts,
        orderId: order.id,
        accountId: account.id,
        identifiers: subject.identifiers,
      },
    });
  } catch (e) {
    // The CA's HSM cannot sign for now: nothing was issued or recorded, the device comes back after
    // Retry-After (the ACME front end gives the order back to ready); the outage is a CA Key Unavailable event.
    if (isKeyStoreUnavailable(e)) throw httpProblem.unavailable(KEY_STORE_RETRY_AFTER_SECONDS);
    if (!(e instanceof PkiError)) throw e;
    const csrProblem = CSR_PROBLEMS.has(e.code);
    return {
      denied: denial(
        csrProblem ? problem.badCSR(e.message) : problem.unauthorized(NOT_BUILT),
        e.code,
        { policy: decision.policy, decision: decision.inputs },
        csrProblem ? e.message : `The certificate could not be built: ${e.message}`,
      ),
    };
  }
}

/**
 * Records the denial with its full reason, then refuses with its problem (the device gets that only).
 * The event is a statement of its own, before the ACME server moves the order (back to ready for a
 * badCSR, else to invalid): that move is the front end's, made from the problem this throws, and the
 * issue hook has no part in its statement. The event records the refusal, which stands either way.
 */
async function recordDenial(db: Db, metrics: EnrollmentMetrics | undefined, s: FinalizeSubject, platform: FinalizePlatform | null, d: Denial): Promise<never> {
  await recordEvent(db, {
    type: EventType.EnrollmentDenied,
    outcome: "denied",
    actor: s.actor,
    object: platform ? { type: "device-management-platform", id: platform.id, name: platform.name } : undefined,
    deviceSerial: s.deviceSerial,
    summary: `Enrollment denied${s.deviceSerial ? ` for device ${s.deviceSerial}` : ""}: ${d.reason}`,
    details: {
      code: d.code,
      reason: d.reason,
      problem: d.problem.message,
      orderId: s.order.id,
      accountId: s.account.id,
      identifiers: s.identifiers,
      ...(s.attestedFacts ? { attestation: s.attestedFacts } : {}),
      ...d.inputs,
    },
  });
  metrics?.denied(d.code);
  throw d.problem;
}
