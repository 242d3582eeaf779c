import { Card, PageHeader } from "@/components/ui";
import { requireWriterPage } from "@/lib/session";
import { AddCorePlatformForm } from "../forms";

export const metadata = { title: "Add Core Platform" };

export default async function NewCorePlatformPage() {
  await requireWriterPage();
  return (
    <>
      <PageHeader
        title="Add Core Platform"
        crumbs={[{ label: "Integration Hub" }, { label: "Core Platforms", href: "/integration-hub/core-platforms" }, { label: "Add" }]}
        description="Save the Basic section first; the Configuration, API, Attribute Mapping and Groups tabs then appear."
      />
      <Card>
        <AddCorePlatformForm />
      </Card>
    </>
  );
}
