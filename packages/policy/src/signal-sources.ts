import type { Db, SecuritySignalSource } from "@attested/db";
import { EventType, inTransaction, recordEvent, type Actor } from "@attested/events";
import { assertCanWrite } from "@attested/identity";
import { rulesPinIdentity } from "@attested/integrations";
import { asRecord, hasAny, isUuid, IssueCollector, changedText } from "./common";
import { contextWith, identityVariables } from "./context";
import { pickSignalSource } from "./engine";
import { storedLookupConfig, validateLookup, type ValidationReport } from "./core-platforms";
import { IDENTITY_ATTRIBUTES, lookupPurposeLabel, type LookupPurpose } from "./options";
import { signalSourceBasicSchema, signalSourceConditionsSchema, signalSourceSettingsSchema, validateIdentitySchema } from "./schemas";
import { DomainError, NotFoundError } from "@attested/errors";

// Policy Management > Security Signal Sources: which Generic HTTP source to ask, with which key
// (Identity), for which purpose (Certificate Issuance or RADIUS Authentication), and whether a
// definite "not found" revokes the device's certificates (Revoke On Failure).

export type SignalSourceView = SecuritySignalSource & { corePlatform: { id: string; name: string } | null };

const include = { corePlatform: { select: { id: true, name: true } } } as const;

export const listSignalSources = (db: Db): Promise<SignalSourceView[]> => db.securitySignalSource.findMany({ include, orderBy: { name: "asc" } });

export async function getSignalSource(db: Db, id: string): Promise<SignalSourceView> {
  const s = isUuid(id) ? await db.securitySignalSource.findUnique({ where: { id }, include }) : null;
  if (!s) throw new NotFoundError("Security Signal Source");
  return s;
}

async function assertNameFree(db: Db, name: string, exceptId?: string) {
  const other = await db.securitySignalSource.findUnique({ where: { name }, select: { id: true } });
  if (other && other.id !== exceptId) throw new DomainError("A Security Signal Source with this name already exists", 409, "name");
}

const SETTINGS = ["corePlatformId", "identityType", "identityAttribute", "revokeOnFailure"] as const;
const CONDITIONS = ["deviceRoleIds"] as const;

/** Label of an identity attribute for pages and the trail ("CSR: Serial number (attested by Apple)"). */
export function identityLabel(type: string, attribute: string): string {
  const known = type === "csr" || type === "certificate" ? IDENTITY_ATTRIBUTES[type].find((a) => a.value === attribute) : undefined;
  return `${type === "csr" ? "CSR" : type === "certificate" ? "Certificate" : "Custom"}: ${known ? `${known.label} (${attribute})` : attribute}`;
}

async function parseTabs(db: Db, current: SecuritySignalSource | null, fields: Record<string, unknown>) {
  const c = new IssueCollector();
  const basic = current
    ? hasAny(fields, ["name", "description"])
      ? c.parse(signalSourceBasicSchema.pick({ name: true, description: true }), {
          name: fields.name ?? current.name,
          description: fields.description ?? current.description,
        })
      : undefined
    : c.parse(signalSourceBasicSchema, fields);
  // The purpose is chosen in Basic; it decides which identities the Settings tab may use.
  const purpose = (current?.lookupPurpose ?? (basic as { lookupPurpose?: string } | undefined)?.lookupPurpose ?? "certificate-issuance") as LookupPurpose;
  const settings = hasAny(fields, SETTINGS)
    ? c.parse(signalSourceSettingsSchema(purpose), {
        corePlatformId: fields.corePlatformId !== undefined ? fields.corePlatformId : current?.corePlatformId,
        identityType: fields.identityType ?? current?.identityType,
        identityAttribute: fields.identityAttribute ?? current?.identityAttribute,
        revokeOnFailure: fields.revokeOnFailure ?? current?.revokeOnFailure,
      })
    : undefined;
  const conditions = hasAny(fields, CONDITIONS) ? c.parse(signalSourceConditionsSchema, { deviceRoleIds: fields.deviceRoleIds }) : undefined;
  c.throwIfAny();
  if (settings && !(await db.corePlatform.findUnique({ where: { id: settings.corePlatformId }, select: { id: true } })))
    throw new DomainError("Choose an existing Generic HTTP Signal Source", 400, "corePlatformId");
  if (conditions?.deviceRoleIds.length) {
    const found = await db.deviceRole.count({ where: { id: { in: conditions.deviceRoleIds } } });
    if (found !== new Set(conditions.deviceRoleIds).size) throw new DomainError("Choose existing Device Roles", 400, "deviceRoleIds");
    conditions.deviceRoleIds = [...new Set(conditions.deviceRoleIds)];
  }
  return { basic, settings, conditions };
}

