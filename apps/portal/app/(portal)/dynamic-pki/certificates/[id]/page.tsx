import Link from "next/link";
import { notFound } from "next/navigation";
import { displayStatus, getCertificate, reasonLabel } from "@attested/ca";
import { listEvents } from "@attested/events";
import { Timeline } from "@/components/timeline";
import { Badge, Card, DefinitionList, PageHeader, formatTime } from "@/components/ui";
import { caContext } from "@/lib/ca";
import { requireReader } from "@/lib/session";
import { RevokeForm } from "../forms";
import { NotFoundError } from "@attested/errors";

const statusColor = { Active: "green", Revoked: "red", "On Hold": "amber", Expired: "slate" } as const;

export default async function CertificateDetailPage({ params }: { params: Promise<{ id: string }> }) {
  const actor = await requireReader();
  const { id } = await params;
  const ctx = await caContext();
  const c = await getCertificate(ctx, id).catch((e) => (e instanceof NotFoundError ? notFound() : Promise.reject(e)));
  const [ca, template, platform, policy, events, deviceEvents] = await Promise.all([
    ctx.db.certificateAuthority.findUnique({ where: { id: c.caId }, select: { id: true, commonName: true } }),
    c.templateId ? ctx.db.certificateTemplate.findUnique({ where: { id: c.templateId }, select: { id: true, name: true } }) : null,
    c.platformId ? ctx.db.deviceManagementPlatform.findUnique({ where: { id: c.platformId }, select: { id: true, name: true } }) : null,
    c.enrollmentPolicyId ? ctx.db.enrollmentPolicy.findUnique({ where: { id: c.enrollmentPolicyId }, select: { id: true, name: true } }) : null,
    listEvents(ctx.db, { objectId: c.id, limit: 100 }),
    // The device's own story (enrollments, MDM checks, its other certificates) beside this one's.
    c.deviceSerial ? listEvents(ctx.db, { deviceSerial: c.deviceSerial, limit: 30 }) : null,
  ]);
  const status = displayStatus(c);
  const sans = (c.sans as { type: string; value: string }[]) ?? [];
  return (
    <>
      <PageHeader
        title={c.subjectDn}
        crumbs={[{ label: "Dynamic PKI" }, { label: "Certificates", href: "/dynamic-pki/certificates" }, { label: `${c.serialNumber.slice(0, 12)}…` }]}
        description={<Badge color={statusColor[status]}>{status}</Badge>}
        actions={
          <a className="btn-secondary" href={`/dynamic-pki/certificates/${c.id}/pem`} download>
            Download PEM
          </a>
        }
      />
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
        <Card title="Certificate">
          <DefinitionList
            items={[
              [
                "Subject",
                <span key="s" className="font-mono text-xs">
                  {c.subjectDn}
                </span>,
              ],
              [
                "Subject Alternative Names",
                sans.length ? (
                  <ul key="sans">
                    {sans.map((s, i) => (
                      <li key={i} className="font-mono text-xs">
                        {s.type}: {s.value}
                      </li>
                    ))}
                  </ul>
                ) : (
                  "—"
                ),
              ],
              [
                "Serial number",
                <span key="n" className="font-mono text-xs">
                  {c.serialNumber}
                </span>,
              ],
              ["Valid from", formatTime(c.notBefore)],
              ["Valid until", formatTime(c.notAfter)],
              [
                "SHA-256 fingerprint",
                <span key="f" className="font-mono text-xs">
                  {c.sha256Fingerprint}
                </span>,
              ],
              ["Last seen", formatTime(c.lastSeenAt)],
              ...(c.revokedAt ? ([["Revoked", `${formatTime(c.revokedAt)} (${reasonLabel(c.revocationReason)})`]] as [string, string][]) : []),
            ]}
          />
        </Card>
        <Card title="Produced by">
          <DefinitionList
            items={[
              [
                "Certificate Authority",
                ca ? (
                  <Link key="ca" className="link" href={`/dynamic-pki/certificate-authorities/${ca.id}`}>
                    {ca.commonName}
                  </Link>
                ) : (
                  "—"
                ),
              ],
              [
                "Certificate Template",
                template ? (
                  <Link key="t" className="link" href={`/dynamic-pki/certificate-templates/${template.id}`}>
                    {template.name}
                  </Link>
                ) : (
                  "—"
                ),
              ],
              ["Device Management Platform", platform?.name ?? "—"],
              ["Enrollment Policy", policy?.name ?? "—"],
              [
                "Device serial",
                c.deviceSerial ? (
                  <Link key="d" className="link" href={`/data-and-monitoring/devices/${encodeURIComponent(c.deviceSerial)}`}>
                    {c.deviceSerial}
                  </Link>
                ) : (
                  "—"
                ),
              ],
              ["Device UDID", c.deviceUdid ?? "—"],
              ["Email", c.emailAddress ?? "—"],
            ]}
          />
        </Card>
      </div>
      {actor.role === "ADMIN" && status !== "Revoked" && status !== "Expired" && (
        <Card title="Revoke" className="mt-6">
          <RevokeForm id={c.id} onHold={c.status === "ON_HOLD"} />
        </Card>
      )}
      <div className="mt-6 grid grid-cols-1 gap-6 lg:grid-cols-2">
        <Card title="Certificate timeline">
          <Timeline events={events.events} testId="certificate-events" />
        </Card>
        {deviceEvents && (
          <Card
            title={`Device ${c.deviceSerial} timeline`}
            actions={
              <Link className="link text-xs" href={`/data-and-monitoring/devices/${encodeURIComponent(c.deviceSerial!)}`}>
                All of this device →
              </Link>
            }
          >
            <Timeline events={deviceEvents.events} testId="device-events" />
          </Card>
        )}
      </div>
    </>
  );
}
