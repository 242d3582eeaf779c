import Link from "next/link";
import { notFound } from "next/navigation";
import { getEvent } from "@attested/events";
import { AttestationCard, CertificateValuesCard, cardStatesReason, DecisionCard, RadiusCard } from "@/components/decision";
import { Badge, Card, DefinitionList, PageHeader, formatTime, outcomeColor } from "@/components/ui";
import { getDb } from "@/lib/db";
import { requireReader } from "@/lib/session";

// Objects an event can name that have a page of their own.
const OBJECT_PAGES: Record<string, string> = {
  certificate: "/dynamic-pki/certificates/",
  "certificate-authority": "/dynamic-pki/certificate-authorities/",
  "certificate-template": "/dynamic-pki/certificate-templates/",
  "device-management-platform": "/integration-hub/device-management-platforms/",
  "core-platform": "/integration-hub/core-platforms/",
  "key-attestation-platform": "/integration-hub/key-attestation-platforms/",
  "security-signal-source": "/policy-management/security-signal-sources/",
  "policy-workflow": "/policy-management/policy-workflows/",
  "device-role": "/policy-management/device-role/",
  "enrollment-policy": "/policy-management/enrollment/",
};

export default async function EventDetailPage({ params }: { params: Promise<{ id: string }> }) {
  await requireReader();
  const { id } = await params;
  const e = await getEvent(await getDb(), id);
  if (!e) notFound();
  const details = (e.details && typeof e.details === "object" && !Array.isArray(e.details) ? e.details : {}) as Record<string, unknown>;
  const objectPage = e.objectType && e.objectId ? OBJECT_PAGES[e.objectType] : undefined;
  const objectLabel = e.objectType ? `${e.objectType}: ${e.objectName ?? e.objectId}` : "—";
  // An enrollment or RADIUS decision states its reason in its card: the header says what happened, not why again.
  const reason = typeof details.reason === "string" ? details.reason : null;
  const description = reason && cardStatesReason(details) && e.summary.endsWith(`: ${reason}`) ? e.summary.slice(0, -reason.length - 2) : e.summary;
  return (
    <>
      <PageHeader
        title={e.type}
        crumbs={[{ label: "Data and Monitoring" }, { label: "General Events", href: "/data-and-monitoring/general-events" }, { label: `#${e.id}` }]}
        description={description}
      />
      <Card title="Event">
        <DefinitionList
          items={[
            ["Time", formatTime(e.time)],
            [
              "Outcome",
              <Badge key="o" color={outcomeColor(e.outcome)}>
                {e.outcome}
              </Badge>,
            ],
            ["Actor", `${e.actorName ?? "—"} (${e.actorType})`],
            [
              "Object",
              objectPage ? (
                <Link key="obj" className="link" href={`${objectPage}${encodeURIComponent(e.objectId!)}`}>
                  {objectLabel}
                </Link>
              ) : (
                objectLabel
              ),
            ],
            [
              "Device serial",
              e.deviceSerial ? (
                <Link key="d" className="link" href={`/data-and-monitoring/devices/${encodeURIComponent(e.deviceSerial)}`}>
                  {e.deviceSerial}
                </Link>
              ) : (
                "—"
              ),
            ],
            ["Certificate serial", e.certificateSerial ?? "—"],
          ]}
        />
      </Card>
      <DecisionCard details={details} />
      <RadiusCard details={details} />
      <AttestationCard details={details} />
      <CertificateValuesCard details={details} />
      <Card title="Details" className="mt-4">
        <details open={!("decision" in details)}>
          <summary className="cursor-pointer text-sm text-slate-600">Everything recorded with this event (JSON)</summary>
          <pre className="mt-3 overflow-x-auto rounded bg-slate-900 p-4 text-xs text-slate-100" data-testid="event-details">
            {JSON.stringify(e.details, null, 2)}
          </pre>
        </details>
      </Card>
    </>
  );
}
