import { randomUUID } from "node:crypto";
import type { CorePlatform, Db, Prisma } from "@attested/db";
import { EventType, inTransaction, recordEvent, type Actor } from "@attested/events";
import { assertCanWrite } from "@attested/identity";
import {
  allowHttpFromEnv,
  applyPreset,
  type PresetList,
  isPresetId,
  PRESETS,
  attributeMappingTabSchema,
  createApiTabSchema,
  createConfigurationTabSchema,
  createInventorySchema,
  lookupConfigFromRecord,
  lookupDevice,
  rulesPinIdentity,
  sealCorePlatformSecret,
  uriOrigin,
  AUTH_METHOD_LABELS,
  SECRET_LABELS,
  type AttributeMapping,
  type AuthMethod,
  type LookupConfig,
  type ListPaging,
  type LookupResult,
  type ValidationRule,
} from "@attested/integrations";
import { DomainError, NotFoundError } from "@attested/errors";
import { notePlatformAnswer } from "@attested/lifecycle";
import { MasterKeyError } from "@attested/secrets";
import { asRecord, hasAny, isUuid, IssueCollector, redactUri, usedByMessage, changedText } from "./common";
import { contextWith, identityVariables } from "./context";
import { corePlatformBasicSchema, corePlatformRenameSchema } from "./schemas";

// Integration Hub > Core Platforms: a Generic HTTP signal source (e.g. Kandji's device API). Basic is
// saved first; then the Configuration, API, Attribute Mapping and Groups tabs are updated together.
// The secret (bearer token, password or API key) is sealed at rest, bound to the row, never
// returned: views carry `hasSecret` instead.

export type CorePlatformView = Pick<
  CorePlatform,
  | "id"
  | "name"
  | "description"
  | "type"
  | "authMethod"
  | "basicUsername"
  | "apiKeyHeader"
  | "uri"
  | "groupsPath"
  | "timeoutMs"
  | "listUri"
  | "listPaging"
  | "listItemsPath"
  | "listSerialPath"
  | "listPageSize"
  | "oauthTokenUrl"
  | "oauthClientId"
  | "oauthScope"
  | "createdAt"
  | "updatedAt"
> & {
  hasSecret: boolean;
  validationRules: ValidationRule[];
  attributeMappings: AttributeMapping[];
  /** Set while the MDM refuses the platform's credentials (see @attested/lifecycle platform-alerts). */
  alert: { since: Date; reason: string } | null;
};

/** The platform as shown, field by field: a column added later stays out until it is named here. */
export function toCorePlatformView(row: CorePlatform): CorePlatformView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    type: row.type,
    authMethod: row.authMethod,
    hasSecret: !!row.secret && row.secret.length > 0,
    basicUsername: row.basicUsername,
    apiKeyHeader: row.apiKeyHeader,
    oauthTokenUrl: row.oauthTokenUrl,
    oauthClientId: row.oauthClientId,
    oauthScope: row.oauthScope,
    uri: row.uri,
    validationRules: (Array.isArray(row.validationRules) ? row.validationRules : []) as unknown as ValidationRule[],
    timeoutMs: row.timeoutMs,
    attributeMappings: (Array.isArray(row.attributeMappings) ? row.attributeMappings : []) as unknown as AttributeMapping[],
    groupsPath: row.groupsPath,
    alert: row.alertSince ? { since: row.alertSince, reason: row.alertReason ?? "" } : null,
    listUri: row.listUri,
    listPaging: row.listPaging,
    listItemsPath: row.listItemsPath,
    listSerialPath: row.listSerialPath,
    listPageSize: row.listPageSize,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const BASIC = ["name", "description"] as const;
const CONFIGURATION = ["authMethod", "secret", "basicUsername", "apiKeyHeader", "oauthTokenUrl", "oauthClientId", "oauthScope"] as const;
const API = ["uri", "validationRules", "timeoutMs"] as const;
const MAPPING = ["attributeMappings", "groupsPath"] as const;
const INVENTORY = ["listUri", "listPaging", "listItemsPath", "listSerialPath", "listPageSize"] as const;

export const listCorePlatforms = async (db: Db): Promise<CorePlatformView[]> =>
  (await db.corePlatform.findMany({ orderBy: { name: "asc" } })).map(toCorePlatformView);

