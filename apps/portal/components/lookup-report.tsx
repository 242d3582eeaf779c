import { Badge } from "./ui";

// The outcome of a "Validate" / "Validate Configuration" call: what was asked, what came back, each
// Response Validation rule's result, the mapped attributes (/device/<name> in templates) and groups.

export interface LookupReportData {
  outcome: "found" | "notFound" | "error";
  reason: string;
  failedStep?: "token" | "lookup";
  status?: number;
  timeMs: number;
  attempts: number;
  url?: string;
  identity: string;
  identityFrom: string;
  corePlatform: { id: string; name: string };
  pinned: boolean;
  rules: { rule: { path: string; condition: string; expected?: string }; passed: boolean; actual: string | null; message: string }[];
  attributes: Record<string, string | string[]>;
  missingAttributes: { attribute: string; path: string; reason: string }[];
  groups: string[];
  warnings: string[];
  response?: { status: number; headers: Record<string, string>; body: string; truncated: boolean };
}

const OUTCOME = {
  found: { color: "green", label: "Device found" },
  notFound: { color: "amber", label: "Not found" },
  error: { color: "red", label: "Lookup failed" },
} as const;

export function LookupReport({ report, conditionLabels }: { report: LookupReportData; conditionLabels: Record<string, string> }) {
  const o = OUTCOME[report.outcome];
  const attributes = Object.entries(report.attributes);
  return (
    <section aria-label="Validation result" data-testid="validation-result" className="space-y-4 rounded-lg border border-slate-200 bg-slate-50 p-4 text-sm">
      <div className="flex flex-wrap items-center gap-3">
        <Badge color={o.color}>{report.failedStep === "token" ? "Token request failed" : o.label}</Badge>
        <span className="font-medium text-slate-800" data-testid="validation-reason">
          {report.reason}
        </span>
      </div>
      <dl className="grid grid-cols-[9rem_1fr] gap-x-4 gap-y-1 text-xs">
        <dt className="text-slate-500">Identity</dt>
        <dd className="font-mono">
          {report.identity} <span className="font-sans text-slate-500">({report.identityFrom})</span>
        </dd>
        <dt className="text-slate-500">Signal Source</dt>
        <dd>{report.corePlatform.name}</dd>
        {report.failedStep && (
          <>
            <dt className="text-slate-500">Failed step</dt>
            <dd data-testid="validation-step">{report.failedStep === "token" ? "OAuth 2.0 token request" : "Device lookup (the token was issued)"}</dd>
          </>
        )}
        <dt className="text-slate-500">Request</dt>
        <dd className="break-all font-mono">GET {report.url ?? "—"}</dd>
        <dt className="text-slate-500">HTTP status</dt>
        <dd data-testid="validation-status">{report.status ?? "no response"}</dd>
        <dt className="text-slate-500">Time</dt>
        <dd>
          {report.timeMs} ms{report.attempts > 1 ? ` (${report.attempts} attempts)` : ""}
        </dd>
      </dl>
      {report.warnings.map((w) => (
        <p key={w} role="alert" className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-xs text-amber-900">
          {w}
        </p>
      ))}
      {report.rules.length > 0 && (
        <table className="table bg-white" aria-label="Rule results">
          <thead>
            <tr>
              <th>Response Path</th>
              <th>Condition</th>
              <th>Expected result</th>
              <th>Actual</th>
              <th>Result</th>
            </tr>
          </thead>
          <tbody>
            {report.rules.map((r, i) => (
              <tr key={i}>
                <td className="font-mono text-xs">{r.rule.path}</td>
                <td>{conditionLabels[r.rule.condition] ?? r.rule.condition}</td>
                <td className="font-mono text-xs">{r.rule.expected ?? ""}</td>
                <td className="font-mono text-xs">{r.actual ?? "—"}</td>
                <td title={r.message}>{r.passed ? <Badge color="green">Passed</Badge> : <Badge color="red">Failed</Badge>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {(attributes.length > 0 || report.missingAttributes.length > 0) && (
        <table className="table bg-white" aria-label="Mapped attributes">
          <thead>
            <tr>
              <th>Attribute</th>
              <th>Template variable</th>
              <th>Value</th>
            </tr>
          </thead>
          <tbody>
            {attributes.map(([k, v]) => (
              <tr key={k}>
                <td>{k}</td>
                <td className="font-mono text-xs">{`\${/device/${k}}`}</td>
                <td className="font-mono text-xs">{Array.isArray(v) ? v.join(", ") : v}</td>
              </tr>
            ))}
            {report.missingAttributes.map((m) => (
              <tr key={m.attribute}>
                <td>{m.attribute}</td>
                <td className="font-mono text-xs">{`\${/device/${m.attribute}}`}</td>
                <td className="text-xs text-slate-500">
                  no value ({m.path}: {m.reason})
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {report.groups.length > 0 && (
        <p className="text-xs">
          <span className="text-slate-500">Groups: </span>
          {report.groups.map((g) => (
            <Badge key={g} color="indigo">
              {g}
            </Badge>
          ))}
        </p>
      )}
      {report.response && (
        <details className="text-xs">
          <summary className="cursor-pointer text-slate-600">
            Response (HTTP {report.response.status}
            {report.response.truncated ? ", first 16 KiB" : ""})
          </summary>
          <pre className="mt-2 max-h-72 overflow-auto rounded bg-slate-900 p-3 text-slate-100">{report.response.body}</pre>
        </details>
      )}
    </section>
  );
}
