import { notFound } from "next/navigation";
import { getEnrollmentPolicy, listDeviceRoles, listWorkflows } from "@attested/policy";
import { DeleteForm } from "@/components/delete-form";
import { Badge, Card, PageHeader, Tabs } from "@/components/ui";
import { getDb } from "@/lib/db";
import { requireReader } from "@/lib/session";
import { deleteEnrollmentPolicyAction } from "../actions";
import { EnrollmentPolicyForm } from "../forms";
import { ENROLLMENT_TABS } from "../tabs";
import { NotFoundError } from "@attested/errors";

export default async function EnrollmentPolicyPage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<{ saved?: string; tab?: string }>;
}) {
  const actor = await requireReader();
  const db = await getDb();
  const { id } = await params;
  const p = await getEnrollmentPolicy(db, id).catch((e) => (e instanceof NotFoundError ? notFound() : Promise.reject(e)));
  const [roles, deviceRoles, cas, templates, issued] = await Promise.all([
    listWorkflows(db),
    listDeviceRoles(db),
    db.certificateAuthority.findMany({
      where: { notAfter: { gt: new Date() } },
      select: { id: true, commonName: true, type: true },
      orderBy: { createdAt: "asc" },
    }),
    db.certificateTemplate.findMany({ select: { id: true, name: true }, orderBy: { name: "asc" } }),
    db.certificate.count({ where: { enrollmentPolicyId: id } }),
  ]);
  const sp = await searchParams;
  const active = ENROLLMENT_TABS.some((t) => t.id === sp.tab) ? sp.tab! : "basic";
  const admin = actor.role === "ADMIN";
  return (
    <>
      <PageHeader
        title={p.name}
        crumbs={[{ label: "Policy Management" }, { label: "Enrollment", href: "/policy-management/enrollment" }, { label: p.name }]}
        description={
          <>
            {p.description}{" "}
            {p.missing.length ? <Badge color="amber">Incomplete: no {p.missing.join(", ")}</Badge> : <Badge color="green">Active, priority {p.priority}</Badge>}
          </>
        }
      />
      {sp.saved && (
        <div role="status" className="mb-4 rounded-md border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-800">
          Enrollment Policy saved. Set its Conditions and Settings.
        </div>
      )}
      <Tabs base={`/policy-management/enrollment/${p.id}`} active={active} tabs={ENROLLMENT_TABS} />
      <Card>
        <EnrollmentPolicyForm
          p={{
            id: p.id,
            name: p.name,
            description: p.description,
            priority: p.priority,
            policyWorkflowId: p.policyWorkflowId,
            deviceRoleId: p.deviceRoleId,
            caId: p.caId,
            templateId: p.templateId,
          }}
          roles={roles.map((r) => ({ id: r.id, name: r.name }))}
          deviceRoles={deviceRoles.map((r) => ({ id: r.id, name: r.name }))}
          cas={cas.map((c) => ({ id: c.id, name: `${c.commonName} (${c.type === "ROOT" ? "Root CA" : "Intermediate CA"})` }))}
          templates={templates}
          active={active}
          readOnly={!admin}
        />
      </Card>
      <Card title="Certificates" className="mt-6">
        <p className="text-sm text-slate-600">
          {issued} certificate{issued === 1 ? "" : "s"} issued under this policy. Deleting the policy keeps them; General Events keeps why each was issued.
        </p>
        {admin && (
          <div className="mt-4">
            <DeleteForm action={deleteEnrollmentPolicyAction} id={p.id} what={`Enrollment Policy "${p.name}"`} />
          </div>
        )}
      </Card>
    </>
  );
}