async function getRow(db: Db, id: string): Promise<CorePlatform> {
  const row = isUuid(id) ? await db.corePlatform.findUnique({ where: { id } }) : null;
  if (!row) throw new NotFoundError("Core Platform");
  return row;
}

export const getCorePlatform = async (db: Db, id: string): Promise<CorePlatformView> => toCorePlatformView(await getRow(db, id));

async function assertNameFree(db: Db, name: string, exceptId?: string) {
  const other = await db.corePlatform.findUnique({ where: { name }, select: { id: true } });
  if (other && other.id !== exceptId) throw new DomainError("A Core Platform with this name already exists", 409, "name");
}

interface TabValues {
  authMethod: AuthMethod;
  basicUsername: string | null;
  apiKeyHeader: string | null;
  oauthTokenUrl: string | null;
  oauthClientId: string | null;
  oauthScope: string | null;
  uri: string;
  validationRules: ValidationRule[];
  timeoutMs: number;
  attributeMappings: AttributeMapping[];
  groupsPath: string | null;
  listUri: string | null;
  listPaging: ListPaging | null;
  listItemsPath: string | null;
  listSerialPath: string | null;
  listPageSize: number;
}

interface Plan {
  values: Partial<TabValues>;
  /** New plaintext secret, undefined to keep, null to clear. */
  secret?: string | null;
  tabs: string[];
}

