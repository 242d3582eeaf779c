import { describe, expect, it } from "vitest";
import { decideWith, type DecisionStep, type EnrollmentConfig, type EnrollmentRequest, type LookupRecord } from "./engine";

// The enrollment decision is a pure function of the configuration, the request, the time and the
// lookups made so far: no database, no network here. The same inputs give the same step every time.

const now = new Date("2026-06-01T00:00:00Z");
const KAP = "kap-apple";

interface PolicyOpts {
  id?: string;
  priority?: number;
  caId?: string | null;
  templateId?: string | null;
  workflow?: boolean;
  corePlatform?: string | null;
  conditions?: unknown[];
  posture?: unknown[];
  kap?: string;
}

function policy({
  id = "p1",
  priority = 100,
  caId = "ca",
  templateId = "tpl",
  workflow = true,
  corePlatform = "cp",
  conditions = [],
  posture = [],
  kap = KAP,
}: PolicyOpts = {}) {
  return {
    id,
    name: `Policy ${id}`,
    priority,
    deviceRoleId: `role-${id}`,
    caId,
    templateId,
    deviceRole: { id: `role-${id}`, name: `Role ${id}`, keyAttestationPlatformId: kap, postureConditions: posture },
    policyWorkflow: workflow
      ? {
          id: `wf-${id}`,
          name: `Workflow ${id}`,
          attributeConditions: conditions,
          corePlatform: corePlatform ? { id: corePlatform, name: `Core ${corePlatform}` } : null,
        }
      : null,
  };
}

function config(
  policies: ReturnType<typeof policy>[],
  opts: { caExpired?: boolean; revokeOnFailure?: boolean; identityAttribute?: string } = {},
): EnrollmentConfig {
  return {
    policies,
    attestationPlatforms: [{ id: KAP, name: "Apple" }],
    cas: [{ id: "ca", commonName: "Device CA", notAfter: opts.caExpired ? new Date("2026-01-01T00:00:00Z") : new Date("2030-01-01T00:00:00Z") }],
    templates: [{ id: "tpl", name: "Device template" }],
    sources: [
      {
        id: "sss",
        name: "Kandji lookup",
        corePlatformId: "cp",
        deviceRoleIds: [],
        identityAttribute: opts.identityAttribute ?? "/attestation/serialNumber",
        revokeOnFailure: opts.revokeOnFailure ?? false,
      },
    ],
  } as unknown as EnrollmentConfig;
}

const request = (over: Partial<EnrollmentRequest> = {}): EnrollmentRequest => ({
  platform: { id: "dmp", name: "Kandji ACME", vendor: "kandji" },
  keyAttestationPlatformId: KAP,
  attestation: { serialNumber: "C02ABC1234", udid: "00008120-001A2C3E0C7B401E" },
  csr: { subject: { commonname: "C02ABC1234" }, san: {} },
  account: { id: "acct", contact: [] },
  ...over,
});

// "error" is a definite failure (HTTP 401: the token is wrong); "outage" an MDM that did not answer (HTTP 503).
const lookup = (kind: LookupRecord["outcome"] | "outage", attributes: Record<string, unknown> = {}, groups: string[] = []): LookupRecord => ({
  corePlatform: { id: "cp", name: "Core cp" },
  identity: "C02ABC1234",
  identityAttribute: "/attestation/serialNumber",
  outcome: kind === "outage" ? "error" : kind,
  reason: kind === "found" ? "found" : kind === "notFound" ? "no device with this serial" : kind === "outage" ? "HTTP 503 after 2 retries" : "HTTP 401",
  unavailable: kind === "outage",
  refused: kind === "error",
  status: kind === "outage" ? 503 : kind === "error" ? 401 : 200,
  attempts: 1,
  timeMs: 5,
  url: "https://mdm.example/api",
  rules: [],
  attributes,
  groups,
  missingAttributes: [],
  warnings: [],
});
const KEY = JSON.stringify(["cp", "/attestation/serialNumber", "C02ABC1234"]);
const lookups = (l?: LookupRecord) => new Map(l ? [[KEY, l]] : []);

/** The step's short form: the lookup it asks for, or the decision's outcome and its effects. */
function summary(step: DecisionStep) {
  if ("lookup" in step) return { lookup: step.lookup.key };
  const d = step.decision;
  return {
    allowed: d.allowed,
    ...(d.allowed ? { policy: d.policy.id, caId: d.caId, templateId: d.templateId } : { code: d.code }),
    events: step.effects.events.map((e) => e.type),
    revoke: step.effects.revokeOnFailure?.deviceSerial ?? null,
  };
}

