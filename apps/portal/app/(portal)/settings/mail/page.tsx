import { getMailSettings } from "@attested/lifecycle";
import { Badge, Card, EmptyState, PageHeader, formatTime } from "@/components/ui";
import { getDb } from "@/lib/db";
import { requireReader } from "@/lib/session";
import { MailSettingsForm, TestMailForm } from "./forms";

export const metadata = { title: "Mail" };

const statusColor = { sent: "green", failed: "red", pending: "amber", sending: "indigo" } as const;
const kindLabel: Record<string, string> = { enrollment: "Enrollment notice", expiry: "Expiry reminder" };

export default async function MailSettingsPage() {
  const actor = await requireReader();
  const db = await getDb();
  const [settings, recent] = await Promise.all([getMailSettings(db), db.notification.findMany({ orderBy: { createdAt: "desc" }, take: 20 })]);
  const admin = actor.role === "ADMIN";
  return (
    <>
      <PageHeader
        title="Mail"
        crumbs={[{ label: "Settings" }, { label: "Mail" }]}
        description="The SMTP server for enrollment notices and expiry reminders (CA > Notifications). Mail goes to a certificate's RFC822 SAN when it is a valid address, else nowhere."
        actions={<Badge color={settings.configured ? "green" : "slate"}>{settings.configured ? "Mail on" : "Mail off"}</Badge>}
      />
      <Card title="SMTP server">
        {!admin && <p className="mb-4 text-sm text-slate-600">Auditors can read these settings; only admins change them.</p>}
        <MailSettingsForm settings={settings} readOnly={!admin} />
      </Card>
      {admin && (
        <Card title="Send test mail" className="mt-6">
          <TestMailForm defaultTo={actor.name?.includes("@") ? actor.name : ""} configured={settings.configured} />
        </Card>
      )}
      <Card title="Recent mail" className="mt-6">
        {recent.length === 0 ? (
          <EmptyState title="No mail yet">Enrollment notices and expiry reminders appear here once a CA sends them.</EmptyState>
        ) : (
          <div className="overflow-x-auto">
            <table className="table" data-testid="recent-mail">
              <thead>
                <tr>
                  <th>Queued</th>
                  <th>Kind</th>
                  <th>Recipient</th>
                  <th>Status</th>
                  <th>Attempts</th>
                  <th>Last error</th>
                </tr>
              </thead>
              <tbody>
                {recent.map((n) => (
                  <tr key={n.id}>
                    <td className="whitespace-nowrap font-mono text-xs">{formatTime(n.createdAt)}</td>
                    <td>{kindLabel[n.kind] ?? n.kind}</td>
                    <td>{n.recipient}</td>
                    <td>
                      <Badge color={statusColor[n.status as keyof typeof statusColor] ?? "slate"}>{n.status}</Badge>
                    </td>
                    <td>{n.attempts}</td>
                    <td className="text-xs text-slate-600">{n.lastError ?? ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </>
  );
}