/** Validates the tabs present in `input`, each merged over the stored values. */
function planTabs(c: IssueCollector, current: CorePlatform | null, input: Record<string, unknown>): Plan {
  const plan: Plan = { values: {}, tabs: [] };
  const cur = current ? toCorePlatformView(current) : null;
  if (hasAny(input, CONFIGURATION)) {
    const authMethod = (input.authMethod ?? cur?.authMethod ?? "none") as string;
    // A stored secret belongs to its method: switching from Bearer Token to Basic needs a password.
    const secretStored = !!cur?.hasSecret && authMethod === cur.authMethod;
    const secret = typeof input.secret === "string" && input.secret !== "" ? input.secret : null;
    const pick = (k: "basicUsername" | "apiKeyHeader" | "oauthTokenUrl" | "oauthClientId" | "oauthScope") =>
      input[k] !== undefined ? input[k] : (cur?.[k] ?? null);
    const v = c.parse(createConfigurationTabSchema({ secretStored }), {
      authMethod,
      secret,
      basicUsername: pick("basicUsername"),
      apiKeyHeader: pick("apiKeyHeader"),
      oauthTokenUrl: pick("oauthTokenUrl"),
      oauthClientId: pick("oauthClientId"),
      oauthScope: pick("oauthScope"),
    });
    if (v) {
      const oauth = v.authMethod === "oauth2";
      plan.values.authMethod = v.authMethod;
      plan.values.basicUsername = v.authMethod === "basic" ? (v.basicUsername ?? null) : null;
      plan.values.apiKeyHeader = v.authMethod === "api-key" ? (v.apiKeyHeader ?? null) : null;
      plan.values.oauthTokenUrl = oauth ? (v.oauthTokenUrl ?? null) : null;
      plan.values.oauthClientId = oauth ? (v.oauthClientId ?? null) : null;
      plan.values.oauthScope = oauth ? v.oauthScope || null : null;
      if (v.authMethod === "none") plan.secret = cur?.hasSecret ? null : undefined;
      else if (v.secret) plan.secret = v.secret;
      plan.tabs.push("Configuration");
    }
  }
  if (hasAny(input, API)) {
    const v = c.parse(createApiTabSchema({ allowHttp: allowHttpFromEnv() }), {
      uri: input.uri ?? cur?.uri ?? "",
      validationRules: input.validationRules ?? cur?.validationRules ?? [],
      timeoutMs: input.timeoutMs === "" ? undefined : (input.timeoutMs ?? cur?.timeoutMs),
    });
    if (v) {
      Object.assign(plan.values, { uri: v.uri, validationRules: v.validationRules, timeoutMs: v.timeoutMs });
      plan.tabs.push("API");
    }
  }
  // A stored credential is sent only to the origin it was saved for: a new scheme, host or port needs it again.
  const storedOrigin = cur?.hasSecret ? uriOrigin(cur.uri) : null;
  const method = (plan.values.authMethod ?? cur?.authMethod ?? "none") as AuthMethod;
  if (storedOrigin && plan.secret === undefined && SECRET_LABELS[method] && plan.values.uri && uriOrigin(plan.values.uri) !== storedOrigin) {
    c.add("secret", `${SECRET_LABELS[method]} is required again: the saved one is only sent to ${storedOrigin}`);
  }
  if (hasAny(input, INVENTORY)) {
    const pick = (k: (typeof INVENTORY)[number]) => (input[k] !== undefined ? input[k] : (cur?.[k] ?? null));
    const v = c.parse(createInventorySchema({ allowHttp: allowHttpFromEnv() }), {
      listUri: pick("listUri"),
      listPaging: pick("listPaging"),
      listItemsPath: pick("listItemsPath"),
      listSerialPath: pick("listSerialPath"),
      listPageSize: input.listPageSize === "" ? undefined : (input.listPageSize ?? cur?.listPageSize),
    });
    if (v) {
      const on = !!v.listUri;
      Object.assign(plan.values, {
        listUri: v.listUri ?? null,
        listPaging: on ? (v.listPaging ?? null) : null,
        listItemsPath: on ? (v.listItemsPath ?? null) : null,
        listSerialPath: on ? (v.listSerialPath ?? null) : null,
        listPageSize: v.listPageSize,
      });
      if (!plan.tabs.includes("Configuration")) plan.tabs.push("Configuration");
    }
  }
  // The List URI is sent the same credential: only where the URI sends it (checked when either changes).
  const listUri = plan.values.listUri !== undefined ? plan.values.listUri : (cur?.listUri ?? null);
  const uri = plan.values.uri ?? cur?.uri ?? "";
  if (listUri && (plan.values.listUri !== undefined || plan.values.uri !== undefined) && uriOrigin(listUri) !== uriOrigin(uri)) {
    c.add("listUri", `List URI must be on the same scheme, host and port as the URI (${uriOrigin(uri) ?? "no URI set"})`);
  }
  // Likewise the client secret goes to the token URL: a new token origin needs it typed again.
  const storedTokenOrigin = cur?.hasSecret && cur.authMethod === "oauth2" && cur.oauthTokenUrl ? uriOrigin(cur.oauthTokenUrl) : null;
  if (
    storedTokenOrigin &&
    plan.secret === undefined &&
    method === "oauth2" &&
    plan.values.oauthTokenUrl &&
    uriOrigin(plan.values.oauthTokenUrl) !== storedTokenOrigin
  ) {
    c.add("secret", `Client Secret is required again: the saved one is only sent to ${storedTokenOrigin}`);
  }
  if (hasAny(input, MAPPING)) {
    const v = c.parse(attributeMappingTabSchema, {
      attributeMappings: input.attributeMappings ?? cur?.attributeMappings ?? [],
      groupsPath: input.groupsPath !== undefined ? input.groupsPath : (cur?.groupsPath ?? null),
    });
    if (v) {
      Object.assign(plan.values, { attributeMappings: v.attributeMappings, groupsPath: v.groupsPath ?? null });
      plan.tabs.push("Attribute Mapping", "Groups");
    }
  }
  return plan;
}

function rowData(plan: Plan, id: string) {
  const data: Prisma.CorePlatformUncheckedUpdateInput = { ...plan.values } as Prisma.CorePlatformUncheckedUpdateInput;
  if (plan.values.validationRules) data.validationRules = plan.values.validationRules as unknown as Prisma.InputJsonValue;
  if (plan.values.attributeMappings) data.attributeMappings = plan.values.attributeMappings as unknown as Prisma.InputJsonValue;
  if (plan.secret === null) data.secret = null;
  else if (plan.secret !== undefined) data.secret = sealCorePlatformSecret(plan.secret, id);
  return data;
}

/** What the trail shows of a platform's settings: never the secret, URI credentials redacted. */
function auditView(v: CorePlatformView) {
  return {
    name: v.name,
    description: v.description,
    authMethod: AUTH_METHOD_LABELS[v.authMethod as AuthMethod] ?? v.authMethod,
    credentialStored: v.hasSecret,
    basicUsername: v.basicUsername,
    apiKeyHeader: v.apiKeyHeader,
    oauthTokenUrl: v.oauthTokenUrl ? redactUri(v.oauthTokenUrl) : null,
    oauthClientId: v.oauthClientId,
    oauthScope: v.oauthScope,
    uri: redactUri(v.uri),
    validationRules: v.validationRules,
    timeoutMs: v.timeoutMs,
    attributeMappings: v.attributeMappings,
    groupsPath: v.groupsPath,
    listUri: v.listUri ? redactUri(v.listUri) : null,
    listPaging: v.listPaging,
    listItemsPath: v.listItemsPath,
    listSerialPath: v.listSerialPath,
    listPageSize: v.listPageSize,
  };
}

