import { getEventRetention } from "@attested/lifecycle";
import { Card, DefinitionList, PageHeader, formatTime } from "@/components/ui";
import { getDb } from "@/lib/db";
import { requireReader } from "@/lib/session";
import { RetentionForm } from "./forms";

export const metadata = { title: "Events" };

export default async function EventSettingsPage() {
  const actor = await requireReader();
  const db = await getDb();
  const [days, oldest, lastPurge] = await Promise.all([
    getEventRetention(db),
    db.event.findFirst({ orderBy: { id: "asc" }, select: { time: true } }),
    db.event.findFirst({ where: { type: "Events Purged" }, orderBy: { id: "desc" }, select: { time: true, summary: true } }),
  ]);
  return (
    <>
      <PageHeader
        title="Events"
        crumbs={[{ label: "Settings" }, { label: "Events" }]}
        description="How long General Events keeps the audit trail. A daily job deletes older events and records that it did."
      />
      <Card title="Retention">
        {actor.role !== "ADMIN" && <p className="mb-4 text-sm text-slate-600">Auditors can read this setting; only admins change it.</p>}
        <RetentionForm days={days} readOnly={actor.role !== "ADMIN"} />
      </Card>
      <Card title="Trail" className="mt-6">
        <DefinitionList
          items={[
            ["Kept", days ? `${days} days` : "Forever"],
            ["Oldest event", formatTime(oldest?.time)],
            ["Last purge", lastPurge ? `${formatTime(lastPurge.time)}: ${lastPurge.summary}` : "—"],
          ]}
        />
      </Card>
    </>
  );
}
