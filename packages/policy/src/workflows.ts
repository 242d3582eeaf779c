import type { Db, PolicyWorkflow, Prisma } from "@attested/db";
import { EventType, inTransaction, recordEvent, type Actor } from "@attested/events";
import { assertCanWrite } from "@attested/identity";
import { z } from "zod";
import { asRecord, hasAny, isUuid, IssueCollector, usedByMessage, changedText } from "./common";
import { describeCondition } from "./conditions";
import { workflowBasicSchema, workflowConditionsSchema, type WorkflowCondition } from "./schemas";
import { DomainError, NotFoundError } from "@attested/errors";

// Policy Management > Policy Workflows (the "Role" of an Enrollment Policy): which Core Provider
// looks the device up, and which looked-up attributes and groups it must have (ANY = none).

export type WorkflowView = Omit<PolicyWorkflow, "attributeConditions"> & {
  attributeConditions: WorkflowCondition[];
  corePlatform: { id: string; name: string; attributeMappings: Prisma.JsonValue } | null;
};

const include = { corePlatform: { select: { id: true, name: true, attributeMappings: true } } } as const;
const view = (w: PolicyWorkflow & { corePlatform: WorkflowView["corePlatform"] }): WorkflowView => ({
  ...w,
  attributeConditions: (Array.isArray(w.attributeConditions) ? w.attributeConditions : []) as unknown as WorkflowCondition[],
});

export const listWorkflows = async (db: Db): Promise<WorkflowView[]> => (await db.policyWorkflow.findMany({ include, orderBy: { name: "asc" } })).map(view);

export async function getWorkflow(db: Db, id: string): Promise<WorkflowView> {
  const w = isUuid(id) ? await db.policyWorkflow.findUnique({ where: { id }, include }) : null;
  if (!w) throw new NotFoundError("Policy Workflow");
  return view(w);
}

async function assertNameFree(db: Db, name: string, exceptId?: string) {
  const other = await db.policyWorkflow.findUnique({ where: { name }, select: { id: true } });
  if (other && other.id !== exceptId) throw new DomainError("A Policy Workflow with this name already exists", 409, "name");
}

/** "ANY" or the conditions in words, for lists and the trail. */
export const conditionsText = (conditions: WorkflowCondition[]) => (conditions.length ? conditions.map(describeCondition).join(" and ") : "ANY");

const CONDITIONS = ["corePlatformId", "attributeConditions"] as const;

async function parseTabs(db: Db, current: WorkflowView | null, fields: Record<string, unknown>) {
  const c = new IssueCollector();
  const basic =
    !current || hasAny(fields, ["name", "description"])
      ? c.parse(workflowBasicSchema, { name: fields.name ?? current?.name, description: fields.description ?? current?.description })
      : undefined;
  const conditions = hasAny(fields, CONDITIONS)
    ? c.parse(workflowConditionsSchema, {
        corePlatformId: fields.corePlatformId !== undefined ? fields.corePlatformId : current?.corePlatformId,
        attributeConditions: fields.attributeConditions ?? current?.attributeConditions ?? [],
      })
    : undefined;
  c.throwIfAny();
  if (conditions) {
    const cp = await db.corePlatform.findUnique({ where: { id: conditions.corePlatformId }, select: { name: true, attributeMappings: true } });
    if (!cp) throw new DomainError("Choose an existing Core Provider", 400, "corePlatformId");
    // A condition on an attribute the provider never maps could never pass: say so now.
    const mapped = new Set(((Array.isArray(cp.attributeMappings) ? cp.attributeMappings : []) as { attribute?: string }[]).map((m) => m.attribute));
    const issues: z.core.$ZodIssue[] = [];
    conditions.attributeConditions.forEach((cond, i) => {
      if (cond.kind === "attribute" && !mapped.has(cond.attribute))
        issues.push({
          code: "custom",
          path: ["attributeConditions", i, "attribute"],
          message: `"${cond.attribute}" is not mapped by "${cp.name}": add it in its Attribute Mapping tab`,
          input: cond.attribute,
        });
    });
    if (issues.length) throw new z.ZodError(issues);
  }
  return { basic, conditions };
}

