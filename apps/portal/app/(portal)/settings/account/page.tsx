import { secondFactorStatus } from "@attested/identity";
import { Card, PageHeader, formatTime } from "@/components/ui";
import { getDb } from "@/lib/db";
import { requireSignedIn } from "@/lib/session";
import { ChangePasswordForm, SecondFactorForms } from "./forms";

export const metadata = { title: "Account" };

export default async function AccountPage({ searchParams }: { searchParams: Promise<{ changed?: string; secondFactor?: string }> }) {
  // Not requireReader: an admin who must set up a second factor is sent here, and must be able to stay.
  const actor = await requireSignedIn();
  const { changed, secondFactor } = await searchParams;
  const status = await secondFactorStatus(await getDb(), actor.id!);
  return (
    <>
      <PageHeader title="Account" crumbs={[{ label: "Settings" }, { label: "Account" }]} description={`Signed in as ${actor.name}.`} />
      {changed === "1" && (
        <div role="status" className="mb-6 rounded-md border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-800">
          Password changed. Your other sessions have been signed out.
        </div>
      )}
      {secondFactor === "off" && (
        <div role="status" className="mb-6 rounded-md border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-800">
          Two-factor authentication is off.
        </div>
      )}
      {status.required && !status.enabled && (
        <div role="alert" className="mb-6 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900">
          Your organization requires admins to use two-factor authentication. Set up an authenticator app below to use the portal.
        </div>
      )}
      <Card title="Change password">
        <ChangePasswordForm />
      </Card>
      <Card title="Two-factor authentication" className="mt-6">
        <p className="mb-4 text-sm text-slate-600" data-testid="second-factor-status">
          {status.enabled
            ? `On since ${formatTime(status.enabledAt!)}, with an authenticator app. ${status.recoveryCodesLeft} recovery code${status.recoveryCodesLeft === 1 ? "" : "s"} left.`
            : "Off. With it on, signing in also asks for a code from an authenticator app on your phone."}
        </p>
        <SecondFactorForms enabled={status.enabled} />
      </Card>
    </>
  );
}
