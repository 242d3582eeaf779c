import type { CaContext } from "@attested/ca";
import { cachedConfig, type CorePlatform, type Db, type SecuritySignalSource } from "@attested/db";
import { EventType, recordEvent, type AuditEventOf } from "@attested/events";
import { lookupConfigFromRecord, lookupDevice, type Attributes, type LookupConfig, type LookupOptions, type LookupResult } from "@attested/integrations";
import { notePlatformAnswer, type PlatformAnswer } from "@attested/lifecycle";
import { MasterKeyError } from "@attested/secrets";
import { describeCondition, evaluateConditions, type ConditionResult } from "./conditions";
import { identityVariables, resolveIdentity } from "./context";
import { postureConditionsOf } from "./device-roles";
import { evaluatePosture } from "./posture";
import { DEFAULT_IDENTITY_ATTRIBUTE } from "./options";
import { revokeOnFailure } from "./revoke";
import type { WorkflowCondition } from "./schemas";

// The policy engine at ACME finalize (docs/protocol.md#the-enrollment-flow, step 4). Candidates are the Enrollment Policies whose
// Device Role's Identity is the Key Attestation Platform that verified the attestation, tried in
// Priority order (lower first, then name). For each: the Role's Core Provider looks the device up
// with the key its Security Signal Source names (default: the attested serial number); a found
// device must then pass the Role's Attributes/Groups conditions. The first candidate that passes
// wins. A definite "no" (not found, conditions not met, incomplete policy) moves on to the next
// candidate; a lookup that could not answer (auth, rate limit, 5xx, timeout) stops the decision: we
// cannot know whether the higher-priority policy would have applied, so we deny rather than fall
// through to a different one. Remote trouble never throws; every denial says precisely why, and
// `inputs` holds what an auditor needs to reconstruct the decision.

export interface EnrollmentRequest {
  platform: { id: string; name: string; vendor: string };
  /** The Key Attestation Platform whose roots verified the attestation (null for non-attested orders). */
  keyAttestationPlatformId: string | null;
  attestation: Record<string, unknown>; // serialNumber, udid, osVersion, sepOsVersion, ...
  csr: Record<string, unknown>; // the /csr template context (subject, san)
  account: { id: string; contact: string[] };
}

/**
 * Why a device is not issued a certificate. All are final for the order but "mdmUnavailable": the MDM
 * gave no answer for now (an outage), so the device is told to come back and the order stays ready.
 */
export type DenialCode = "noPolicy" | "deviceNotFound" | "lookupFailed" | "mdmUnavailable" | "conditionsNotMet" | "postureNotMet" | "misconfigured";

export type EnrollmentDecision =
  | {
      allowed: true;
      policy: { id: string; name: string; priority: number };
      caId: string;
      templateId: string;
      /** Mapped attributes: /device/... in templates. */
      device: Record<string, unknown>;
      groups: string[];
      inputs: Record<string, unknown>;
    }
  | { allowed: false; code: DenialCode; reason: string; inputs: Record<string, unknown> };

export interface DecideOptions {
  now?: Date;
  /** HTTP overrides for the lookups (tests shorten backoff; allowHttp for the simulator). */
  lookup?: Pick<LookupOptions, "http" | "allowHttp" | "deps">;
  /**
   * When given, Revoke On Failure applies at enrollment too: if every lookup answered a definite
   * "not found", the device's earlier certificates are revoked (it is no longer managed).
   */
  ca?: CaContext;
  /** Told of each device lookup the decision makes (metrics): the Core Platform, its answer, its time. */
  onLookup?: (lookup: { corePlatform: string; outcome: LookupResult["outcome"]; timeMs: number }) => void;
}

type CandidateResult = "selected" | "deviceNotFound" | "lookupFailed" | "conditionsNotMet" | "postureNotMet" | "misconfigured" | "notTried";

export interface LookupRecord {
  corePlatform: { id: string; name: string };
  identity: string;
  identityAttribute: string;
  outcome: LookupResult["outcome"];
  reason: string;
  /** The MDM gave no answer for now (see LookupResult.unavailable): the device is asked to come back. */
  unavailable: boolean;
  /** The MDM refused the platform's credentials (401, 403): admins are alerted (see platform-alerts). */
  refused: boolean;
  status: number | null;
  attempts: number;
  timeMs: number;
  url: string | null;
  rules: { path: string; condition: string; expected: string | null; passed: boolean; actual: string | null; message: string }[];
  attributes: Record<string, unknown>;
  groups: string[];
  missingAttributes: LookupResult["missingAttributes"];
  warnings: string[];
}

