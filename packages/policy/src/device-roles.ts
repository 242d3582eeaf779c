import type { DeviceRole, Db } from "@attested/db";
import { EventType, inTransaction, recordEvent, type Actor } from "@attested/events";
import { assertCanWrite } from "@attested/identity";
import { asRecord, hasAny, isUuid, IssueCollector, usedByMessage, changedText } from "./common";
import { describePostureCondition } from "./posture";
import { deviceRoleBasicSchema, deviceRoleConditionsSchema, type PostureCondition } from "./schemas";
import { DomainError, NotFoundError } from "@attested/errors";

// Policy Management > Device Role: which Key Attestation Platform must have verified the device's
// key (Conditions: Identity), and what Apple must have attested about it (Conditions: Posture, see
// posture.ts). An Enrollment Policy applies only to devices its Device Role matches.

export type DeviceRoleView = DeviceRole & { keyAttestationPlatform: { id: string; name: string } | null };

const include = { keyAttestationPlatform: { select: { id: true, name: true } } } as const;

export const listDeviceRoles = (db: Db): Promise<DeviceRoleView[]> => db.deviceRole.findMany({ include, orderBy: { name: "asc" } });

export async function getDeviceRole(db: Db, id: string): Promise<DeviceRoleView> {
  const r = isUuid(id) ? await db.deviceRole.findUnique({ where: { id }, include }) : null;
  if (!r) throw new NotFoundError("Device Role");
  return r;
}

async function assertNameFree(db: Db, name: string, exceptId?: string) {
  const other = await db.deviceRole.findUnique({ where: { name }, select: { id: true } });
  if (other && other.id !== exceptId) throw new DomainError("A Device Role with this name already exists", 409, "name");
}

async function parseTabs(db: Db, current: DeviceRole | null, fields: Record<string, unknown>) {
  const c = new IssueCollector();
  const basic =
    !current || hasAny(fields, ["name", "description"])
      ? c.parse(deviceRoleBasicSchema, { name: fields.name ?? current?.name, description: fields.description ?? current?.description })
      : undefined;
  // One tab: a change to either field is checked with the other as it stands.
  const conditions = hasAny(fields, ["keyAttestationPlatformId", "postureConditions"])
    ? c.parse(deviceRoleConditionsSchema, {
        keyAttestationPlatformId: fields.keyAttestationPlatformId ?? current?.keyAttestationPlatformId,
        postureConditions: fields.postureConditions ?? current?.postureConditions,
      })
    : undefined;
  c.throwIfAny();
  if (conditions && !(await db.keyAttestationPlatform.findUnique({ where: { id: conditions.keyAttestationPlatformId }, select: { id: true } })))
    throw new DomainError("Choose an existing Key Attestation Platform", 400, "keyAttestationPlatformId");
  return { basic, conditions };
}

// "attestationPlatform", not "key...": the trail hides keys that look like secrets.
const auditView = (r: DeviceRoleView) => ({
  name: r.name,
  description: r.description,
  identity: r.keyAttestationPlatform?.name ?? null,
  posture: postureConditionsOf(r).map(describePostureCondition).join("; "),
});

/** The stored posture conditions (validated when saved). */
export const postureConditionsOf = (r: Pick<DeviceRole, "postureConditions">): PostureCondition[] =>
  Array.isArray(r.postureConditions) ? (r.postureConditions as unknown as PostureCondition[]) : [];

/** "Add Device Role Policy", then "Save" (Basic). */
export async function createDeviceRole(db: Db, actor: Actor, input: unknown): Promise<DeviceRoleView> {
  await assertCanWrite(db, actor, "create device roles");
  const { basic, conditions } = await parseTabs(db, null, asRecord(input));
  await assertNameFree(db, basic!.name);
  return inTransaction(db, async (tx) => {
    const r = await tx.deviceRole.create({ data: { ...basic!, ...conditions }, include });
    await recordEvent(tx, {
      type: EventType.PolicyCreated,
      outcome: "success",
      actor,
      object: { type: "device-role", id: r.id, name: r.name },
      summary: `Device Role "${r.name}" created`,
      details: auditView(r),
    });
    return r;
  });
}

/** "Update": Basic and Conditions (Identity = a Key Attestation Platform). */
export async function updateDeviceRole(db: Db, actor: Actor, id: string, input: unknown): Promise<DeviceRoleView> {
  await assertCanWrite(db, actor, "change device roles");
  const current = await getDeviceRole(db, id);
  const { basic, conditions } = await parseTabs(db, current, asRecord(input));
  if (!basic && !conditions) throw new DomainError("Nothing to update", 400);
  if (basic) await assertNameFree(db, basic.name, id);
  const before = auditView(current);
  return inTransaction(db, async (tx) => {
    const r = await tx.deviceRole.update({ where: { id }, data: { ...basic, ...conditions }, include });
    const after = auditView(r);
    const changed = (Object.keys(after) as (keyof typeof after)[]).filter((k) => after[k] !== before[k]);
    await recordEvent(tx, {
      type: EventType.PolicyUpdated,
      outcome: "success",
      actor,
      object: { type: "device-role", id, name: r.name },
      summary: `Device Role "${r.name}" updated${changedText(changed)}`,
      details: { changed, before, after },
    });
    return r;
  });
}

/** Where a Device Role is used: Enrollment Policies, and Security Signal Sources' Conditions. */
export async function deviceRoleUsage(db: Db, id: string): Promise<string[]> {
  const [policies, sources] = await Promise.all([
    db.enrollmentPolicy.findMany({ where: { deviceRoleId: id }, select: { name: true }, orderBy: { name: "asc" } }),
    db.securitySignalSource.findMany({ where: { deviceRoleIds: { has: id } }, select: { name: true }, orderBy: { name: "asc" } }),
  ]);
  return [...policies.map((p) => `Enrollment Policy "${p.name}"`), ...sources.map((s) => `Security Signal Source "${s.name}"`)];
}

export async function deleteDeviceRole(db: Db, actor: Actor, id: string): Promise<void> {
  await assertCanWrite(db, actor, "delete device roles");
  const r = await getDeviceRole(db, id);
  const usage = await deviceRoleUsage(db, id);
  if (usage.length) throw new DomainError(usedByMessage(`Device Role "${r.name}"`, usage), 409);
  await inTransaction(db, async (tx) => {
    await tx.deviceRole.delete({ where: { id } });
    await recordEvent(tx, {
      type: EventType.PolicyDeleted,
      outcome: "success",
      actor,
      object: { type: "device-role", id, name: r.name },
      summary: `Device Role "${r.name}" deleted`,
    });
  });
}
