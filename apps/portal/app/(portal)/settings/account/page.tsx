import { Card, PageHeader } from "@/components/ui";
import { requireReader } from "@/lib/session";
import { ChangePasswordForm } from "./forms";

export const metadata = { title: "Account" };

export default async function AccountPage() {
  const actor = await requireReader();
  return (
    <>
      <PageHeader title="Account" crumbs={[{ label: "Settings" }, { label: "Account" }]} description={`Signed in as ${actor.name}.`} />
      <Card title="Change password"><ChangePasswordForm /></Card>
    </>
  );
}
