import Link from "next/link";
import { notFound } from "next/navigation";
import { getCa, listCas, caUrls, describeKeyLocation, keyLocation, KEY_SIZES } from "@attested/ca";
import { Badge, Card, DefinitionList, PageHeader, formatTime } from "@/components/ui";
import { getMailSettings } from "@attested/lifecycle";
import { caContext } from "@/lib/ca";
import { getDb } from "@/lib/db";
import { requireReader } from "@/lib/session";
import { CaSettingsForm } from "../ca-form";
import { NotFoundError } from "@attested/errors";

export default async function CaDetailPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<{ created?: string }> }) {
  const actor = await requireReader();
  const { id } = await params;
  const ctx = await caContext();
  const ca = await getCa(ctx, id).catch((e) => (e instanceof NotFoundError ? notFound() : Promise.reject(e)));
  const stats = (await listCas(ctx)).find((c) => c.id === id)!;
  const urls = caUrls(ctx.publicUrl, ca.id);
  const created = (await searchParams).created;
  return (
    <>
      <PageHeader
        title={ca.commonName}
        crumbs={[{ label: "Dynamic PKI" }, { label: "Certificate Authorities", href: "/dynamic-pki/certificate-authorities" }, { label: ca.commonName }]}
        description={
          <>
            {ca.type === "ROOT" ? "Root CA" : "Intermediate CA"} · {ca.purpose} {ca.isDefault && <Badge color="indigo">Default Root CA</Badge>}
          </>
        }
        actions={
          <>
            <a className="btn-secondary" href={`/ca/${ca.id}/chain.pem`} download>
              Download chain (PEM)
            </a>
            <a className="btn-secondary" href={`/ca/${ca.id}.cer`} download>
              Certificate (DER)
            </a>
          </>
        }
      />
      {created && (
        <div role="status" className="mb-4 rounded-md border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-800">
          Certificate Authority created.
        </div>
      )}
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
        <Card title="Certificate">
          <DefinitionList
            items={[
              [
                "Subject",
                <span key="s" className="font-mono text-xs">
                  {ca.subjectDn}
                </span>,
              ],
              [
                "Issuer",
                stats.parentName ? (
                  <Link key="p" className="link" href={`/dynamic-pki/certificate-authorities/${ca.parentId}`}>
                    {stats.parentName}
                  </Link>
                ) : (
                  "Self-signed"
                ),
              ],
              [
                "Serial number",
                <span key="n" className="font-mono text-xs">
                  {ca.serialNumber}
                </span>,
              ],
              ["Valid from", formatTime(ca.notBefore)],
              ["Valid until", formatTime(ca.notAfter)],
              ["Key", KEY_SIZES.find((k) => k.value === ca.keyAlgorithm)?.label ?? ca.keyAlgorithm],
              ["Key location", describeKeyLocation(keyLocation(ctx, ca.keyId))],
              ["Signature Algorithm", ca.signatureAlgorithm],
              [
                "SHA-256 fingerprint",
                <span key="f" className="font-mono text-xs">
                  {ca.sha256Fingerprint}
                </span>,
              ],
            ]}
          />
        </Card>
        <Card title="Publication and usage">
          <DefinitionList
            items={[
              [
                "CRL",
                <a key="c" className="link font-mono text-xs" href={urls.crlUrl}>
                  {urls.crlUrl}
                </a>,
              ],
              [
                "OCSP",
                <span key="o" className="font-mono text-xs">
                  {urls.ocspUrl}
                </span>,
              ],
              [
                "CA certificate",
                <span key="i" className="font-mono text-xs">
                  {urls.caIssuersUrl}
                </span>,
              ],
              ["CRL number", ca.crlNumber.toString()],
              [
                "Certificates issued",
                <Link key="n" className="link" href={`/dynamic-pki/certificates?caId=${ca.id}`}>
                  {stats.issued}
                </Link>,
              ],
              ["Revoked or on hold", String(stats.revoked)],
            ]}
          />
        </Card>
      </div>
      <Card title="Notifications and Revocation" className="mt-6">
        <CaSettingsForm
          id={ca.id}
          readOnly={actor.role !== "ADMIN"}
          mailConfigured={(await getMailSettings(await getDb())).configured}
          initial={{
            expiryNotificationDays: ca.expiryNotificationDays,
            notifyOnEnrollment: ca.notifyOnEnrollment,
            revokeUnusedDays: ca.revokeUnusedDays,
            revokeSinceLastUsage: ca.revokeSinceLastUsage,
            revokeSinceIssuance: ca.revokeSinceIssuance,
            revocationReason: ca.revocationReason,
          }}
        />
      </Card>
    </>
  );
}
