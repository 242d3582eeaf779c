import Link from "next/link";
import { Badge, Card, DefinitionList, formatTime } from "./ui";

// An enrollment's recorded reasoning, read back from an event's details for the auditor: what Apple
// attested about the device, and which Enrollment Policies were tried, what each lookup answered and why
// the device was allowed or denied. Details are stored JSON, so every field is checked before use; an
// event without them shows only its raw details.

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | null => (v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : null);
const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : null);
const named = (v: unknown): string | null => str(obj(v)?.name);

const RESULT: Record<string, { label: string; color: "green" | "red" | "amber" | "slate" }> = {
  selected: { label: "Selected", color: "green" },
  deviceNotFound: { label: "Device not found", color: "red" },
  lookupFailed: { label: "Lookup failed", color: "amber" },
  conditionsNotMet: { label: "Conditions not met", color: "red" },
  postureNotMet: { label: "Posture not met", color: "red" },
  misconfigured: { label: "Incomplete", color: "slate" },
  notTried: { label: "Not tried", color: "slate" },
};
const DENIAL: Record<string, string> = {
  noPolicy: "no Enrollment Policy applies",
  deviceNotFound: "device not found",
  lookupFailed: "lookup failed",
  conditionsNotMet: "conditions not met",
  postureNotMet: "attested posture not met",
  misconfigured: "Enrollment Policy incomplete",
};
const LOOKUP: Record<string, { label: string; color: "green" | "red" | "amber" }> = {
  found: { label: "found", color: "green" },
  notFound: { label: "not found", color: "red" },
  error: { label: "failed", color: "amber" },
};

/** The Apple attestation of the device (Certificate Issued: `attestation`; Attestation Verified: `attested`). */
export function AttestationCard({ details }: { details: Json }) {
  const a = obj(details.attestation) ?? obj(details.attested);
  if (!a) return null;
  const rows: [string, string | null][] = [
    ["Serial number", str(a.serialNumber)],
    ["UDID", str(a.udid)],
    ["OS version", str(a.osVersion)],
    ["Secure Enclave OS", str(a.sepOsVersion)],
    ["LLB version", str(a.llbVersion)],
    ["Software Update Device ID", str(a.softwareUpdateDeviceId)],
    ["Secure boot", str(a.secureBootLevel)],
    // Apple attests 0 for enabled (SIP) and for none allowed (kexts).
    ["SIP", typeof a.sipStatus === "number" ? (a.sipStatus === 0 ? "enabled" : `disabled (${a.sipStatus})`) : null],
    ["Third-party kernel extensions", typeof a.thirdPartyKexts === "number" ? (a.thirdPartyKexts === 0 ? "not allowed" : "allowed") : null],
    ["Key Attestation Platform", str(a.attestationPlatform)],
    ["Attestation leaf (SHA-256)", str(a.leafFingerprint)],
  ];
  const shown = rows.filter((r): r is [string, string] => r[1] !== null);
  if (!shown.length) return null;
  return (
    <Card title="Attested by Apple" className="mt-4">
      <div data-testid="event-attestation">
        <DefinitionList
          items={shown.map(([k, v]) => [
            k,
            <span key={k} className={k.includes("SHA") || k === "UDID" ? "font-mono text-xs" : ""}>
              {v}
            </span>,
          ])}
        />
      </div>
    </Card>
  );
}

