import { Card, PageHeader } from "@/components/ui";
import { requireWriterPage } from "@/lib/session";
import { AddSignalSourceForm } from "../forms";

export const metadata = { title: "Add Security Signal Source" };

export default async function NewSignalSourcePage() {
  await requireWriterPage();
  return (
    <>
      <PageHeader
        title="Add Security Signal Source"
        crumbs={[{ label: "Policy Management" }, { label: "Security Signal Sources", href: "/policy-management/security-signal-sources" }, { label: "Add" }]}
        description="Save the Basic section first; the Conditions and Settings tabs then appear."
      />
      <Card>
        <AddSignalSourceForm />
      </Card>
    </>
  );
}
