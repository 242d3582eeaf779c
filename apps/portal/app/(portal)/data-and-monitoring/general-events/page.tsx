import Link from "next/link";
import { EventType, listEvents, eventsQuerySchema } from "@attested/events";
import { LifecycleEventType } from "@attested/lifecycle";
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
    cursor: one(sp.cursor),
    limit: 50,
  };
  // The CSV export takes the same filters as the page (not its page position).
  const exportQuery = new URLSearchParams(Object.entries(raw).filter(([k, v]) => v && k !== "cursor" && k !== "limit") as [string, string][]).toString();
  const parsed = eventsQuerySchema.safeParse(raw);
  const query = parsed.success ? parsed.data : { limit: 50 };
  const page = await listEvents(await getDb(), query);
  const types = [...new Set([...Object.values(EventType), ...Object.values(LifecycleEventType)])].sort();

  return (
    <>
      <PageHeader
        title="General Events"
        crumbs={[{ label: "Data and Monitoring" }, { label: "General Events" }]}
        description="Everything that happened: sign-ins, configuration changes, attestations, issuance and revocation. Newest first."
      />
      <form method="get" className="card mb-4 grid grid-cols-1 gap-3 p-4 md:grid-cols-6" aria-label="Filter events">
        <div className="md:col-span-2">
          <label htmlFor="q">Search</label>
          <input className="input" id="q" name="q" defaultValue={raw.q} placeholder="Certificate serial, device serial, actor, object name…" />
        </div>
        <div>
          <label htmlFor="type">Type</label>
          <select className="input" id="type" name="type" defaultValue={raw.type ?? ""}>
            <option value="">All types</option>
            {types.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="outcome">Outcome</label>
          <select className="input" id="outcome" name="outcome" defaultValue={raw.outcome ?? ""}>
            <option value="">Any</option>
            <option value="success">Success</option>
            <option value="failure">Failure</option>
            <option value="denied">Denied</option>
          </select>
        </div>
        <div>
          <label htmlFor="from">From</label>
          <input className="input" id="from" name="from" type="datetime-local" defaultValue={raw.from} />
        </div>
        <div>
          <label htmlFor="to">To</label>
          <input className="input" id="to" name="to" type="datetime-local" defaultValue={raw.to} />
        </div>
        <div className="md:col-span-2">
          <label htmlFor="actor">Actor</label>
          <input
            className="input"
            id="actor"
            name="actor"
            defaultValue={raw.actor}
            placeholder="Exact: an email, a device serial, a job (e.g. revoke-on-failure)"
          />
        </div>
        <div>
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
        <div>
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
        <div className="md:col-span-2">
          <label htmlFor="object">Object</label>
          <input className="input" id="object" name="object" defaultValue={raw.object} placeholder="Its id, or its exact name" />
        </div>
        {raw.deviceSerial && <input type="hidden" name="deviceSerial" value={raw.deviceSerial} />}
        {raw.certificateSerial && <input type="hidden" name="certificateSerial" value={raw.certificateSerial} />}
        <div className="flex flex-wrap items-end gap-2 md:col-span-6">
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
        <div className="card overflow-x-auto">
          <table className="table" data-testid="events-table">
            <thead>
              <tr>
                <th>Time</th>
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
                  <td className="whitespace-nowrap font-mono text-xs">{formatTime(e.time)}</td>
                  <td className="whitespace-nowrap">
                    <Link className="link" href={`/data-and-monitoring/general-events/${e.id}`}>
                      {e.type}
                    </Link>
                  </td>
                  <td>
                    <Badge color={outcomeColor(e.outcome)}>{e.outcome}</Badge>
                  </td>
                  <td className="whitespace-nowrap">{e.actorName ?? e.actorType}</td>
                  <td>{e.summary}</td>
                  <td className="font-mono text-xs">
                    {e.deviceSerial ? (
                      <Link className="link" href={`/data-and-monitoring/devices/${encodeURIComponent(e.deviceSerial)}`}>
                        {e.deviceSerial}
                      </Link>
                    ) : (
                      ""
                    )}
                  </td>
                  <td className="font-mono text-xs">{e.certificateSerial ? `${e.certificateSerial.slice(0, 16)}…` : ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <KeysetPager filters={raw} cursor={raw.cursor} nextCursor={page.nextCursor} />
    </>
  );
}