/**
 * A preset (Kandji, Jamf Pro, Intune) fills the Configuration method, API and Attribute Mapping tabs
 * from the tenant's address; fields sent explicitly win. Unknown preset: a field error.
 */
function expandPreset(c: IssueCollector, fields: Record<string, unknown>): Record<string, unknown> {
  const preset = fields.preset;
  if (preset === undefined || preset === null || preset === "") return fields;
  if (!isPresetId(preset)) {
    c.add(
      "preset",
      `Preset must be one of ${Object.values(PRESETS)
        .map((p) => p.label)
        .join(", ")}`,
    );
    return fields;
  }
  const str = (k: string) => (typeof fields[k] === "string" ? (fields[k] as string) : null);
  const r = applyPreset(preset, { tenantUrl: str("tenantUrl"), tenantId: str("tenantId"), graphUrl: str("graphUrl"), loginUrl: str("loginUrl") });
  if (!r.ok) {
    for (const [k, m] of Object.entries(r.errors)) c.add(k, m);
    return fields;
  }
  const given = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined && v !== ""));
  return { ...r.config, ...inventoryFields(r.list), ...given };
}

/** A preset's fleet list as the Configuration tab's Fleet Inventory fields (paths rooted at `data`). */
function inventoryFields(list: PresetList) {
  const paging = { offset: "offset-limit", page: "page-size", nextLink: "next-link" } as const;
  const rooted = (path: string) => (path === "data" || path.startsWith("data.") || path.startsWith("data[") ? path : `data.${path}`);
  const pageSize = "pageSize" in list && typeof list.pageSize === "number" ? list.pageSize : undefined;
  return {
    listUri: list.uri,
    listPaging: paging[list.paging],
    listItemsPath: rooted(list.itemsPath),
    listSerialPath: rooted(list.serialPath),
    ...(pageSize ? { listPageSize: pageSize } : {}),
  };
}

/** "Add", then "Save" (Basic). REST callers may send the other tabs' fields at once; a preset fills them. */
export async function createCorePlatform(db: Db, actor: Actor, input: unknown): Promise<CorePlatformView> {
  await assertCanWrite(db, actor, "create core platforms");
  const c = new IssueCollector();
  const fields = expandPreset(c, asRecord(input));
  const basic = c.parse(corePlatformBasicSchema, fields);
  const plan = planTabs(c, null, fields);
  c.throwIfAny();
  await assertNameFree(db, basic!.name);
  const id = randomUUID();
  return inTransaction(db, async (tx) => {
    const row = await tx.corePlatform.create({
      data: {
        ...(rowData(plan, id) as Omit<Prisma.CorePlatformUncheckedCreateInput, "name">),
        id,
        name: basic!.name,
        description: basic!.description,
        type: basic!.type,
      },
    });
    const view = toCorePlatformView(row);
    await recordEvent(tx, {
      type: EventType.CorePlatformCreated,
      outcome: "success",
      actor,
      object: { type: "core-platform", id, name: row.name },
      summary: `Core Platform "${row.name}" (Generic HTTP${isPresetId(fields.preset) ? `, ${PRESETS[fields.preset].label} preset` : ""}) created`,
      details: { type: "Generic HTTP", ...(isPresetId(fields.preset) ? { preset: PRESETS[fields.preset].label } : {}), ...auditView(view) },
    });
    return view;
  });
}

