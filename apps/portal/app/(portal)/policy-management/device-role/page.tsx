import Link from "next/link";
import { describePostureCondition, deviceRoleUsage, listDeviceRoles, postureConditionsOf } from "@attested/policy";
import { Badge, EmptyState, PageHeader, formatTime } from "@/components/ui";
import { getDb } from "@/lib/db";
import { requireReader } from "@/lib/session";

export const metadata = { title: "Device Role" };

export default async function DeviceRolesPage() {
  const actor = await requireReader();
  const db = await getDb();
  const roles = await listDeviceRoles(db);
  const usage = await Promise.all(roles.map((r) => deviceRoleUsage(db, r.id)));
  const add = actor.role === "ADMIN" && (
    <Link className="btn-primary" href="/policy-management/device-role/new">
      Add Device Role Policy
    </Link>
  );
  return (
    <>
      <PageHeader
        title="Device Role"
        crumbs={[{ label: "Policy Management" }, { label: "Device Role" }]}
        description="Maps the attestation provider: an Enrollment Policy applies to devices whose key its Device Role's Key Attestation Platform verified and whose attested posture meets its conditions."
        actions={add}
      />
      {roles.length === 0 ? (
        <EmptyState title="No Device Role Policies yet" action={add}>
          An Enrollment Policy needs one.
        </EmptyState>
      ) : (
        <div className="card overflow-x-auto">
          <table className="table" data-testid="device-role-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Identity</th>
                <th>Attested posture</th>
                <th>Used by</th>
                <th>Updated</th>
              </tr>
            </thead>
            <tbody>
              {roles.map((r, i) => (
                <tr key={r.id}>
                  <td>
                    <Link className="link font-medium" href={`/policy-management/device-role/${r.id}`}>
                      {r.name}
                    </Link>
                    <div className="text-xs text-slate-500">{r.description}</div>
                  </td>
                  <td>{r.keyAttestationPlatform?.name ?? <Badge color="amber">Not set</Badge>}</td>
                  <td className="text-xs">{postureConditionsOf(r).map(describePostureCondition).join("; ") || "—"}</td>
                  <td className="text-xs">{usage[i]!.length ? usage[i]!.join(", ") : "—"}</td>
                  <td className="text-xs">{formatTime(r.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
