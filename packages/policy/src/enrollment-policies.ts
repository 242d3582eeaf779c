import type { Db, EnrollmentPolicy } from "@attested/db";
import { EventType, inTransaction, recordEvent, type Actor } from "@attested/events";
import { assertCanWrite } from "@attested/identity";
import { asRecord, hasAny, isUuid, IssueCollector, changedText } from "./common";
import { enrollmentBasicSchema, enrollmentConditionsSchema, enrollmentSettingsSchema } from "./schemas";
import { DomainError, NotFoundError } from "@attested/errors";

// Policy Management > Enrollment: which Role (Policy Workflow) and Device Role a device must match,
// and which CA and template then issue its certificate. When several policies match, the lowest
// Priority number wins (then the name), shown on the list so the order is never a surprise.

export type EnrollmentPolicyView = EnrollmentPolicy & {
  policyWorkflow: { id: string; name: string } | null;
  deviceRole: { id: string; name: string } | null;
  ca: { id: string; name: string } | null;
  template: { id: string; name: string } | null;
  /** What is missing before the policy can apply (empty when complete). */
  missing: string[];
};

const include = { policyWorkflow: { select: { id: true, name: true } }, deviceRole: { select: { id: true, name: true } } } as const;
type Row = EnrollmentPolicy & { policyWorkflow: { id: string; name: string } | null; deviceRole: { id: string; name: string } | null };

async function views(db: Db, rows: Row[]): Promise<EnrollmentPolicyView[]> {
  // CA and template are plain columns (they live in the Dynamic PKI), so they are joined here.
  const [cas, templates] = await Promise.all([
    db.certificateAuthority.findMany({ where: { id: { in: rows.flatMap((r) => (r.caId ? [r.caId] : [])) } }, select: { id: true, commonName: true } }),
    db.certificateTemplate.findMany({ where: { id: { in: rows.flatMap((r) => (r.templateId ? [r.templateId] : [])) } }, select: { id: true, name: true } }),
  ]);
  return rows.map((r) => {
    const ca = cas.find((c) => c.id === r.caId);
    const template = templates.find((t) => t.id === r.templateId);
    const missing = [
      ...(r.policyWorkflow ? [] : ["Role"]),
      ...(r.deviceRole ? [] : ["Device Role"]),
      ...(ca ? [] : ["Certificate Authority"]),
      ...(template ? [] : ["Certificate Template"]),
    ];
    return { ...r, ca: ca ? { id: ca.id, name: ca.commonName } : null, template: template ? { id: template.id, name: template.name } : null, missing };
  });
}

/** In the order the engine tries them: Priority (lower first), then name. */
export async function listEnrollmentPolicies(db: Db): Promise<EnrollmentPolicyView[]> {
  return views(db, await db.enrollmentPolicy.findMany({ include, orderBy: [{ priority: "asc" }, { name: "asc" }] }));
}

export async function getEnrollmentPolicy(db: Db, id: string): Promise<EnrollmentPolicyView> {
  const p = isUuid(id) ? await db.enrollmentPolicy.findUnique({ where: { id }, include }) : null;
  if (!p) throw new NotFoundError("Enrollment Policy");
  return (await views(db, [p]))[0]!;
}

async function assertNameFree(db: Db, name: string, exceptId?: string) {
  const other = await db.enrollmentPolicy.findUnique({ where: { name }, select: { id: true } });
  if (other && other.id !== exceptId) throw new DomainError("An Enrollment Policy with this name already exists", 409, "name");
}