interface Candidate {
  policy: { id: string; name: string; priority: number };
  deviceRole: { id: string; name: string };
  role: { id: string; name: string } | null;
  coreProvider: { id: string; name: string } | null;
  signalSource: { id: string; name: string; revokeOnFailure: boolean } | null;
  identity: { attribute: string; value: string | null } | null;
  certificateAuthority: { id: string; name: string } | null;
  certificateTemplate: { id: string; name: string } | null;
  result: CandidateResult;
  reason: string;
  lookup?: LookupRecord;
  /** Same lookup as an earlier candidate's: made once per decision. */
  lookupReused?: boolean;
  conditions?: { condition: string; passed: boolean; actual: string | null; message: string }[];
  /** The Device Role's posture conditions on what Apple attested (before any lookup). */
  posture?: { condition: string; passed: boolean; notApplicable: boolean; actual: string | null; message: string }[];
}

const text = (v: unknown) => (typeof v === "string" && v.trim() ? v.trim() : null);

function record(cp: CorePlatform, identity: string, attribute: string, r: LookupResult): LookupRecord {
  return {
    corePlatform: { id: cp.id, name: cp.name },
    identity,
    identityAttribute: attribute,
    outcome: r.outcome,
    reason: r.reason,
    unavailable: r.unavailable === true,
    refused: r.refused === true,
    status: r.status ?? null,
    attempts: r.attempts,
    timeMs: r.timeMs,
    url: r.url ?? null,
    rules: r.rules.map((x) => ({
      path: x.rule.path,
      condition: x.rule.condition,
      expected: x.rule.expected ?? null,
      passed: x.passed,
      actual: x.actual,
      message: x.message,
    })),
    attributes: { ...r.attributes },
    groups: r.groups,
    missingAttributes: r.missingAttributes,
    warnings: r.warnings,
  };
}

/** The Certificate Issuance source for this Core Provider and Device Role: a specific one before ANY, then by name. */
export function pickSignalSource<S extends Pick<SecuritySignalSource, "corePlatformId" | "deviceRoleIds" | "name">>(
  sources: S[],
  corePlatformId: string,
  deviceRoleId: string | null,
): S | undefined {
  return sources
    .filter((s) => s.corePlatformId === corePlatformId && (s.deviceRoleIds.length === 0 || (deviceRoleId !== null && s.deviceRoleIds.includes(deviceRoleId))))
    .sort((a, b) => Number(b.deviceRoleIds.length > 0) - Number(a.deviceRoleIds.length > 0) || a.name.localeCompare(b.name))[0];
}

// One lookup configuration (secret opened, JSON checked by lookupDevice) per Core Platform object; the
// objects come from the configuration cache, so a changed platform is a new object.
const lookupConfigs = new WeakMap<CorePlatform, LookupConfig>();

/** Runs one lookup; a stored secret that cannot be opened is reported like any other failure. */
export async function lookupThrough(
  cp: CorePlatform,
  identity: string,
  attribute: string,
  context: Record<string, unknown>,
  options: DecideOptions["lookup"] = {},
): Promise<LookupResult> {
  let config: LookupConfig | undefined;
  try {
    config = lookupConfigs.get(cp);
    if (!config) lookupConfigs.set(cp, (config = lookupConfigFromRecord(cp)));
  } catch (e) {
    if (!(e instanceof MasterKeyError)) throw e;
    return {
      outcome: "error",
      reason: "the stored credential cannot be opened (was the master key changed?)",
      timeMs: 0,
      attempts: 0,
      rules: [],
      attributes: {},
      groups: [],
      missingAttributes: [],
      warnings: [],
    };
  }
  return lookupDevice({ config, identity, context, options: { ...options, identityVariables: identityVariables(attribute) } });
}

/** What every decision reads: all Enrollment Policies with their parts, cached (see cachedConfig). */
function enrollmentConfig(db: Db) {
  return cachedConfig(db, "policy.enrollment", async () => {
    const policies = await db.enrollmentPolicy.findMany({
      include: { deviceRole: true, policyWorkflow: { include: { corePlatform: true } } },
      orderBy: [{ priority: "asc" }, { name: "asc" }],
    });
    const [attestationPlatforms, cas, templates, sources] = await Promise.all([
      db.keyAttestationPlatform.findMany({ select: { id: true, name: true } }),
      db.certificateAuthority.findMany({
        where: { id: { in: policies.flatMap((p) => (p.caId ? [p.caId] : [])) } },
        select: { id: true, commonName: true, notAfter: true },
      }),
      db.certificateTemplate.findMany({
        where: { id: { in: policies.flatMap((p) => (p.templateId ? [p.templateId] : [])) } },
        select: { id: true, name: true },
      }),
      db.securitySignalSource.findMany({ where: { lookupPurpose: "certificate-issuance", corePlatformId: { not: null } }, orderBy: { name: "asc" } }),
    ]);
    return { policies, attestationPlatforms, cas, templates, sources };
  });
}