/** "Update": saves the Basic fields and any of the Configuration, API, Attribute Mapping and Groups tabs sent. */
export async function updateCorePlatform(db: Db, actor: Actor, id: string, input: unknown): Promise<CorePlatformView> {
  await assertCanWrite(db, actor, "change core platforms");
  const current = await getRow(db, id);
  const fields = asRecord(input);
  const c = new IssueCollector();
  const basic = hasAny(fields, BASIC)
    ? c.parse(corePlatformRenameSchema, { name: fields.name ?? current.name, description: fields.description ?? current.description })
    : undefined;
  const plan = planTabs(c, current, fields);
  c.throwIfAny();
  if (!basic && plan.tabs.length === 0) throw new DomainError("Nothing to update: send the fields of at least one tab", 400);
  if (basic) await assertNameFree(db, basic.name, id);
  const before = auditView(toCorePlatformView(current));
  return inTransaction(db, async (tx) => {
    const row = await tx.corePlatform.update({ where: { id }, data: { ...(basic ?? {}), ...rowData(plan, id) } });
    const view = toCorePlatformView(row);
    const after = auditView(view);
    const changed = (Object.keys(after) as (keyof typeof after)[]).filter((k) => JSON.stringify(after[k]) !== JSON.stringify(before[k]));
    const credentialReplaced = typeof plan.secret === "string";
    await recordEvent(tx, {
      type: EventType.CorePlatformUpdated,
      outcome: "success",
      actor,
      object: { type: "core-platform", id, name: row.name },
      summary: `Core Platform "${row.name}" updated${changedText(
        changed.filter((k) => k !== "credentialStored" || !credentialReplaced),
        credentialReplaced ? ["credential replaced"] : [],
      )}`,
      details: {
        changed,
        credentialReplaced,
        before: Object.fromEntries(changed.map((k) => [k, before[k]])),
        after: Object.fromEntries(changed.map((k) => [k, after[k]])),
      },
    });
    return view;
  });
}

/** Where a Core Platform is used; an object in use cannot be deleted. */
export async function corePlatformUsage(db: Db, id: string): Promise<string[]> {
  const [sources, workflows, publishers] = await Promise.all([
    db.securitySignalSource.findMany({ where: { corePlatformId: id }, select: { name: true }, orderBy: { name: "asc" } }),
    db.policyWorkflow.findMany({ where: { corePlatformId: id }, select: { name: true }, orderBy: { name: "asc" } }),
    db.deviceManagementPlatform.findMany({ where: { publishCorePlatformId: id }, select: { name: true }, orderBy: { name: "asc" } }),
  ]);
  return [
    ...sources.map((s) => `Security Signal Source "${s.name}"`),
    ...workflows.map((w) => `Policy Workflow "${w.name}"`),
    ...publishers.map((p) => `Device Management Platform "${p.name}" (Publish to Kandji)`),
  ];
}

export async function deleteCorePlatform(db: Db, actor: Actor, id: string): Promise<void> {
  await assertCanWrite(db, actor, "delete core platforms");
  const row = await getRow(db, id);
  const usage = await corePlatformUsage(db, id);
  if (usage.length) throw new DomainError(usedByMessage(`Core Platform "${row.name}"`, usage), 409);
  await inTransaction(db, async (tx) => {
    await tx.corePlatform.delete({ where: { id } });
    await recordEvent(tx, {
      type: EventType.CorePlatformDeleted,
      outcome: "success",
      actor,
      object: { type: "core-platform", id, name: row.name },
      summary: `Core Platform "${row.name}" deleted`,
    });
  });
}

/** The stored lookup configuration with the secret opened; a secret that cannot be opened is a local fault. */
export function storedLookupConfig(row: CorePlatform): LookupConfig {
  try {
    return lookupConfigFromRecord(row);
  } catch (e) {
    if (e instanceof MasterKeyError)
      throw new DomainError(`The stored credential of "${row.name}" cannot be opened (was the master key changed?): enter it again`, 422, "secret");
    throw e;
  }
}

/**
 * Validate makes a real call with a credential: the trail says who sent it, to which origin, whether the
 * credential was the saved one or one typed for this call, and what came back.
 */
export async function validateLookup(
  db: Db,
  actor: Actor,
  row: Pick<CorePlatform, "id" | "name">,
  args: Parameters<typeof lookupDevice>[0],
  credential: "saved" | "typed" | "none",
): Promise<LookupResult> {
  const result = await lookupDevice(args);
  const destination = uriOrigin(args.config.uri);
  // Only the saved credential speaks for the platform's alert: a typed one is not yet what lookups use.
  if (credential !== "typed") {
    const current = await db.corePlatform.findUnique({ where: { id: row.id }, select: { alertSince: true } });
    if (current) await notePlatformAnswer(db, { ...row, alertSince: current.alertSince }, result, `${actor.name ?? "an admin"} validated it`);
  }
  await recordEvent(db, {
    type: EventType.CorePlatformValidated,
    outcome: result.outcome === "found" ? "success" : "failure",
    actor,
    object: { type: "core-platform", id: row.id, name: row.name },
    summary: `Core Platform "${row.name}" validated against ${destination}: ${result.reason}`,
    details: { destination, identity: args.identity, credential, outcome: result.outcome, status: result.status ?? null, reason: result.reason },
  });
  return result;
}

