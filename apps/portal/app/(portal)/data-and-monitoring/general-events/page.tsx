import Link from "next/link";
import { EventType, listEvents, eventsQuerySchema } from "@attested/events";
import { LifecycleEventType } from "@attested/lifecycle";
import { DENIAL_REASONS } from "@attested/policy";
import { Badge, EmptyState, PageHeader, formatTime, outcomeColor, KeysetPager } from "@/components/ui";
import { getDb } from "@/lib/db";
import { requireReader } from "@/lib/session";

export const metadata = { title: "General Events" };

type Search = Record<string, string | string[] | undefined>;

const ACTOR_TYPES = [
  ["user", "User"],
  ["api-token", "API token"],
  ["device", "Device"],
  ["system", "System job"],
  ["anonymous", "Anonymous"],
] as const;
const OBJECT_TYPES = [
  ["certificate", "Certificate"],
  ["certificate-authority", "Certificate Authority"],
  ["certificate-template", "Certificate Template"],
  ["device-management-platform", "Device Management Platform"],
  ["core-platform", "Core Platform"],
  ["key-attestation-platform", "Key Attestation Platform"],
  ["security-signal-source", "Security Signal Source"],
  ["policy-workflow", "Policy Workflow"],
  ["device-role", "Device Role"],
  ["enrollment-policy", "Enrollment Policy"],
  ["user", "User"],
  ["api-token", "API Token"],
  ["settings", "Settings"],
  ["organization", "Organization"],
  ["mail", "Mail"],
  ["job", "Background job"],
  ["events", "Events"],
] as const;
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v) || undefined;

