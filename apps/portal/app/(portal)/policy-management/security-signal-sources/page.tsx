import Link from "next/link";
import { identityLabel, listDeviceRoles, listSignalSources, lookupPurposeLabel } from "@attested/policy";
import { Badge, EmptyState, PageHeader, formatTime } from "@/components/ui";
import { getDb } from "@/lib/db";
import { requireReader } from "@/lib/session";

export const metadata = { title: "Security Signal Sources" };

export default async function SignalSourcesPage() {
  const actor = await requireReader();
  const db = await getDb();
  const [sources, roles] = await Promise.all([listSignalSources(db), listDeviceRoles(db)]);
  const add = actor.role === "ADMIN" && (
    <Link className="btn-primary" href="/policy-management/security-signal-sources/new">
      Add Security Signal Source
    </Link>
  );
  return (
    <>
      <PageHeader
        title="Security Signal Sources"
        crumbs={[{ label: "Policy Management" }, { label: "Security Signal Sources" }]}
        description="Which Generic HTTP Signal Source looks a device up, with which key, at enrollment (Certificate Issuance) or at RADIUS Authentication."
        actions={add}
      />
      {sources.length === 0 ? (
        <EmptyState title="No Security Signal Sources yet" action={add}>
          Without one, enrollment looks devices up by their attested serial number.
        </EmptyState>
      ) : (
        <div className="card overflow-x-auto">
          <table className="table" data-testid="signal-source-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Lookup Purpose</th>
                <th>Identity Provider Lookup</th>
                <th>Identity</th>
                <th>Device Role</th>
                <th>Revoke On Failure</th>
                <th>Updated</th>
              </tr>
            </thead>
            <tbody>
              {sources.map((s) => (
                <tr key={s.id}>
                  <td>
                    <Link className="link font-medium" href={`/policy-management/security-signal-sources/${s.id}`}>
                      {s.name}
                    </Link>
                    <div className="text-xs text-slate-500">{s.description}</div>
                  </td>
                  <td>{lookupPurposeLabel(s.lookupPurpose)}</td>
                  <td>{s.corePlatform?.name ?? <Badge color="amber">Not set</Badge>}</td>
                  <td className="text-xs">{identityLabel(s.identityType, s.identityAttribute)}</td>
                  <td className="text-xs">
                    {s.deviceRoleIds.length ? s.deviceRoleIds.map((id) => roles.find((r) => r.id === id)?.name ?? id).join(", ") : "ANY"}
                  </td>
                  <td>{s.revokeOnFailure ? <Badge color="red">Yes</Badge> : "No"}</td>
                  <td className="text-xs">{formatTime(s.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
