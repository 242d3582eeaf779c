import { Card, PageHeader } from "@/components/ui";
import { requireWriterPage } from "@/lib/session";
import { AddEnrollmentPolicyForm } from "../forms";

export const metadata = { title: "Add Enrollment Policy" };

export default async function NewEnrollmentPolicyPage() {
  await requireWriterPage();
  return (
    <>
      <PageHeader
        title="Add Enrollment Policy"
        crumbs={[{ label: "Policy Management" }, { label: "Enrollment", href: "/policy-management/enrollment" }, { label: "Add" }]}
        description="Save the Basic section first; the Conditions and Settings tabs then appear."
      />
      <Card>
        <AddEnrollmentPolicyForm />
      </Card>
    </>
  );
}
