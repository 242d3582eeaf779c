import Link from "next/link";
import { listEnrollmentPolicies } from "@attested/policy";
import { Badge, EmptyState, PageHeader } from "@/components/ui";
import { getDb } from "@/lib/db";
import { requireReader } from "@/lib/session";

export const metadata = { title: "Enrollment" };

export default async function EnrollmentPoliciesPage() {
  const actor = await requireReader();
  const policies = await listEnrollmentPolicies(await getDb());
  const add = actor.role === "ADMIN" && (
    <Link className="btn-primary" href="/policy-management/enrollment/new">
      Add Enrollment Policy
    </Link>
  );
  return (
    <>
      <PageHeader
        title="Enrollment"
        crumbs={[{ label: "Policy Management" }, { label: "Enrollment" }]}
        description="Which devices get a certificate, from which CA and template. Policies are tried in this order (Priority, lower first); the first whose Device Role and Role match wins."
        actions={add}
      />
      {policies.length === 0 ? (
        <EmptyState title="No Enrollment Policies yet" action={add}>
          Without one, devices enroll with their Device Management Platform&apos;s defaults, if set.
        </EmptyState>
      ) : (
        <div className="card overflow-x-auto">
          <table className="table" data-testid="enrollment-table">
            <thead>
              <tr>
                <th>Priority</th>
                <th>Name</th>
                <th>Role</th>
                <th>Device Role</th>
                <th>Certificate Authority</th>
                <th>Certificate Template</th>
                <th>Status</th>
              </tr>
            </thead>
            <tbody>
              {policies.map((p) => (
                <tr key={p.id}>
                  <td className="font-mono">{p.priority}</td>
                  <td>
                    <Link className="link font-medium" href={`/policy-management/enrollment/${p.id}`}>
                      {p.name}
                    </Link>
                    <div className="text-xs text-slate-500">{p.description}</div>
                  </td>
                  <td>{p.policyWorkflow?.name ?? "—"}</td>
                  <td>{p.deviceRole?.name ?? "—"}</td>
                  <td>{p.ca?.name ?? "—"}</td>
                  <td>{p.template?.name ?? "—"}</td>
                  <td>{p.missing.length ? <Badge color="amber">Incomplete: no {p.missing.join(", ")}</Badge> : <Badge color="green">Active</Badge>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
