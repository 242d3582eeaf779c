import Link from "next/link";
import { listCas, listTemplates, KEY_SIZES } from "@attested/ca";
import { Badge, EmptyState, PageHeader, formatTime } from "@/components/ui";
import { caContext } from "@/lib/ca";
import { requireReader } from "@/lib/session";

export const metadata = { title: "Certificate Authorities" };

export default async function CertificateAuthoritiesPage() {
  const actor = await requireReader();
  const ctx = await caContext();
  const [cas, templates] = await Promise.all([listCas(ctx), listTemplates(ctx)]);
  const admin = actor.role === "ADMIN";
  return (
    <>
      <PageHeader
        title="Certificate Authorities"
        crumbs={[{ label: "Dynamic PKI" }, { label: "Certificate Authorities" }]}
        description="Your organization's CAs and the certificate templates that say how their certificates are built."
        actions={
          admin && (
            <>
              <Link className="btn-primary" href="/dynamic-pki/certificate-authorities/new">
                Add Certificate Authority
              </Link>
              <Link className="btn-secondary" href="/dynamic-pki/certificate-templates/new">
                Add Certificate Template
              </Link>
            </>
          )
        }
      />
      <div className="card mb-8 overflow-x-auto">
        <table className="table" data-testid="ca-table">
          <thead>
            <tr>
              <th>Common Name</th>
              <th>Type</th>
              <th>Issuer</th>
              <th>Key</th>
              <th>Valid until</th>
              <th>Issued</th>
              <th>Revoked</th>
            </tr>
          </thead>
          <tbody>
            {cas.map((ca) => (
              <tr key={ca.id}>
                <td>
                  <Link className="link font-medium" href={`/dynamic-pki/certificate-authorities/${ca.id}`}>
                    {ca.commonName}
                  </Link>
                  {ca.isDefault && (
                    <span className="ml-2">
                      <Badge color="indigo">Default Root CA</Badge>
                    </span>
                  )}
                </td>
                <td>{ca.type === "ROOT" ? "Root CA" : "Intermediate CA"}</td>
                <td>{ca.parentName ?? "Self-signed"}</td>
                <td>
                  {KEY_SIZES.find((k) => k.value === ca.keyAlgorithm)?.label ?? ca.keyAlgorithm} / {ca.signatureAlgorithm}
                </td>
                <td className="text-xs">{formatTime(ca.notAfter)}</td>
                <td>{ca.issued}</td>
                <td>{ca.revoked}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <h2 className="mb-3 text-lg font-semibold text-slate-900">Certificate Templates</h2>
      {templates.length === 0 ? (
        <EmptyState
          title="No certificate templates yet"
          action={
            admin && (
              <Link className="btn-primary" href="/dynamic-pki/certificate-templates/new">
                Add Certificate Template
              </Link>
            )
          }
        >
          A template says how the subject, SANs and key usage of issued certificates are built.
        </EmptyState>
      ) : (
        <div className="card overflow-x-auto">
          <table className="table" data-testid="template-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Subject</th>
                <th>Validity</th>
                <th>Use Certificate For</th>
                <th>Description</th>
              </tr>
            </thead>
            <tbody>
              {templates.map((t) => (
                <tr key={t.id}>
                  <td>
                    <Link className="link font-medium" href={`/dynamic-pki/certificate-templates/${t.id}`}>
                      {t.name}
                    </Link>
                  </td>
                  <td className="font-mono text-xs">{t.subject}</td>
                  <td>{t.overrideValidity && t.overrideNotAfter ? `until ${formatTime(t.overrideNotAfter).slice(0, 10)}` : `${t.validityDays} days`}</td>
                  <td>{t.extendedKeyUsages.join(", ")}</td>
                  <td>{t.description}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