/** The configuration a decision reads: Enrollment Policies with their parts, CAs, templates, Signal Sources. */
export type EnrollmentConfig = Awaited<ReturnType<typeof enrollmentConfig>>;

export async function hasEnrollmentPolicies(db: Db): Promise<boolean> {
  return (await enrollmentConfig(db)).policies.length > 0;
}

/** What a decision leaves to its caller to do: nothing of it is written while deciding. */
export interface EnrollmentEffects {
  /** Device Lookup Failed events, one per lookup that could not answer (recorded before the decision's own event). */
  events: AuditEventOf<typeof EventType.DeviceLookupFailed>[];
  /** Revoke On Failure: every lookup said "not found", so the device's earlier certificates go. */
  revokeOnFailure: { deviceSerial: string; signalSource: { id: string; name: string }; reason: string } | null;
  /** Lookups that raise or clear their Core Platform's alert (a refusal, or an answer after one). */
  platformAnswers: { corePlatform: Pick<CorePlatform, "id" | "name" | "alertSince">; answer: PlatformAnswer }[];
}

/** A device lookup the decision needs before it can go on: made by the caller, then passed back in. */
export interface LookupNeeded {
  key: string;
  corePlatform: CorePlatform;
  identity: string;
  attribute: string;
}

/** Everything a decision depends on: read before it, so that deciding is pure. */
export interface DecisionInput {
  request: EnrollmentRequest;
  config: EnrollmentConfig;
  /** The lookups made so far, by LookupNeeded.key. */
  lookups: ReadonlyMap<string, LookupRecord>;
  now: Date;
}

export type DecisionStep = { lookup: LookupNeeded } | { decision: EnrollmentDecision; effects: EnrollmentEffects };

/** The request's values the lookups and conditions resolve against (/attestation, /csr, /account, /platform). */
const requestContext = (req: EnrollmentRequest): Record<string, unknown> => ({
  attestation: req.attestation,
  csr: req.csr,
  account: req.account,
  platform: req.platform,
});

/**
 * The enrollment decision as a pure function of its inputs: the configuration, the request, the time
 * and the device lookups made so far. Candidates are tried in order; when the next one needs a lookup
 * not made yet, the answer is that lookup (the caller makes it and asks again), so lookups are made one
 * at a time and only as far as the decision needs them, as a single pass would.
 */