/** The Enrollment Policy decision recorded with an issuance or a denial (`decision`). */
export function DecisionCard({ details }: { details: Json }) {
  const d = obj(details.decision);
  const verdict = obj(d?.decision);
  const candidates = Array.isArray(d?.candidates) ? d.candidates.map(obj).filter((c): c is Json => c !== null) : [];
  if (!d || !verdict) return null;
  const allowed = verdict.allowed === true;
  const decidedAt = str(d.decidedAt);
  const reason = str(verdict.reason);
  // A denial's reason is the candidates' reasons joined: said once, in the table, when there is one.
  const reasonInTable = !allowed && candidates.length > 0 && candidates.every((c) => !str(c.reason) || reason?.includes(str(c.reason)!));
  const tried = candidates.map((c) => str(obj(c.policy)?.name)).filter((n): n is string => n !== null);
  const policy = named(verdict.policy) ?? (allowed ? "—" : tried.length ? `none chosen; tried ${tried.map((t) => `"${t}"`).join(", ")}` : "none applies");
  return (
    <Card title="Enrollment decision" className="mt-4">
      <div data-testid="event-decision" className="space-y-4">
        <div className="flex flex-wrap items-center gap-3 text-sm">
          <Badge color={allowed ? "green" : "red"}>
            {allowed ? "Allowed" : `Denied${str(verdict.code) ? `: ${DENIAL[str(verdict.code)!] ?? str(verdict.code)}` : ""}`}
          </Badge>
          {reasonInTable ? (
            <span className="text-slate-800">Each Enrollment Policy tried, and why it did not issue, is below.</span>
          ) : (
            <span className="text-slate-800">{reason ?? "—"}</span>
          )}
        </div>
        <DefinitionList
          items={[
            ["Device Management Platform", named(d.platform) ?? "—"],
            ["Key Attestation Platform", named(d.attestationPlatform) ?? "—"],
            [
              "Enrollment Policy",
              <span key="p" data-testid="decision-policy">
                {policy}
              </span>,
            ],
            ["Decided at", decidedAt ? formatTime(new Date(decidedAt)) : "—"],
          ]}
        />
        {candidates.length > 0 && (
          <div className="overflow-x-auto">
            <table className="table" aria-label="Enrollment Policies considered">
              <thead>
                <tr>
                  <th>Priority</th>
                  <th>Enrollment Policy</th>
                  <th>Device Role</th>
                  <th>Signal Source</th>
                  <th>Identity</th>
                  <th>Lookup</th>
                  <th>Result</th>
                  <th>Reason</th>
                </tr>
              </thead>
              <tbody>
                {candidates.map((c, i) => {
                  const policy = obj(c.policy);
                  const identity = obj(c.identity);
                  const lookup = obj(c.lookup);
                  const outcome = LOOKUP[str(lookup?.outcome) ?? ""];
                  const result = RESULT[str(c.result) ?? ""] ?? { label: str(c.result) ?? "—", color: "slate" as const };
                  const rules = Array.isArray(lookup?.rules) ? lookup.rules.map(obj).filter((r): r is Json => r !== null) : [];
                  const failedRules = rules.filter((r) => r.passed !== true).length;
                  const posture = Array.isArray(c.posture) ? c.posture.map(obj).filter((p): p is Json => p !== null) : [];
                  return (
                    <tr key={i}>
                      <td>{str(policy?.priority) ?? "—"}</td>
                      <td>
                        {policy && str(policy.id) ? (
                          <Link className="link" href={`/policy-management/enrollment/${str(policy.id)}`}>
                            {str(policy.name)}
                          </Link>
                        ) : (
                          "—"
                        )}
                      </td>
                      <td>
                        {named(c.deviceRole) ?? "—"}
                        {named(c.role) ? <span className="block text-xs text-slate-500">Role {named(c.role)}</span> : null}
                        {posture.length > 0 && (
                          <ul className="mt-1 text-xs" aria-label="Attested posture">
                            {posture.map((p, j) => (
                              <li key={j} className={p.passed === true ? "text-slate-500" : "font-medium text-red-700"}>
                                {p.passed === true ? "✓" : "✗"} {str(p.passed === true && p.notApplicable !== true ? p.condition : p.message)}
                              </li>
                            ))}
                          </ul>
                        )}
                      </td>
                      <td>{named(c.signalSource) ?? named(c.coreProvider) ?? "—"}</td>
                      <td className="font-mono text-xs">
                        {str(identity?.value) ?? "—"}
                        {str(identity?.attribute) ? <span className="block font-sans text-slate-500">{str(identity?.attribute)}</span> : null}
                      </td>
                      <td>
                        {outcome ? <Badge color={outcome.color}>{outcome.label}</Badge> : c.lookupReused ? "same as above" : "—"}
                        {lookup && (
                          <span className="block text-xs text-slate-500">
                            {str(lookup.status) ? `HTTP ${str(lookup.status)}, ` : ""}
                            {str(lookup.timeMs) ?? "?"} ms{rules.length ? `, ${rules.length - failedRules}/${rules.length} rules passed` : ""}
                          </span>
                        )}
                      </td>
                      <td>
                        <Badge color={result.color}>{result.label}</Badge>
                      </td>
                      <td className="max-w-md text-xs text-slate-700">{str(c.reason) ?? ""}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </Card>
  );
}

const FIELD: Record<string, string> = { subject: "Subject", sanOtherName: "Other Name", sanRfc822: "RFC822", sanDns: "DNS", sanUri: "URI" };

/**
 * Where a certificate's values came from (Certificate Issued: `fromCsr`, `omitted`): those the request
 * supplied rather than Apple, the MDM or the template, and what the template names that was left out.
 */
export function CertificateValuesCard({ details }: { details: Json }) {
  const list = (v: unknown) => (Array.isArray(v) ? v.map(obj).filter((x): x is Json => x !== null) : []);
  const fromCsr = list(details.fromCsr);
  const omitted = list(details.omitted);
  if (!fromCsr.length && !omitted.length) return null;
  return (
    <Card title="Certificate values" className="mt-4">
      <div data-testid="event-values">
        <DefinitionList
          items={[
            [
              "From the device's request (CSR), not from Apple or the MDM",
              fromCsr.length
                ? fromCsr.map((v, i) => (
                    <span key={i} className="block">
                      {FIELD[str(v.field) ?? ""] ?? str(v.field)}: <span className="font-mono">{str(v.value)}</span>
                    </span>
                  ))
                : "—",
            ],
            [
              "Left out",
              omitted.length
                ? omitted.map((v, i) => (
                    <span key={i} className="block">
                      {str(v.reason)}
                    </span>
                  ))
                : "—",
            ],
          ]}
        />
      </div>
    </Card>
  );
}

/** A RADIUS Authentication answer (`decision`: accept or reject): who decided, why, and what was asked of the MDM. */
const radiusVerdict = (details: Json) => (details.decision === "accept" || details.decision === "reject" ? details.decision : null);

export function RadiusCard({ details }: { details: Json }) {
  const decision = radiusVerdict(details);
  if (!decision) return null;
  const lookup = obj(details.lookup);
  const identity = obj(details.identity);
  const outcome = LOOKUP[str(lookup?.outcome) ?? ""];
  const revoked = Array.isArray(details.revoked) ? details.revoked.map(obj).filter((r): r is Json => r !== null) : [];
  const handshake = str(details.refusedBy) !== null;
  const rows: [string, React.ReactNode][] = [
    // A handshake refusal's reason (above) already quotes the RADIUS server's own.
    ["Decided by", handshake ? "The RADIUS server, in the TLS handshake (the portal was not asked)" : "Attested PKI"],
    ["Presented", str(details.presented) === "certificate" ? "The certificate" : "Its serial number and issuer"],
    ...(str(details.subject) ? [["Subject, as presented", str(details.subject)] as [string, React.ReactNode]] : []),
    ["Security Signal Source", named(details.signalSource) ?? (handshake ? "—" : "none applies")],
  ];
  if (lookup)
    rows.push([
      "Device lookup",
      <span key="l">
        {str(identity?.value) ?? "—"} in {named(lookup.corePlatform) ?? "—"}{" "}
        {outcome ? <Badge color={outcome.color}>{outcome.label}</Badge> : str(lookup.outcome)}
        {str(lookup.reason) && <span className="block text-xs text-slate-500">{str(lookup.reason)}</span>}
      </span>,
    ]);
  if (typeof details.countedAsUse === "boolean")
    rows.push([
      "Counted as the certificate's last use",
      details.countedAsUse ? "Yes: the portal's record explains the refusal" : "No: the certificate presented was not proven to be the one issued",
    ]);
  if (revoked.length) rows.push(["Revoke On Failure", revoked.map((r) => `${str(r.serialNumber)}: ${str(r.error) ?? str(r.reason) ?? "revoked"}`).join("; ")]);
  return (
    <Card title="RADIUS decision" className="mt-4">
      <div data-testid="event-radius" className="space-y-4">
        <div className="flex flex-wrap items-center gap-3 text-sm">
          <Badge color={decision === "accept" ? "green" : "red"}>{decision === "accept" ? "Accepted" : "Rejected"}</Badge>
          <span className="text-slate-800">{str(details.reason) ?? "—"}</span>
        </div>
        <DefinitionList items={rows} />
      </div>
    </Card>
  );
}

/** Whether one of the cards above states the event's reason, so the page need not say it again. */
export const cardStatesReason = (details: Json) => obj(obj(details.decision)?.decision) !== null || radiusVerdict(details) !== null;