async function parseTabs(db: Db, current: EnrollmentPolicy | null, fields: Record<string, unknown>) {
  const c = new IssueCollector();
  const basic =
    !current || hasAny(fields, ["name", "description", "priority"])
      ? c.parse(enrollmentBasicSchema, {
          name: fields.name ?? current?.name,
          description: fields.description ?? current?.description,
          priority: fields.priority ?? current?.priority,
        })
      : undefined;
  const conditions = hasAny(fields, ["policyWorkflowId", "deviceRoleId"])
    ? c.parse(enrollmentConditionsSchema, {
        policyWorkflowId: fields.policyWorkflowId !== undefined ? fields.policyWorkflowId : current?.policyWorkflowId,
        deviceRoleId: fields.deviceRoleId !== undefined ? fields.deviceRoleId : current?.deviceRoleId,
      })
    : undefined;
  const settings = hasAny(fields, ["caId", "templateId"])
    ? c.parse(enrollmentSettingsSchema, {
        caId: fields.caId !== undefined ? fields.caId : current?.caId,
        templateId: fields.templateId !== undefined ? fields.templateId : current?.templateId,
      })
    : undefined;
  c.throwIfAny();
  if (conditions) {
    if (!(await db.policyWorkflow.findUnique({ where: { id: conditions.policyWorkflowId }, select: { id: true } })))
      throw new DomainError("Choose an existing Role", 400, "policyWorkflowId");
    if (!(await db.deviceRole.findUnique({ where: { id: conditions.deviceRoleId }, select: { id: true } })))
      throw new DomainError("Choose an existing Device Role", 400, "deviceRoleId");
  }
  if (settings) {
    const ca = await db.certificateAuthority.findUnique({ where: { id: settings.caId }, select: { notAfter: true } });
    if (!ca) throw new DomainError("Choose an existing Certificate Authority", 400, "caId");
    if (ca.notAfter <= new Date()) throw new DomainError("This Certificate Authority has expired", 400, "caId");
    if (!(await db.certificateTemplate.findUnique({ where: { id: settings.templateId }, select: { id: true } })))
      throw new DomainError("Choose an existing Certificate Template", 400, "templateId");
  }
  return { basic, conditions, settings };
}

const auditView = (p: EnrollmentPolicyView) => ({
  name: p.name,
  description: p.description,
  priority: p.priority,
  role: p.policyWorkflow?.name ?? null,
  deviceRole: p.deviceRole?.name ?? null,
  certificateAuthority: p.ca?.name ?? null,
  certificateTemplate: p.template?.name ?? null,
});

/** "Add Enrollment Policy", then "Save" (Basic: name, description, priority). */
export async function createEnrollmentPolicy(db: Db, actor: Actor, input: unknown): Promise<EnrollmentPolicyView> {
  await assertCanWrite(db, actor, "create enrollment policies");
  const { basic, conditions, settings } = await parseTabs(db, null, asRecord(input));
  await assertNameFree(db, basic!.name);
  return inTransaction(db, async (tx) => {
    const row = await tx.enrollmentPolicy.create({ data: { ...basic!, ...conditions, ...settings }, include });
    const p = (await views(tx as unknown as Db, [row]))[0]!;
    await recordEvent(tx, {
      type: EventType.PolicyCreated,
      outcome: "success",
      actor,
      object: { type: "enrollment-policy", id: p.id, name: p.name },
      summary: `Enrollment Policy "${p.name}" created with priority ${p.priority}`,
      details: auditView(p),
    });
    return p;
  });
}

/** "Update": Basic, Conditions (Role, Device Role) and Settings (CA, template). */
export async function updateEnrollmentPolicy(db: Db, actor: Actor, id: string, input: unknown): Promise<EnrollmentPolicyView> {
  await assertCanWrite(db, actor, "change enrollment policies");
  const current = await getEnrollmentPolicy(db, id);
  const { basic, conditions, settings } = await parseTabs(db, current, asRecord(input));
  if (!basic && !conditions && !settings) throw new DomainError("Nothing to update", 400);
  if (basic) await assertNameFree(db, basic.name, id);
  const before = auditView(current);
  return inTransaction(db, async (tx) => {
    const row = await tx.enrollmentPolicy.update({ where: { id }, data: { ...basic, ...conditions, ...settings }, include });
    const p = (await views(tx as unknown as Db, [row]))[0]!;
    const after = auditView(p);
    const changed = (Object.keys(after) as (keyof typeof after)[]).filter((k) => after[k] !== before[k]);
    await recordEvent(tx, {
      type: EventType.PolicyUpdated,
      outcome: "success",
      actor,
      object: { type: "enrollment-policy", id, name: p.name },
      summary: `Enrollment Policy "${p.name}" updated${changedText(changed)}`,
      details: { changed, before, after },
    });
    return p;
  });
}

/** Certificates keep the id of the policy that issued them (plain column), so deleting is allowed. */
export async function deleteEnrollmentPolicy(db: Db, actor: Actor, id: string): Promise<void> {
  await assertCanWrite(db, actor, "delete enrollment policies");
  const p = await getEnrollmentPolicy(db, id);
  await inTransaction(db, async (tx) => {
    await tx.enrollmentPolicy.delete({ where: { id } });
    await recordEvent(tx, {
      type: EventType.PolicyDeleted,
      outcome: "success",
      actor,
      object: { type: "enrollment-policy", id, name: p.name },
      summary: `Enrollment Policy "${p.name}" deleted`,
      details: auditView(p),
    });
  });
}