function auditView(w: WorkflowView) {
  return { name: w.name, description: w.description, coreProvider: w.corePlatform?.name ?? null, attributesGroups: conditionsText(w.attributeConditions) };
}

/** "Add Policy Workflow", then "Save" (Basic). */
export async function createWorkflow(db: Db, actor: Actor, input: unknown): Promise<WorkflowView> {
  await assertCanWrite(db, actor, "create policy workflows");
  const { basic, conditions } = await parseTabs(db, null, asRecord(input));
  await assertNameFree(db, basic!.name);
  return inTransaction(db, async (tx) => {
    const w = view(
      await tx.policyWorkflow.create({
        data: {
          ...basic!,
          ...(conditions ? { corePlatformId: conditions.corePlatformId, attributeConditions: conditions.attributeConditions as Prisma.InputJsonValue } : {}),
        },
        include,
      }),
    );
    await recordEvent(tx, {
      type: EventType.PolicyCreated,
      outcome: "success",
      actor,
      object: { type: "policy-workflow", id: w.id, name: w.name },
      summary: `Policy Workflow "${w.name}" created`,
      details: auditView(w),
    });
    return w;
  });
}

/** "Update": Basic and Conditions (Core Provider, Attributes/Groups). */
export async function updateWorkflow(db: Db, actor: Actor, id: string, input: unknown): Promise<WorkflowView> {
  await assertCanWrite(db, actor, "change policy workflows");
  const current = await getWorkflow(db, id);
  const { basic, conditions } = await parseTabs(db, current, asRecord(input));
  if (!basic && !conditions) throw new DomainError("Nothing to update", 400);
  if (basic) await assertNameFree(db, basic.name, id);
  const before = auditView(current);
  return inTransaction(db, async (tx) => {
    const w = view(
      await tx.policyWorkflow.update({
        where: { id },
        data: {
          ...basic,
          ...(conditions ? { corePlatformId: conditions.corePlatformId, attributeConditions: conditions.attributeConditions as Prisma.InputJsonValue } : {}),
        },
        include,
      }),
    );
    const after = auditView(w);
    const changed = (Object.keys(after) as (keyof typeof after)[]).filter((k) => after[k] !== before[k]);
    await recordEvent(tx, {
      type: EventType.PolicyUpdated,
      outcome: "success",
      actor,
      object: { type: "policy-workflow", id, name: w.name },
      summary: `Policy Workflow "${w.name}" updated${changedText(changed)}`,
      details: { changed, before, after, attributeConditions: w.attributeConditions },
    });
    return w;
  });
}

/** Where a Policy Workflow is used (as the Role of Enrollment Policies). */
export async function workflowUsage(db: Db, id: string): Promise<string[]> {
  const policies = await db.enrollmentPolicy.findMany({ where: { policyWorkflowId: id }, select: { name: true }, orderBy: { name: "asc" } });
  return policies.map((p) => `Enrollment Policy "${p.name}"`);
}

export async function deleteWorkflow(db: Db, actor: Actor, id: string): Promise<void> {
  await assertCanWrite(db, actor, "delete policy workflows");
  const w = await getWorkflow(db, id);
  const usage = await workflowUsage(db, id);
  if (usage.length) throw new DomainError(usedByMessage(`Policy Workflow "${w.name}"`, usage), 409);
  await inTransaction(db, async (tx) => {
    await tx.policyWorkflow.delete({ where: { id } });
    await recordEvent(tx, {
      type: EventType.PolicyDeleted,
      outcome: "success",
      actor,
      object: { type: "policy-workflow", id, name: w.name },
      summary: `Policy Workflow "${w.name}" deleted`,
    });
  });
}