const cases: [string, { config: EnrollmentConfig; request?: EnrollmentRequest; lookup?: LookupRecord }, ReturnType<typeof summary>][] = [
  [
    "not attested: no policy",
    { config: config([policy()]), request: request({ keyAttestationPlatformId: null }) },
    { allowed: false, code: "noPolicy", events: [], revoke: null },
  ],
  [
    "no policy for this Key Attestation Platform",
    { config: config([policy({ kap: "other" })]) },
    { allowed: false, code: "noPolicy", events: [], revoke: null },
  ],
  ["a lookup not made yet is asked for", { config: config([policy()]) }, { lookup: KEY }],
  [
    "device found, no conditions: allowed",
    { config: config([policy()]), lookup: lookup("found", { email: "ada@example.com" }) },
    { allowed: true, policy: "p1", caId: "ca", templateId: "tpl", events: [], revoke: null },
  ],
  [
    "device not found: denied",
    { config: config([policy()]), lookup: lookup("notFound") },
    { allowed: false, code: "deviceNotFound", events: [], revoke: null },
  ],
  [
    "device not found with Revoke On Failure: its certificates go",
    { config: config([policy()], { revokeOnFailure: true }), lookup: lookup("notFound") },
    { allowed: false, code: "deviceNotFound", events: [], revoke: "C02ABC1234" },
  ],
  [
    "the MDM is down: come back later, with a Device Lookup Failed event, never revoked",
    { config: config([policy()], { revokeOnFailure: true }), lookup: lookup("outage") },
    { allowed: false, code: "mdmUnavailable", events: ["Device Lookup Failed"], revoke: null },
  ],
  [
    "lookup refused (configuration): denied, with a Device Lookup Failed event, never revoked",
    { config: config([policy()], { revokeOnFailure: true }), lookup: lookup("error") },
    { allowed: false, code: "lookupFailed", events: ["Device Lookup Failed"], revoke: null },
  ],
  [
    "conditions not met",
    { config: config([policy({ conditions: [{ kind: "group", operator: "equals", value: "Kiosks" }] })]), lookup: lookup("found", {}, ["Laptops"]) },
    { allowed: false, code: "conditionsNotMet", events: [], revoke: null },
  ],
  [
    "attested posture not met: denied before any lookup",
    {
      config: config([policy({ posture: [{ check: "macosVersionAtLeast", value: "14.0" }] })]),
      request: request({ attestation: { serialNumber: "C02ABC1234", osVersion: "13.6", sipStatus: 0 } }),
    },
    { allowed: false, code: "postureNotMet", events: [], revoke: null },
  ],
  [
    "attested posture met: the lookup comes next",
    {
      config: config([policy({ posture: [{ check: "macosVersionAtLeast", value: "14.0" }] })]),
      request: request({ attestation: { serialNumber: "C02ABC1234", osVersion: "14.10", sipStatus: 0 } }),
    },
    { lookup: KEY },
  ],
  [
    "conditions met",
    { config: config([policy({ conditions: [{ kind: "group", operator: "equals", value: "Kiosks" }] })]), lookup: lookup("found", {}, ["Kiosks"]) },
    { allowed: true, policy: "p1", caId: "ca", templateId: "tpl", events: [], revoke: null },
  ],
  [
    "policy without a Role: misconfigured",
    { config: config([policy({ workflow: false })]) },
    { allowed: false, code: "misconfigured", events: [], revoke: null },
  ],
  [
    "policy without a template: misconfigured",
    { config: config([policy({ templateId: null })]) },
    { allowed: false, code: "misconfigured", events: [], revoke: null },
  ],
  ["expired CA: misconfigured", { config: config([policy()], { caExpired: true }) }, { allowed: false, code: "misconfigured", events: [], revoke: null }],
  [
    "no identity to look up with",
    { config: config([policy()], { identityAttribute: "/csr/san/rfc822name" }) },
    { allowed: false, code: "lookupFailed", events: [], revoke: null },
  ],
  [
    "a misconfigured policy is passed over for the next",
    { config: config([policy({ id: "p0", priority: 1, caId: null }), policy()]), lookup: lookup("found") },
    { allowed: true, policy: "p1", caId: "ca", templateId: "tpl", events: [], revoke: null },
  ],
  [
    "a failed lookup stops the decision: the next policy is not tried",
    { config: config([policy({ id: "p0", priority: 1 }), policy()]), lookup: lookup("error") },
    { allowed: false, code: "lookupFailed", events: ["Device Lookup Failed"], revoke: null },
  ],
];