function auditView(s: SecuritySignalSource, corePlatformName: string | null) {
  return {
    name: s.name,
    description: s.description,
    lookupPurpose: lookupPurposeLabel(s.lookupPurpose),
    identityProviderLookup: corePlatformName,
    identity: identityLabel(s.identityType, s.identityAttribute),
    revokeOnFailure: s.revokeOnFailure,
    deviceRoleIds: s.deviceRoleIds,
  };
}

/** "Add Security Signal Source", then "Save" (Basic: name, description, Lookup Purpose). */
export async function createSignalSource(db: Db, actor: Actor, input: unknown): Promise<SignalSourceView> {
  await assertCanWrite(db, actor, "create security signal sources");
  const { basic, settings, conditions } = await parseTabs(db, null, asRecord(input));
  await assertNameFree(db, basic!.name);
  return inTransaction(db, async (tx) => {
    const s = await tx.securitySignalSource.create({
      data: { ...(basic as { name: string; description: string; lookupPurpose: string }), ...settings, ...conditions },
      include,
    });
    await recordEvent(tx, {
      type: EventType.PolicyCreated,
      outcome: "success",
      actor,
      object: { type: "security-signal-source", id: s.id, name: s.name },
      summary: `Security Signal Source "${s.name}" (${lookupPurposeLabel(s.lookupPurpose)}) created`,
      details: auditView(s, s.corePlatform?.name ?? null),
    });
    return s;
  });
}

/** "Update": Basic, Conditions and Settings fields, whichever are sent. */
export async function updateSignalSource(db: Db, actor: Actor, id: string, input: unknown): Promise<SignalSourceView> {
  await assertCanWrite(db, actor, "change security signal sources");
  const current = await getSignalSource(db, id);
  const fields = asRecord(input);
  if (fields.lookupPurpose !== undefined && fields.lookupPurpose !== current.lookupPurpose)
    throw new DomainError("The Lookup Purpose cannot be changed: add another Security Signal Source", 400, "lookupPurpose");
  const { basic, settings, conditions } = await parseTabs(db, current, fields);
  if (!basic && !settings && !conditions) throw new DomainError("Nothing to update", 400);
  if (basic) await assertNameFree(db, basic.name, id);
  const before = auditView(current, current.corePlatform?.name ?? null);
  return inTransaction(db, async (tx) => {
    const s = await tx.securitySignalSource.update({ where: { id }, data: { ...basic, ...settings, ...conditions }, include });
    const after = auditView(s, s.corePlatform?.name ?? null);
    const changed = (Object.keys(after) as (keyof typeof after)[]).filter((k) => JSON.stringify(after[k]) !== JSON.stringify(before[k]));
    await recordEvent(tx, {
      type: EventType.PolicyUpdated,
      outcome: "success",
      actor,
      object: { type: "security-signal-source", id, name: s.name },
      summary: `Security Signal Source "${s.name}" updated${changedText(changed)}`,
      details: { changed, before: Object.fromEntries(changed.map((k) => [k, before[k]])), after: Object.fromEntries(changed.map((k) => [k, after[k]])) },
    });
    return s;
  });
}