export function decideWith({ request: req, config, lookups, now }: DecisionInput): DecisionStep {
  const deviceSerial = text(req.attestation.serialNumber);
  const context = requestContext(req);
  const kap = req.keyAttestationPlatformId ? (config.attestationPlatforms.find((k) => k.id === req.keyAttestationPlatformId) ?? null) : null;
  const inputs: Record<string, unknown> = {
    engine: "enrollment-policies",
    platform: req.platform,
    attestationPlatform: kap ?? (req.keyAttestationPlatformId ? { id: req.keyAttestationPlatformId, name: null } : null),
    deviceSerial,
    decidedAt: now.toISOString(),
  };
  const effects: EnrollmentEffects = { events: [], revokeOnFailure: null, platformAnswers: [] };
  const deny = (code: DenialCode, reason: string): { decision: Extract<EnrollmentDecision, { allowed: false }>; effects: EnrollmentEffects } => ({
    decision: { allowed: false, code, reason, inputs: { ...inputs, decision: { allowed: false, code, reason } } },
    effects,
  });

  if (!req.keyAttestationPlatformId)
    return deny("noPolicy", "the order was not attested: Enrollment Policies match devices by the Key Attestation Platform that verified them");
  const policies = config.policies.filter((p) => p.deviceRole?.keyAttestationPlatformId === req.keyAttestationPlatformId);
  if (policies.length === 0)
    return deny("noPolicy", `no Enrollment Policy has a Device Role whose Identity is Key Attestation Platform "${kap?.name ?? req.keyAttestationPlatformId}"`);

  const { cas, templates, sources } = config;

  const candidates: Candidate[] = [];
  inputs.candidates = candidates;
  // The lookups earlier candidates of this pass used: a later one with the same key reuses it.
  const used = new Set<string>();
  const notFoundSources: Candidate["signalSource"][] = [];
  let stopped: Candidate | null = null;

  for (const p of policies) {
    const wf = p.policyWorkflow;
    const cp = wf?.corePlatform ?? null;
    const ca = cas.find((c) => c.id === p.caId);
    const template = templates.find((t) => t.id === p.templateId);
    const cand: Candidate = {
      policy: { id: p.id, name: p.name, priority: p.priority },
      deviceRole: { id: p.deviceRole!.id, name: p.deviceRole!.name },
      role: wf ? { id: wf.id, name: wf.name } : null,
      coreProvider: cp ? { id: cp.id, name: cp.name } : null,
      signalSource: null,
      identity: null,
      certificateAuthority: ca ? { id: ca.id, name: ca.commonName } : null,
      certificateTemplate: template ? { id: template.id, name: template.name } : null,
      result: "notTried",
      reason: "",
    };
    candidates.push(cand);
    if (stopped) {
      cand.reason = `not tried: the lookup for "${stopped.policy.name}" failed`;
      continue;
    }
    const problems = [
      ...(!wf ? ["no Role"] : !cp ? [`Role "${wf.name}" has no Core Provider`] : []),
      ...(!p.caId
        ? ["no Certificate Authority"]
        : !ca
          ? ["its Certificate Authority no longer exists"]
          : ca.notAfter <= now
            ? [`Certificate Authority "${ca.commonName}" has expired`]
            : []),
      ...(!p.templateId ? ["no Certificate Template"] : !template ? ["its Certificate Template no longer exists"] : []),
    ];
    if (problems.length || !wf || !cp || !ca || !template) {
      cand.result = "misconfigured";
      cand.reason = `Enrollment Policy "${p.name}" is incomplete: ${problems.join(", ")}`;
      continue;
    }

    // What Apple attested decides before the MDM is asked: a device that fails it needs no lookup.
    const posture = evaluatePosture(postureConditionsOf(p.deviceRole!), req.attestation);
    if (posture.length) {
      cand.posture = posture.map((r) => ({ condition: r.rule, passed: r.passed, notApplicable: r.notApplicable, actual: r.actual, message: r.message }));
      const failed = posture.filter((r) => !r.passed);
      if (failed.length) {
        cand.result = "postureNotMet";
        cand.reason = `${failed.map((f) => f.message).join("; ")} (Device Role "${p.deviceRole!.name}", Enrollment Policy "${p.name}")`;
        continue;
      }
    }

    const source = pickSignalSource(sources, cp.id, p.deviceRoleId);
    const attribute = source?.identityAttribute ?? DEFAULT_IDENTITY_ATTRIBUTE;
    const identity = resolveIdentity(context, attribute) ?? null;
    cand.signalSource = source ? { id: source.id, name: source.name, revokeOnFailure: source.revokeOnFailure } : null;
    cand.identity = { attribute, value: identity };
    const where = `"${cp.name}" for Enrollment Policy "${p.name}"`;
    if (!identity) {
      cand.result = "lookupFailed";
      cand.reason = `the request has no ${attribute} to look the device up with in ${where}`;
      continue;
    }

    const key = JSON.stringify([cp.id, attribute, identity]);
    const lookup = lookups.get(key);
    if (!lookup) return { lookup: { key, corePlatform: cp, identity, attribute } };
    if (used.has(key)) cand.lookupReused = true;
    else {
      used.add(key);
      if (lookup.refused ? !cp.alertSince : lookup.outcome !== "error" && cp.alertSince) effects.platformAnswers.push({ corePlatform: cp, answer: lookup });
      if (lookup.outcome === "error") {
        effects.events.push({
          type: EventType.DeviceLookupFailed,
          outcome: "failure",
          actor: { type: "device", name: deviceSerial ?? identity },
          object: { type: "core-platform", id: cp.id, name: cp.name },
          deviceSerial,
          summary: `Device lookup of ${identity} in "${cp.name}" failed: ${lookup.reason}`,
          details: { enrollmentPolicy: cand.policy, platform: req.platform, lookup },
        });
      }
    }
    cand.lookup = lookup;

    if (lookup.outcome === "error") {
      cand.result = "lookupFailed";
      cand.reason = `${lookup.reason} (looking up ${identity} in ${where})`;
      stopped = cand;
      continue;
    }
    if (lookup.outcome === "notFound") {
      cand.result = "deviceNotFound";
      cand.reason = `${lookup.reason} (looking up ${identity} in ${where})`;
      notFoundSources.push(cand.signalSource);
      continue;
    }
    const conditions = (Array.isArray(wf.attributeConditions) ? wf.attributeConditions : []) as unknown as WorkflowCondition[];
    const results: ConditionResult[] = evaluateConditions(conditions, lookup.attributes as Attributes, lookup.groups);
    cand.conditions = results.map((r) => ({ condition: describeCondition(r.condition), passed: r.passed, actual: r.actual, message: r.message }));
    const failed = results.filter((r) => !r.passed);
    if (failed.length) {
      cand.result = "conditionsNotMet";
      cand.reason = `Role "${wf.name}" conditions not met: ${failed.map((f) => f.message).join("; ")} (device ${identity}, Enrollment Policy "${p.name}")`;
      continue;
    }
    cand.result = "selected";
    cand.reason = `device ${identity} found in "${cp.name}"${conditions.length ? ` and meets Role "${wf.name}"` : ` (Role "${wf.name}": ANY)`}`;
    return {
      decision: {
        allowed: true,
        policy: cand.policy,
        caId: ca.id,
        templateId: template.id,
        device: { ...lookup.attributes },
        groups: lookup.groups,
        inputs: { ...inputs, decision: { allowed: true, policy: cand.policy, reason: cand.reason } },
      },
      effects,
    };
  }

  if (stopped) return deny(stopped.lookup?.unavailable ? "mdmUnavailable" : "lookupFailed", stopped.reason);
  const tried = candidates.filter((c) => c.result !== "misconfigured");
  if (tried.length === 0) return deny("misconfigured", candidates.map((c) => c.reason).join("; "));
  const code: DenialCode = tried.some((c) => c.result === "conditionsNotMet")
    ? "conditionsNotMet"
    : tried.some((c) => c.result === "postureNotMet")
      ? "postureNotMet"
      : tried.some((c) => c.result === "lookupFailed")
        ? "lookupFailed"
        : "deviceNotFound";
  const reasons = tried.filter((c) => c.result === code).map((c) => c.reason);
  const denied = deny(code, reasons.join("; "));
  // Every lookup answered a definite "no": with Revoke On Failure, earlier certificates go too.
  const source = code === "deviceNotFound" && deviceSerial ? notFoundSources.find((s) => s?.revokeOnFailure) : undefined;
  if (source) effects.revokeOnFailure = { deviceSerial: deviceSerial!, signalSource: { id: source.id, name: source.name }, reason: denied.decision.reason };
  return denied;
}

