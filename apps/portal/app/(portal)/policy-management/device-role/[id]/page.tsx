import { notFound } from "next/navigation";
import { listKeyAttestationPlatforms } from "@attested/platforms";
import { deviceRoleUsage, getDeviceRole, postureConditionsOf } from "@attested/policy";
import { DeleteForm } from "@/components/delete-form";
import { Card, PageHeader, Tabs } from "@/components/ui";
import { getDb } from "@/lib/db";
import { requireReader } from "@/lib/session";
import { deleteDeviceRoleAction } from "../actions";
import { DeviceRoleForm } from "../forms";
import { DEVICE_ROLE_TABS } from "../tabs";
import { NotFoundError } from "@attested/errors";

export default async function DeviceRolePage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<{ saved?: string; tab?: string }>;
}) {
  const actor = await requireReader();
  const db = await getDb();
  const { id } = await params;
  const r = await getDeviceRole(db, id).catch((e) => (e instanceof NotFoundError ? notFound() : Promise.reject(e)));
  const [platforms, usedBy] = await Promise.all([listKeyAttestationPlatforms(db), deviceRoleUsage(db, id)]);
  const sp = await searchParams;
  const active = DEVICE_ROLE_TABS.some((t) => t.id === sp.tab) ? sp.tab! : "basic";
  const admin = actor.role === "ADMIN";
  return (
    <>
      <PageHeader
        title={r.name}
        crumbs={[{ label: "Policy Management" }, { label: "Device Role", href: "/policy-management/device-role" }, { label: r.name }]}
        description={r.description}
      />
      {sp.saved && (
        <div role="status" className="mb-4 rounded-md border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-800">
          Device Role saved. Choose its Identity in the Conditions tab.
        </div>
      )}
      <Tabs base={`/policy-management/device-role/${r.id}`} active={active} tabs={DEVICE_ROLE_TABS} />
      <Card>
        <DeviceRoleForm
          r={{
            id: r.id,
            name: r.name,
            description: r.description,
            keyAttestationPlatformId: r.keyAttestationPlatformId,
            postureConditions: postureConditionsOf(r).map((c) => ({ check: c.check, value: c.value })),
          }}
          platforms={platforms.map((p) => ({ id: p.id, name: p.name }))}
          active={active}
          readOnly={!admin}
        />
      </Card>
      <Card title="Used by" className="mt-6">
        {usedBy.length ? (
          <ul className="list-disc pl-5 text-sm">
            {usedBy.map((u) => (
              <li key={u}>{u}</li>
            ))}
          </ul>
        ) : (
          <p className="text-sm text-slate-500">Not used by any Enrollment Policy or Security Signal Source.</p>
        )}
        {admin && (
          <div className="mt-4">
            <DeleteForm action={deleteDeviceRoleAction} id={r.id} what={`Device Role "${r.name}"`} />
          </div>
        )}
      </Card>
    </>
  );
}