describe("decideWith (the pure enrollment decision)", () => {
  it.each(cases)("%s", (_name, input, expected) => {
    const step = decideWith({ request: input.request ?? request(), config: input.config, lookups: lookups(input.lookup), now });
    expect(summary(step)).toEqual(expected);
    // Pure: the same inputs, the same answer.
    expect(decideWith({ request: input.request ?? request(), config: input.config, lookups: lookups(input.lookup), now })).toEqual(step);
  });

  it("makes one lookup for two policies that need the same one, and says the second reused it", () => {
    const step = decideWith({
      request: request(),
      config: config([policy({ id: "p0", priority: 1, conditions: [{ kind: "group", operator: "equals", value: "Kiosks" }] }), policy()]),
      lookups: lookups(lookup("found")),
      now,
    });
    expect(summary(step)).toMatchObject({ allowed: true, policy: "p1" });
    if ("decision" in step) {
      const candidates = step.decision.inputs.candidates as { policy: { id: string }; result: string; lookupReused?: boolean }[];
      expect(candidates.map((c) => [c.policy.id, c.result, c.lookupReused ?? false])).toEqual([
        ["p0", "conditionsNotMet", false],
        ["p1", "selected", true],
      ]);
    }
  });

  it("asks to raise the Core Platform's alert on a refusal, to clear it on an answer, and nothing otherwise", () => {
    const alerted = (since: Date | null) => {
      const p = policy();
      (p.policyWorkflow!.corePlatform as Record<string, unknown>).alertSince = since;
      return config([p]);
    };
    const answers = (since: Date | null, l: LookupRecord) => {
      const step = decideWith({ request: request(), config: alerted(since), lookups: lookups(l), now });
      return "decision" in step ? step.effects.platformAnswers.map((a) => [a.corePlatform.id, a.answer.refused ? "raise" : "clear"]) : null;
    };
    expect(answers(null, lookup("error"))).toEqual([["cp", "raise"]]);
    expect(answers(now, lookup("error"))).toEqual([]); // raised already
    expect(answers(now, lookup("found"))).toEqual([["cp", "clear"]]);
    expect(answers(now, lookup("notFound"))).toEqual([["cp", "clear"]]); // a definite answer: the credentials work
    expect(answers(now, lookup("outage"))).toEqual([]); // no answer: nothing known about the credentials
    expect(answers(null, lookup("found"))).toEqual([]); // the hot path: nothing to write
    expect(answers(null, lookup("outage"))).toEqual([]);
  });

  it("keeps the decision's inputs for the auditor: the time it was decided and the candidates", () => {
    const step = decideWith({ request: request(), config: config([policy()]), lookups: lookups(lookup("notFound")), now });
    expect("decision" in step && step.decision.inputs).toMatchObject({
      engine: "enrollment-policies",
      decidedAt: now.toISOString(),
      deviceSerial: "C02ABC1234",
      attestationPlatform: { id: KAP, name: "Apple" },
    });
  });

  it("says which attested fact failed which rule, and a device failing one Device Role's posture may match the next", () => {
    const step = decideWith({
      request: request({ attestation: { serialNumber: "C02ABC1234", osVersion: "13.6", sipStatus: 0 } }),
      config: config([policy({ id: "p0", priority: 1, posture: [{ check: "macosVersionAtLeast", value: "14.0" }] }), policy()]),
      lookups: lookups(lookup("found")),
      now,
    });
    expect(summary(step)).toMatchObject({ allowed: true, policy: "p1" });
    const candidates = ("decision" in step ? step.decision.inputs.candidates : []) as { result: string; reason: string; posture?: unknown[] }[];
    expect(candidates[0]).toMatchObject({
      result: "postureNotMet",
      reason: 'attested macOS 13.6 is below the required 14.0 (Device Role "Role p0", Enrollment Policy "Policy p0")',
      posture: [{ condition: "macOS version at least 14.0", passed: false, actual: "13.6" }],
    });
  });
});