export interface ValidationReport extends LookupResult {
  identity: string;
  /** Where the identity came from: typed, or the Expected result of a rule (the guide's flow). */
  identityFrom: string;
  corePlatform: { id: string; name: string };
  /** Whether a rule ties the response to the identity exactly (else the page warns). */
  pinned: boolean;
}

/**
 * "Validate": one real call with the form's unsaved values merged over the stored ones, showing
 * status, time, every rule's result and the mapped attributes. Admins only: it sends the stored
 * credential to whatever URI the unsaved form names.
 */
export async function validateCorePlatform(db: Db, actor: Actor, id: string, input: unknown): Promise<ValidationReport> {
  await assertCanWrite(db, actor, "validate core platforms");
  const row = await getRow(db, id);
  const fields = asRecord(input);
  const c = new IssueCollector();
  const plan = planTabs(c, row, fields);
  c.throwIfAny();
  const stored = storedLookupConfig(row);
  const config: LookupConfig = {
    ...stored,
    ...plan.values,
    secret: plan.secret === undefined ? stored.secret : plan.secret,
  };
  let identity = typeof fields.identity === "string" ? fields.identity.trim() : "";
  let identityFrom = "typed";
  if (!identity) {
    // The guide puts a valid serial number in a rule's Expected result, then clicks Validate.
    const i = config.validationRules.findIndex((r) => r.expected && !r.expected.includes("${"));
    if (i >= 0) {
      identity = config.validationRules[i]!.expected!.trim();
      identityFrom = `Expected result of rule ${i + 1}`;
    }
  }
  if (!identity)
    throw new DomainError("Enter an identity to validate with (e.g. a device serial number), or a serial number as a rule's Expected result", 400, "identity");
  if (identity.length > 256) throw new DomainError("The identity is at most 256 characters", 400, "identity");
  const credential = !config.secret ? "none" : plan.secret ? "typed" : "saved";
  const result = await validateLookup(
    db,
    actor,
    row,
    {
      config,
      identity,
      context: contextWith("/attestation/serialNumber", identity),
      options: { includeResponse: true, identityVariables: identityVariables("/attestation/serialNumber") },
    },
    credential,
  );
  return {
    ...result,
    identity,
    identityFrom,
    corePlatform: { id: row.id, name: row.name },
    pinned: rulesPinIdentity(config.validationRules, identityVariables("/attestation/serialNumber")),
  };
}

/**
 * Certificate Template "Preview for a real device": one lookup of `serial` through a saved Core
 * Platform, as enrollment makes it (the serial as the identity). Admins only, like Validate: it sends
 * the stored credential; the trail records the call. Answers the mapped attributes (`/device`).
 */
export async function lookupDeviceForPreview(db: Db, actor: Actor, corePlatformId: string, serial: string): Promise<ValidationReport> {
  await assertCanWrite(db, actor, "look devices up");
  if (!corePlatformId) throw new DomainError("Choose the Core Platform to look the device up in", 400, "corePlatformId");
  const identity = serial.trim();
  if (!identity) throw new DomainError("Enter the serial number of a device the Core Platform knows", 400, "serial");
  if (identity.length > 256) throw new DomainError("The serial number is at most 256 characters", 400, "serial");
  const row = await getRow(db, corePlatformId);
  const config = storedLookupConfig(row);
  const attribute = "/attestation/serialNumber";
  const result = await validateLookup(
    db,
    actor,
    row,
    { config, identity, context: contextWith(attribute, identity), options: { identityVariables: identityVariables(attribute) } },
    config.secret ? "saved" : "none",
  );
  return {
    ...result,
    identity,
    identityFrom: "typed",
    corePlatform: { id: row.id, name: row.name },
    pinned: rulesPinIdentity(config.validationRules, identityVariables(attribute)),
  };
}
