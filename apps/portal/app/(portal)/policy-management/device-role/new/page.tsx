import { Card, PageHeader } from "@/components/ui";
import { requireWriterPage } from "@/lib/session";
import { AddDeviceRoleForm } from "../forms";

export const metadata = { title: "Add Device Role Policy" };

export default async function NewDeviceRolePage() {
  await requireWriterPage();
  return (
    <>
      <PageHeader
        title="Add Device Role Policy"
        crumbs={[{ label: "Policy Management" }, { label: "Device Role", href: "/policy-management/device-role" }, { label: "Add" }]}
        description="Save the Basic tab first; the Conditions tab then opens."
      />
      <Card>
        <AddDeviceRoleForm />
      </Card>
    </>
  );
}
