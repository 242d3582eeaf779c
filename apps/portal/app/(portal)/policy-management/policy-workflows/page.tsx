import Link from "next/link";
import { conditionsText, listWorkflows, workflowUsage } from "@attested/policy";
import { Badge, EmptyState, PageHeader, formatTime } from "@/components/ui";
import { getDb } from "@/lib/db";
import { requireReader } from "@/lib/session";

export const metadata = { title: "Policy Workflows" };

export default async function WorkflowsPage() {
  const actor = await requireReader();
  const db = await getDb();
  const workflows = await listWorkflows(db);
  const usage = await Promise.all(workflows.map((w) => workflowUsage(db, w.id)));
  const add = actor.role === "ADMIN" && (
    <Link className="btn-primary" href="/policy-management/policy-workflows/new">
      Add Policy Workflow
    </Link>
  );
  return (
    <>
      <PageHeader
        title="Policy Workflows"
        crumbs={[{ label: "Policy Management" }, { label: "Policy Workflows" }]}
        description="A Role: the Core Provider that must find the device, and the attributes or groups it must have."
        actions={add}
      />
      {workflows.length === 0 ? (
        <EmptyState title="No Policy Workflows yet" action={add}>
          An Enrollment Policy needs one as its Role.
        </EmptyState>
      ) : (
        <div className="card overflow-x-auto">
          <table className="table" data-testid="workflow-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Core Provider</th>
                <th>Attributes/Groups</th>
                <th>Used by</th>
                <th>Updated</th>
              </tr>
            </thead>
            <tbody>
              {workflows.map((w, i) => (
                <tr key={w.id}>
                  <td>
                    <Link className="link font-medium" href={`/policy-management/policy-workflows/${w.id}`}>
                      {w.name}
                    </Link>
                    <div className="text-xs text-slate-500">{w.description}</div>
                  </td>
                  <td>{w.corePlatform?.name ?? <Badge color="amber">Not set</Badge>}</td>
                  <td className="text-xs">{conditionsText(w.attributeConditions)}</td>
                  <td className="text-xs">{usage[i]!.length ? usage[i]!.join(", ") : "—"}</td>
                  <td className="text-xs">{formatTime(w.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