export default async function GeneralEventsPage({ searchParams }: { searchParams: Promise<Search> }) {
  await requireReader();
  const sp = await searchParams;
  const raw = {
    type: one(sp.type),
    outcome: one(sp.outcome),
    actor: one(sp.actor),
    actorType: one(sp.actorType),
    objectType: one(sp.objectType),
    object: one(sp.object),
    deviceSerial: one(sp.deviceSerial),
    certificateSerial: one(sp.certificateSerial),
    from: one(sp.from),
    to: one(sp.to),
    q: one(sp.q),
    reason: one(sp.reason),
    cursor: one(sp.cursor),
    limit: 50,
  };
  // The CSV export takes the same filters as the page (not its page position).
  const exportQuery = new URLSearchParams(Object.entries(raw).filter(([k, v]) => v && k !== "cursor" && k !== "limit") as [string, string][]).toString();
  const parsed = eventsQuerySchema.safeParse(raw);
  const query = parsed.success ? parsed.data : { limit: 50 };
  const page = await listEvents(await getDb(), query);
  const types = [...new Set([...Object.values(EventType), ...Object.values(LifecycleEventType)])].sort();

  // Filters set by links (a device's page, the Overview) rather than by the form: shown, each removable.
  const linked = (
    [
      ["deviceSerial", "Device", raw.deviceSerial, raw.deviceSerial],
      ["certificateSerial", "Certificate", raw.certificateSerial, raw.certificateSerial],
      ["reason", "Denial reason", raw.reason, raw.reason && (DENIAL_REASONS[raw.reason] ?? raw.reason)],
    ] as [string, string, string | undefined, string | undefined][]
  ).filter((f): f is [string, string, string, string] => Boolean(f[2]));
  const without = (key: string) =>
    `?${new URLSearchParams(Object.entries(raw).filter(([k, v]) => v && k !== key && k !== "cursor" && k !== "limit") as [string, string][])}`;
  const pager = (className: string) => <KeysetPager filters={raw} cursor={raw.cursor} nextCursor={page.nextCursor} className={className} />;

  return (
    <div data-wide>
      <PageHeader
        title="General Events"
        crumbs={[{ label: "Data and Monitoring" }, { label: "General Events" }]}
        description="Everything that happened: sign-ins, configuration changes, attestations, issuance and revocation. Newest first; times in UTC."
      />
      <form method="get" className="card mb-4 grid grid-cols-1 gap-3 p-4 md:grid-cols-4 xl:grid-cols-12" aria-label="Filter events">
        <div className="md:col-span-2 xl:col-span-4">
          <label htmlFor="q">Search</label>
          <input className="input" id="q" name="q" defaultValue={raw.q} placeholder="Certificate serial, device serial, actor, object name…" />
        </div>
        <div className="md:col-span-2 xl:col-span-4">
          <label htmlFor="type">Type</label>
          <select className="input" id="type" name="type" defaultValue={raw.type ?? ""}>
            <option value="">All types</option>
            {types.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </div>
        <div className="xl:col-span-2">
          <label htmlFor="outcome">Outcome</label>
          <select className="input" id="outcome" name="outcome" defaultValue={raw.outcome ?? ""}>
            <option value="">Any</option>
            <option value="success">Success</option>
            <option value="failure">Failure</option>
            <option value="denied">Denied</option>
          </select>
        </div>
        <div className="xl:col-span-2">
          <label htmlFor="actorType">Actor type</label>
          <select className="input" id="actorType" name="actorType" defaultValue={raw.actorType ?? ""}>
            <option value="">Any</option>
            {ACTOR_TYPES.map(([v, l]) => (
              <option key={v} value={v}>
                {l}
              </option>
            ))}
          </select>
        </div>
        <div className="xl:col-span-3">
          <label htmlFor="from">From (UTC)</label>
          <input className="input" id="from" name="from" type="datetime-local" step="1" defaultValue={raw.from} />
        </div>
        <div className="xl:col-span-3">
          <label htmlFor="to">To (UTC)</label>
          <input className="input" id="to" name="to" type="datetime-local" step="1" defaultValue={raw.to} />
        </div>
        <div className="md:col-span-2 xl:col-span-3">
          <label htmlFor="objectType">Object type</label>
          <select className="input" id="objectType" name="objectType" defaultValue={raw.objectType ?? ""}>
            <option value="">Any</option>
            {OBJECT_TYPES.map(([v, l]) => (
              <option key={v} value={v}>
                {l}
              </option>
            ))}
          </select>
        </div>
        <div className="md:col-span-2 xl:col-span-3">
          <label htmlFor="object">Object</label>
          <input className="input" id="object" name="object" defaultValue={raw.object} placeholder="Its id, or its exact name" />
        </div>
        <div className="md:col-span-2 xl:col-span-4">
          <label htmlFor="actor">Actor</label>
          <input
            className="input"
            id="actor"
            name="actor"
            defaultValue={raw.actor}
            placeholder="Exact: an email, a device serial, a job (e.g. revoke-on-failure)"
          />
        </div>
        {linked.map(([key, , value]) => (
          <input key={key} type="hidden" name={key} value={value} />
        ))}
        <div className="flex flex-wrap items-end gap-2 md:col-span-4 xl:col-span-8">
          <button className="btn-primary" type="submit">
            Apply
          </button>
          <Link className="btn-secondary" href="?">
            Clear
          </Link>
          <a
            className="btn-secondary"
            href={`/data-and-monitoring/general-events/export${exportQuery ? `?${exportQuery}` : ""}`}
            download
            data-testid="export-csv"
          >
            Export CSV
          </a>
          {linked.map(([key, label, , value]) => (
            <span key={key} className="inline-flex items-center gap-1 rounded-md bg-indigo-50 px-2 py-1 text-xs text-indigo-800" data-testid="linked-filter">
              {label}: <span className="font-mono">{value}</span>
              <Link className="ml-1 font-semibold hover:text-indigo-950" href={without(key)} aria-label={`Remove the ${label} filter`}>
                ×
              </Link>
            </span>
          ))}
          {!parsed.success && (
            <span role="alert" className="text-sm text-red-600">
              {parsed.error.issues[0].message}
            </span>
          )}
        </div>
      </form>

      {page.events.length === 0 ? (
        <EmptyState title="No events match">Try a wider time range or clear the filters.</EmptyState>
      ) : (
        <div className="card">
          {/* Paging at the top too, so it is in view without scrolling past 50 rows. */}
          <div className="border-b border-slate-100 px-4 py-2 text-sm text-slate-600">
            <div className="flex items-center justify-between gap-4">
              <span>
                {page.events.length} event{page.events.length === 1 ? "" : "s"}
                {raw.cursor ? ", older page" : ", newest first"}
              </span>
              <div className="min-w-48">{pager("")}</div>
            </div>
          </div>
          {/* Fixed columns and one line per event: the summary is cut here and whole on the event's page. */}
          <table className="table w-full table-fixed [&_td]:px-3 [&_th]:px-3" data-testid="events-table">
            <colgroup>
              <col className="w-40" />
              <col className="w-44 2xl:w-56" />
              <col className="w-22" />
              <col className="w-36 2xl:w-48" />
              <col />
              <col className="w-28 2xl:w-36" />
              <col className="w-28 2xl:w-44" />
            </colgroup>
            <thead className="sticky top-14 z-10">
              <tr>
                <th>Time (UTC)</th>
                <th>Type</th>
                <th>Outcome</th>
                <th>Actor</th>
                <th>Summary</th>
                <th>Device</th>
                <th>Certificate</th>
              </tr>
            </thead>
            <tbody>
              {page.events.map((e) => (
                <tr key={e.id}>
                  <td className="truncate text-xs tabular-nums" title={formatTime(e.time)}>
                    {formatTime(e.time).replace(" UTC", "")}
                  </td>
                  <td className="truncate" title={e.type}>
                    <Link className="link" href={`/data-and-monitoring/general-events/${e.id}`}>
                      {e.type}
                    </Link>
                  </td>
                  <td>
                    <Badge color={outcomeColor(e.outcome)}>{e.outcome}</Badge>
                  </td>
                  <td className="truncate" title={e.actorName ?? e.actorType}>
                    {e.actorName ?? e.actorType}
                  </td>
                  <td className="truncate" title={e.summary} data-testid="event-summary">
                    {e.summary}
                  </td>
                  <td className="truncate font-mono text-xs" title={e.deviceSerial ?? undefined}>
                    {e.deviceSerial && (
                      <Link className="link" href={`/data-and-monitoring/devices/${encodeURIComponent(e.deviceSerial)}`}>
                        {e.deviceSerial}
                      </Link>
                    )}
                  </td>
                  <td className="truncate font-mono text-xs" title={e.certificateSerial ?? undefined}>
                    {e.certificateSerial && (
                      <Link className="link" href={`/dynamic-pki/certificates?q=${encodeURIComponent(e.certificateSerial)}`}>
                        {e.certificateSerial}
                      </Link>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {(raw.cursor || page.nextCursor) && <div className="border-t border-slate-100 px-4 py-2">{pager("")}</div>}
        </div>
      )}
    </div>
  );
}
