import { Card, PageHeader } from "@/components/ui";
import { requireWriterPage } from "@/lib/session";
import { AddKapForm } from "../forms";

export const metadata = { title: "Add Key Attestation Platform" };

export default async function NewKapPage() {
  await requireWriterPage();
  return (
    <>
      <PageHeader
        title="Add Key Attestation Platform"
        crumbs={[{ label: "Integration Hub" }, { label: "Key Attestation Platforms", href: "/integration-hub/key-attestation-platforms" }, { label: "Add" }]}
      />
      <Card>
        <AddKapForm />
      </Card>
    </>
  );
}
