import { Card, PageHeader } from "@/components/ui";
import { requireReader } from "@/lib/session";
import { ChangePasswordForm } from "./forms";

export const metadata = { title: "Account" };

export default async function AccountPage({ searchParams }: { searchParams: Promise<{ changed?: string }> }) {
  const actor = await requireReader();
  const { changed } = await searchParams;
  return (
    <>
      <PageHeader title="Account" crumbs={[{ label: "Settings" }, { label: "Account" }]} description={`Signed in as ${actor.name}.`} />
      {changed === "1" && (
        <div role="status" className="mb-6 rounded-md border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-800">
          Password changed. Your other sessions have been signed out.
        </div>
      )}
      <Card title="Change password">
        <ChangePasswordForm />
      </Card>
    </>
  );
}
