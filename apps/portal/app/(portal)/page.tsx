import Link from "next/link";
import { EventType, eventsOverview } from "@attested/events";
import { DENIAL_REASONS, gettingStarted } from "@attested/policy";
import { Card, PageHeader, formatTime } from "@/components/ui";
import { getDb } from "@/lib/db";
import { requireReader } from "@/lib/session";

export const metadata = { title: "Overview" };

const EVENTS = "/data-and-monitoring/general-events";

/** The landing: the guide's steps while an admin has some left, and the last 24 hours at a glance. */
export default async function OverviewPage() {
  const actor = await requireReader();
  const db = await getDb();
  const since = new Date(Date.now() - 24 * 3600_000);
  const [overview, steps, refused] = await Promise.all([
    eventsOverview(db, since),
    actor.role === "ADMIN" ? gettingStarted(db) : null,
    // Core Platforms whose MDM refuses their credentials: nothing enrolls through them until fixed.
    db.corePlatform.findMany({
      where: { alertSince: { not: null } },
      select: { id: true, name: true, alertSince: true, alertReason: true },
      orderBy: { name: "asc" },
    }),
  ]);
  // General Events reads a time without a zone as UTC, to the second.
  const from = since.toISOString().slice(0, 19);
  const eventsHref = (type: string, more: Record<string, string> = {}) => `${EVENTS}?${new URLSearchParams({ type, ...more, from })}`;
  const deniedTotal = overview.denied.reduce((n, d) => n + d.count, 0);
  const remaining = steps?.filter((s) => !s.done).length ?? 0;

  return (
    <>
      <PageHeader title="Overview" description="What happened in the last 24 hours, each count a link to its events." />
      {refused.length > 0 && (
        <div role="alert" data-testid="overview-alerts" className="mb-6 rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800">
          <p className="font-medium">Devices cannot enroll through these Core Platforms: the MDM refuses their credentials.</p>
          <ul className="mt-1 list-disc pl-5">
            {refused.map((cp) => (
              <li key={cp.id}>
                <Link className="link" href={`/integration-hub/core-platforms/${cp.id}`}>
                  {cp.name}
                </Link>
                : {cp.alertReason} (since {formatTime(cp.alertSince)})
              </li>
            ))}
          </ul>
        </div>
      )}
      {steps && remaining > 0 && (
        <Card title={`Getting started: ${steps.length - remaining} of ${steps.length} done`} className="mb-6">
          <p className="mb-4 text-sm text-slate-600">The admin guide's steps, in its order. Each is ticked once the portal holds what it makes.</p>
          <ol className="grid grid-cols-1 gap-2 lg:grid-cols-2" data-testid="getting-started">
            {steps.map((s, i) => (
              <li key={s.id} data-step={s.id} data-done={s.done} className="flex items-start gap-3 rounded-md border border-slate-200 px-3 py-2">
                <span
                  aria-hidden="true"
                  className={`mt-0.5 grid h-6 w-6 shrink-0 place-items-center rounded-full text-xs font-semibold ${s.done ? "bg-emerald-600 text-white" : "bg-slate-200 text-slate-700"}`}
                >
                  {s.done ? "✓" : i + 1}
                </span>
                <div className="min-w-0">
                  <Link className="link font-medium" href={s.href}>
                    {s.label}
                  </Link>
                  <span className={`ml-2 whitespace-nowrap text-xs font-medium ${s.done ? "text-emerald-700" : "text-slate-600"}`}>
                    {s.done ? "Done" : "To do"}
                  </span>
                  <p className="text-xs text-slate-600">{s.hint}</p>
                </div>
              </li>
            ))}
          </ol>
        </Card>
      )}
      <section aria-labelledby="last-24h">
        <h2 id="last-24h" className="mb-3 text-sm font-semibold text-slate-800">
          Last 24 hours
        </h2>
        <div className="grid grid-cols-1 gap-4 md:grid-cols-2 xl:grid-cols-4" data-testid="last-24h">
          <Stat label="Certificates issued" count={overview.issued} href={eventsHref(EventType.CertificateIssued)} />
          <div className="card p-5">
            <Stat label="Enrollments denied" count={deniedTotal} href={eventsHref(EventType.EnrollmentDenied)} bare />
            {overview.denied.length > 0 && (
              <ul className="mt-3 space-y-1 text-sm" aria-label="Denied by reason">
                {overview.denied.map((d) => (
                  <li key={d.code} className="flex justify-between gap-2">
                    <Link className="link truncate" href={eventsHref(EventType.EnrollmentDenied, { reason: d.code })}>
                      {DENIAL_REASONS[d.code] ?? d.code}
                    </Link>
                    <span className="font-mono text-slate-700">{d.count}</span>
                  </li>
                ))}
              </ul>
            )}
          </div>
          <Stat label="Certificates revoked" count={overview.revoked} href={eventsHref(EventType.CertificateRevoked)} />
          <Stat label="Attestation failures" count={overview.attestationFailed} href={eventsHref(EventType.AttestationFailed)} />
        </div>
        <p className="mt-4 text-sm">
          <Link className="link" href={EVENTS}>
            All General Events →
          </Link>
        </p>
      </section>
    </>
  );
}

function Stat({ label, count, href, bare = false }: { label: string; count: number; href: string; bare?: boolean }) {
  const body = (
    <Link href={href} className="group block">
      <span className="block text-sm font-medium text-slate-600 group-hover:text-indigo-700">
        {label}
        <span className="sr-only">: </span>
      </span>
      <span className="mt-1 block text-3xl font-semibold text-slate-900 group-hover:text-indigo-700">{count}</span>
    </Link>
  );
  return bare ? body : <div className="card p-5">{body}</div>;
}
