import { notFound } from "next/navigation";
import { CONDITIONS, CONDITION_LABELS } from "@attested/integrations";
import { getSignalSource, listCorePlatforms, listDeviceRoles, signalSourceUsage } from "@attested/policy";
import { DeleteForm } from "@/components/delete-form";
import { Card, PageHeader, Tabs } from "@/components/ui";
import { getDb } from "@/lib/db";
import { requireReader } from "@/lib/session";
import { deleteSignalSourceAction } from "../actions";
import { SignalSourceForm } from "../forms";
import { SIGNAL_SOURCE_TABS } from "../tabs";
import { NotFoundError } from "@attested/errors";

export default async function SignalSourcePage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<{ saved?: string; tab?: string }>;
}) {
  const actor = await requireReader();
  const db = await getDb();
  const { id } = await params;
  const s = await getSignalSource(db, id).catch((e) => (e instanceof NotFoundError ? notFound() : Promise.reject(e)));
  const [corePlatforms, deviceRoles, usedBy] = await Promise.all([listCorePlatforms(db), listDeviceRoles(db), signalSourceUsage(db, s.id)]);
  const sp = await searchParams;
  const active = SIGNAL_SOURCE_TABS.some((t) => t.id === sp.tab) ? sp.tab! : "basic";
  const admin = actor.role === "ADMIN";
  return (
    <>
      <PageHeader
        title={s.name}
        crumbs={[{ label: "Policy Management" }, { label: "Security Signal Sources", href: "/policy-management/security-signal-sources" }, { label: s.name }]}
        description={s.description}
      />
      {sp.saved && (
        <div role="status" className="mb-4 rounded-md border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-800">
          Security Signal Source saved. Choose its Identity Provider Lookup in the Settings tab.
        </div>
      )}
      <Tabs base={`/policy-management/security-signal-sources/${s.id}`} active={active} tabs={SIGNAL_SOURCE_TABS} />
      <Card>
        <SignalSourceForm
          s={{
            id: s.id,
            name: s.name,
            description: s.description,
            lookupPurpose: s.lookupPurpose,
            corePlatformId: s.corePlatformId,
            identityType: s.identityType,
            identityAttribute: s.identityAttribute,
            revokeOnFailure: s.revokeOnFailure,
            deviceRoleIds: s.deviceRoleIds,
          }}
          corePlatforms={corePlatforms.map((c) => ({ id: c.id, name: c.name }))}
          deviceRoles={deviceRoles.map((r) => ({ id: r.id, name: r.name }))}
          conditionLabels={Object.fromEntries(CONDITIONS.map((c) => [c, CONDITION_LABELS[c]]))}
          active={active}
          readOnly={!admin}
        />
      </Card>
      <Card title="Used by" className="mt-6">
        {usedBy.length ? (
          <ul className="list-disc pl-5 text-sm" data-testid="signal-source-used-by">
            {usedBy.map((u) => (
              <li key={u}>{u}</li>
            ))}
          </ul>
        ) : (
          <p className="text-sm text-slate-500" data-testid="signal-source-used-by">
            No Enrollment Policy looks devices up through this source: a policy uses the Certificate Issuance source of its Role&apos;s Core Provider and its
            Device Role.
          </p>
        )}
      </Card>
      {admin && (
        <Card title="Delete" className="mt-6">
          <p className="mb-3 text-sm text-slate-600">
            {usedBy.length
              ? "Deleting it leaves those policies looking devices up by the attested serial number, without Revoke On Failure."
              : "Nothing uses this source."}
          </p>
          <DeleteForm action={deleteSignalSourceAction} id={s.id} what={`Security Signal Source "${s.name}"`} />
        </Card>
      )}
    </>
  );
}
