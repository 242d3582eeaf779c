import Link from "next/link";
import { certificatesQuerySchema, displayStatus, listCas, searchCertificates } from "@attested/ca";
import { Badge, EmptyState, PageHeader, formatTime, KeysetPager } from "@/components/ui";
import { caContext } from "@/lib/ca";
import { requireReader } from "@/lib/session";

export const metadata = { title: "Certificates" };
type Search = Record<string, string | string[] | undefined>;
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v) || undefined;
const statusColor = { Active: "green", Revoked: "red", "On Hold": "amber", Expired: "slate" } as const;

export default async function CertificatesPage({ searchParams }: { searchParams: Promise<Search> }) {
  await requireReader();
  const sp = await searchParams;
  const raw = { q: one(sp.q), caId: one(sp.caId), status: one(sp.status), expiringWithinDays: one(sp.expiringWithinDays), cursor: one(sp.cursor) };
  const parsed = certificatesQuerySchema.safeParse(raw);
  const ctx = await caContext();
  const [page, cas] = await Promise.all([searchCertificates(ctx, parsed.success ? parsed.data : {}), listCas(ctx)]);
  const now = new Date();
  return (
    <>
      <PageHeader title="Certificates" crumbs={[{ label: "Dynamic PKI" }, { label: "Certificates" }]} description="Every certificate issued by your CAs." />
      <form method="get" className="card mb-4 grid grid-cols-1 gap-3 p-4 md:grid-cols-5" aria-label="Search certificates">
        <div className="md:col-span-2">
          <label htmlFor="q">Search</label>
          <input className="input" id="q" name="q" defaultValue={raw.q} placeholder="Serial, subject, SAN or device serial" />
        </div>
        <div>
          <label htmlFor="caId">Certificate Authority</label>
          <select className="input" id="caId" name="caId" defaultValue={raw.caId ?? ""}>
            <option value="">All</option>
            {cas.map((c) => (
              <option key={c.id} value={c.id}>
                {c.commonName}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="status">Status</label>
          <select className="input" id="status" name="status" defaultValue={raw.status ?? ""}>
            <option value="">Any</option>
            <option value="active">Active</option>
            <option value="revoked">Revoked</option>
            <option value="on_hold">On Hold</option>
            <option value="expired">Expired</option>
          </select>
        </div>
        <div>
          <label htmlFor="expiringWithinDays">Expiring within</label>
          <select className="input" id="expiringWithinDays" name="expiringWithinDays" defaultValue={raw.expiringWithinDays ?? ""}>
            <option value="">—</option>
            <option value="7">7 days</option>
            <option value="30">30 days</option>
            <option value="90">90 days</option>
          </select>
        </div>
        <div className="flex gap-2 md:col-span-5">
          <button className="btn-primary" type="submit">
            Search
          </button>
          <Link className="btn-secondary" href="?">
            Clear
          </Link>
          {!parsed.success && (
            <span role="alert" className="text-sm text-red-600">
              {parsed.error.issues[0].message}
            </span>
          )}
        </div>
      </form>
      {page.certificates.length === 0 ? (
        <EmptyState title="No certificates match">Certificates appear here as devices enroll.</EmptyState>
      ) : (
        <div className="card overflow-x-auto">
          <table className="table" data-testid="certificates-table">
            <thead>
              <tr>
                <th>Subject</th>
                <th>Serial</th>
                <th>Device</th>
                <th>CA</th>
                <th>Template</th>
                <th>Issued</th>
                <th>Expires</th>
                <th>Status</th>
              </tr>
            </thead>
            <tbody>
              {page.certificates.map((c) => {
                const s = displayStatus(c, now);
                return (
                  <tr key={c.id}>
                    <td>
                      <Link className="link" href={`/dynamic-pki/certificates/${c.id}`}>
                        {c.subjectDn}
                      </Link>
                    </td>
                    <td className="font-mono text-xs">{c.serialNumber}</td>
                    <td className="font-mono text-xs">{c.deviceSerial ?? ""}</td>
                    <td>{c.ca.commonName}</td>
                    <td>{c.template?.name ?? ""}</td>
                    <td className="text-xs">{formatTime(c.issuedAt)}</td>
                    <td className="text-xs">{formatTime(c.notAfter)}</td>
                    <td>
                      <Badge color={statusColor[s]}>{s}</Badge>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <KeysetPager filters={raw} cursor={raw.cursor} nextCursor={page.nextCursor} />
    </>
  );
}
