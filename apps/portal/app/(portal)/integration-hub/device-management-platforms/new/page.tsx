import { Card, PageHeader } from "@/components/ui";
import { requireWriterPage } from "@/lib/session";
import { AddPlatformForm } from "../forms";

export const metadata = { title: "Add Device Management Platform" };

export default async function NewPlatformPage() {
  await requireWriterPage();
  return (
    <>
      <PageHeader
        title="Add Device Management Platform"
        crumbs={[
          { label: "Integration Hub" },
          { label: "Device Management Platforms", href: "/integration-hub/device-management-platforms" },
          { label: "Add" },
        ]}
        description="Save downloads the .mobileconfig to upload to your MDM (Kandji: Library > Custom profile)."
      />
      <Card>
        <AddPlatformForm />
      </Card>
    </>
  );
}
