import Link from "next/link";
import { notFound } from "next/navigation";
import { displayStatus } from "@attested/ca";
import { eventsQuerySchema, listEvents } from "@attested/events";
import { Timeline } from "@/components/timeline";
import { Badge, Card, EmptyState, PageHeader, formatTime } from "@/components/ui";
import { getDb } from "@/lib/db";
import { requireReader } from "@/lib/session";

const statusColor = { Active: "green", Revoked: "red", "On Hold": "amber", Expired: "slate" } as const;
const checkColor = { found: "green", notFound: "red", error: "amber" } as const;

type Search = Record<string, string | string[] | undefined>;

/** Everything about one device serial: its certificates, its Revoke On Failure checks, its events. */
export default async function DevicePage({ params, searchParams }: { params: Promise<{ serial: string }>; searchParams: Promise<Search> }) {
  await requireReader();
  const serial = decodeURIComponent((await params).serial);
  if (!serial || serial.length > 128) notFound();
  const sp = await searchParams;
  const cursor = typeof sp.cursor === "string" && /^\d+$/.test(sp.cursor) ? sp.cursor : undefined;
  const db = await getDb();
  const [certificates, checks, page] = await Promise.all([
    db.certificate.findMany({
      where: { deviceSerial: serial },
      orderBy: { issuedAt: "desc" },
      take: 50,
      include: { ca: { select: { id: true, commonName: true } } },
    }),
    db.deviceCheck.findMany({ where: { deviceSerial: serial }, orderBy: { checkedAt: "desc" } }),
    listEvents(db, eventsQuerySchema.parse({ deviceSerial: serial, cursor, limit: 50 })),
  ]);
  const sources = checks.length
    ? await db.securitySignalSource.findMany({ where: { id: { in: checks.map((c) => c.signalSourceId) } }, select: { id: true, name: true } })
    : [];
  const now = new Date();
  return (
    <>
      <PageHeader
        title={`Device ${serial}`}
        crumbs={[{ label: "Data and Monitoring" }, { label: "General Events", href: "/data-and-monitoring/general-events" }, { label: serial }]}
        description="The device's certificates, its checks against the MDM after issuance (Revoke On Failure), and everything the trail recorded about it."
        actions={
          <Link className="btn-secondary" href={`/data-and-monitoring/general-events?deviceSerial=${encodeURIComponent(serial)}`}>
            Open in General Events
          </Link>
        }
      />
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-3">
        <div className="space-y-6 lg:col-span-1">
          <Card title="Certificates">
            {certificates.length === 0 ? (
              <p className="text-sm text-slate-500">No certificate was issued to this serial.</p>
            ) : (
              <ul className="space-y-3 text-sm" data-testid="device-certificates">
                {certificates.map((c) => {
                  const status = displayStatus(c, now);
                  return (
                    <li key={c.id}>
                      <Link className="link font-mono text-xs" href={`/dynamic-pki/certificates/${c.id}`}>
                        {c.serialNumber.slice(0, 20)}…
                      </Link>{" "}
                      <Badge color={statusColor[status]}>{status}</Badge>
                      <p className="text-xs text-slate-500">
                        {c.ca.commonName} · until {formatTime(c.notAfter)} · last seen {formatTime(c.lastSeenAt)}
                      </p>
                    </li>
                  );
                })}
              </ul>
            )}
          </Card>
          <Card title="MDM checks">
            {checks.length === 0 ? (
              <p className="text-sm text-slate-500">Not checked since issuance (no Security Signal Source with Revoke On Failure covers it yet).</p>
            ) : (
              <ul className="space-y-2 text-sm">
                {checks.map((c) => (
                  <li key={c.signalSourceId}>
                    <span className="font-medium">{sources.find((s) => s.id === c.signalSourceId)?.name ?? "Removed source"}</span>{" "}
                    <Badge color={checkColor[c.outcome as keyof typeof checkColor] ?? "slate"}>{c.outcome}</Badge>
                    <p className="text-xs text-slate-500">
                      {formatTime(c.checkedAt)}: {c.reason}
                    </p>
                  </li>
                ))}
              </ul>
            )}
          </Card>
        </div>
        <Card title="Timeline" className="lg:col-span-2">
          {page.events.length === 0 && !cursor ? (
            <EmptyState title="No events for this device">Events name a device when it enrolls, fails a check, or one of its certificates changes.</EmptyState>
          ) : (
            <Timeline events={page.events} testId="device-timeline" />
          )}
          <div className="mt-4 flex justify-between text-sm">
            {cursor ? (
              <Link className="link" href="?">
                ← Newest
              </Link>
            ) : (
              <span />
            )}
            {page.nextCursor && (
              <Link className="link" href={`?cursor=${page.nextCursor}`}>
                Older →
              </Link>
            )}
          </div>
        </Card>
      </div>
    </>
  );
}
