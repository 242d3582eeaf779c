import { Card, PageHeader } from "@/components/ui";
import { requireWriterPage } from "@/lib/session";
import { AddWorkflowForm } from "../forms";

export const metadata = { title: "Add Policy Workflow" };

export default async function NewWorkflowPage() {
  await requireWriterPage();
  return (
    <>
      <PageHeader
        title="Add Policy Workflow"
        crumbs={[{ label: "Policy Management" }, { label: "Policy Workflows", href: "/policy-management/policy-workflows" }, { label: "Add" }]}
        description="Save the Basic section first; the Conditions tab then appears."
      />
      <Card>
        <AddWorkflowForm />
      </Card>
    </>
  );
}
