import { notFound } from "next/navigation";
import { getWorkflow, listCorePlatforms, workflowUsage, GROUPS } from "@attested/policy";
import { DeleteForm } from "@/components/delete-form";
import { Card, PageHeader, Tabs } from "@/components/ui";
import { getDb } from "@/lib/db";
import { requireReader } from "@/lib/session";
import { deleteWorkflowAction } from "../actions";
import { WorkflowForm } from "../forms";
import { WORKFLOW_TABS } from "../tabs";
import { NotFoundError } from "@attested/errors";

export default async function WorkflowPage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<{ saved?: string; tab?: string }>;
}) {
  const actor = await requireReader();
  const db = await getDb();
  const { id } = await params;
  const w = await getWorkflow(db, id).catch((e) => (e instanceof NotFoundError ? notFound() : Promise.reject(e)));
  const [corePlatforms, usedBy] = await Promise.all([listCorePlatforms(db), workflowUsage(db, id)]);
  const sp = await searchParams;
  const active = WORKFLOW_TABS.some((t) => t.id === sp.tab) ? sp.tab! : "basic";
  const admin = actor.role === "ADMIN";
  return (
    <>
      <PageHeader
        title={w.name}
        crumbs={[{ label: "Policy Management" }, { label: "Policy Workflows", href: "/policy-management/policy-workflows" }, { label: w.name }]}
        description={w.description}
      />
      {sp.saved && (
        <div role="status" className="mb-4 rounded-md border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-800">
          Policy Workflow saved. Choose its Core Provider in the Conditions tab.
        </div>
      )}
      <Tabs base={`/policy-management/policy-workflows/${w.id}`} active={active} tabs={WORKFLOW_TABS} />
      <Card>
        <WorkflowForm
          w={{
            id: w.id,
            name: w.name,
            description: w.description,
            corePlatformId: w.corePlatformId,
            conditions: w.attributeConditions.map((c) => ({
              attribute: c.kind === "group" ? GROUPS : c.attribute!,
              operator: c.operator,
              value: c.value ?? "",
            })),
          }}
          corePlatforms={corePlatforms.map((c) => ({ id: c.id, name: c.name, attributes: c.attributeMappings.map((m) => m.attribute) }))}
          active={active}
          readOnly={!admin}
        />
      </Card>
      <Card title="Used by" className="mt-6">
        {usedBy.length ? (
          <ul className="list-disc pl-5 text-sm">
            {usedBy.map((u) => (
              <li key={u}>{u}</li>
            ))}
          </ul>
        ) : (
          <p className="text-sm text-slate-500">Not the Role of any Enrollment Policy.</p>
        )}
        {admin && (
          <div className="mt-4">
            <DeleteForm action={deleteWorkflowAction} id={w.id} what={`Policy Workflow "${w.name}"`} />
          </div>
        )}
      </Card>
    </>
  );
}
