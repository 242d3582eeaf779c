import { notFound } from "next/navigation";
import { getEvent } from "@attested/events";
import { Badge, Card, DefinitionList, PageHeader, formatTime, outcomeColor } from "@/components/ui";
import { getDb } from "@/lib/db";
import { requireReader } from "@/lib/session";

export default async function EventDetailPage({ params }: { params: Promise<{ id: string }> }) {
  await requireReader();
  const { id } = await params;
  const e = await getEvent(await getDb(), id);
  if (!e) notFound();
  return (
    <>
      <PageHeader
        title={e.type}
        crumbs={[{ label: "Data and Monitoring" }, { label: "General Events", href: "/data-and-monitoring/general-events" }, { label: `#${e.id}` }]}
        description={e.summary}
      />
      <Card title="Event">
        <DefinitionList
          items={[
            ["Time", formatTime(e.time)],
            ["Outcome", <Badge key="o" color={outcomeColor(e.outcome)}>{e.outcome}</Badge>],
            ["Actor", `${e.actorName ?? "—"} (${e.actorType})`],
            ["Object", e.objectType ? `${e.objectType}: ${e.objectName ?? e.objectId}` : "—"],
            ["Device serial", e.deviceSerial ?? "—"],
            ["Certificate serial", e.certificateSerial ?? "—"],
          ]}
        />
      </Card>
      <Card title="Details" className="mt-4">
        <pre className="overflow-x-auto rounded bg-slate-900 p-4 text-xs text-slate-100" data-testid="event-details">{JSON.stringify(e.details, null, 2)}</pre>
      </Card>
    </>
  );
}