/**
 * Which Enrollment Policies look devices up through this source. Nothing names a source: a policy uses
 * the Certificate Issuance source of its Role's Core Provider and its Device Role (pickSignalSource, as
 * at enrollment), so this is worked out, not stored.
 */
export async function signalSourceUsage(db: Db, id: string): Promise<string[]> {
  const s = await getSignalSource(db, id);
  if (s.lookupPurpose !== "certificate-issuance" || !s.corePlatformId) return [];
  const [sources, policies] = await Promise.all([
    db.securitySignalSource.findMany({ where: { lookupPurpose: "certificate-issuance", corePlatformId: s.corePlatformId } }),
    db.enrollmentPolicy.findMany({
      where: { policyWorkflow: { corePlatformId: s.corePlatformId } },
      orderBy: [{ priority: "asc" }, { name: "asc" }],
      select: { name: true, deviceRoleId: true },
    }),
  ]);
  return policies.filter((p) => pickSignalSource(sources, s.corePlatformId!, p.deviceRoleId)?.id === id).map((p) => `Enrollment Policy "${p.name}"`);
}

/** Nothing names a Security Signal Source, so it can always be deleted: its policies then use the defaults. */
export async function deleteSignalSource(db: Db, actor: Actor, id: string): Promise<void> {
  await assertCanWrite(db, actor, "delete security signal sources");
  const s = await getSignalSource(db, id);
  await inTransaction(db, async (tx) => {
    await tx.securitySignalSource.delete({ where: { id } });
    await recordEvent(tx, {
      type: EventType.PolicyDeleted,
      outcome: "success",
      actor,
      object: { type: "security-signal-source", id, name: s.name },
      summary: `Security Signal Source "${s.name}" deleted`,
    });
  });
}

/**
 * "Validate Configuration": looks the typed identity up through the chosen Identity Provider Lookup
 * (the unsaved Settings count), placing it where the configured Identity would put it, so rules that
 * use ${/attestation/serialNumber} and the like work as at enrollment.
 */
export async function validateSignalSource(db: Db, actor: Actor, id: string, input: unknown): Promise<ValidationReport> {
  await assertCanWrite(db, actor, "validate security signal sources");
  const current = await getSignalSource(db, id);
  const fields = asRecord(input);
  const c = new IssueCollector();
  const typed = c.parse(validateIdentitySchema, fields);
  // The unsaved Settings, when sent (the page sends them all), must be valid to be tried.
  const settings = hasAny(fields, SETTINGS)
    ? c.parse(signalSourceSettingsSchema(current.lookupPurpose as LookupPurpose), {
        corePlatformId: fields.corePlatformId ?? current.corePlatformId,
        identityType: fields.identityType ?? current.identityType,
        identityAttribute: fields.identityAttribute ?? current.identityAttribute,
        revokeOnFailure: false,
      })
    : undefined;
  c.throwIfAny();
  const corePlatformId = settings?.corePlatformId ?? current.corePlatformId;
  if (!corePlatformId) throw new DomainError("Choose an Identity Provider Lookup first", 400, "corePlatformId");
  const row = await db.corePlatform.findUnique({ where: { id: corePlatformId } });
  if (!row) throw new DomainError("Choose an existing Generic HTTP Signal Source", 400, "corePlatformId");
  const attribute = settings?.identityAttribute ?? current.identityAttribute;
  const config = storedLookupConfig(row);
  const result = await validateLookup(
    db,
    actor,
    row,
    {
      config,
      identity: typed!.identity,
      context: contextWith(attribute, typed!.identity),
      options: { includeResponse: true, identityVariables: identityVariables(attribute) },
    },
    config.secret ? "saved" : "none",
  );
  return {
    ...result,
    identity: typed!.identity,
    identityFrom: `typed, as ${attribute}`,
    corePlatform: { id: row.id, name: row.name },
    pinned: rulesPinIdentity(config.validationRules, identityVariables(attribute)),
  };
}