/**
 * The reads a decision needs, then the decision (decideWith): the configuration (cached), then each
 * device lookup it asks for. Writes nothing; the caller applies the effects (applyEnrollmentEffects).
 */
export async function evaluateEnrollment(
  db: Db,
  req: EnrollmentRequest,
  opts: Omit<DecideOptions, "ca"> = {},
): Promise<{ decision: EnrollmentDecision; effects: EnrollmentEffects }> {
  const now = opts.now ?? new Date();
  const config = await enrollmentConfig(db);
  const lookups = new Map<string, LookupRecord>();
  for (;;) {
    const step = decideWith({ request: req, config, lookups, now });
    if (!("lookup" in step)) return step;
    const { key, corePlatform: cp, identity, attribute } = step.lookup;
    const lookup = record(cp, identity, attribute, await lookupThrough(cp, identity, attribute, requestContext(req), opts.lookup));
    lookups.set(key, lookup);
    opts.onLookup?.({ corePlatform: cp.name, outcome: lookup.outcome, timeMs: lookup.timeMs });
  }
}

/**
 * A decision's effects: its Device Lookup Failed events and, given the CA service, Revoke On Failure
 * (whose outcome the denial's inputs then carry, for its event). The decision as it is to be recorded.
 */
export async function applyEnrollmentEffects(
  db: Db,
  { decision, effects }: { decision: EnrollmentDecision; effects: EnrollmentEffects },
  ca?: CaContext,
): Promise<EnrollmentDecision> {
  for (const event of effects.events) await recordEvent(db, event);
  for (const { corePlatform, answer } of effects.platformAnswers) await notePlatformAnswer(db, corePlatform, answer, "an enrollment lookup got an answer");
  if (!effects.revokeOnFailure || !ca || decision.allowed) return decision;
  const revokedOnFailure = await revokeOnFailure(ca, {
    where: { deviceSerial: effects.revokeOnFailure.deviceSerial },
    signalSource: effects.revokeOnFailure.signalSource,
    reason: effects.revokeOnFailure.reason,
  });
  return { ...decision, inputs: { ...decision.inputs, revokedOnFailure } };
}

/** evaluateEnrollment, then applyEnrollmentEffects: the decision with its effects applied. */
export async function decideEnrollment(db: Db, req: EnrollmentRequest, opts: DecideOptions = {}): Promise<EnrollmentDecision> {
  return applyEnrollmentEffects(db, await evaluateEnrollment(db, req, opts), opts.ca);
}
