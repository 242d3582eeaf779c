import { randomUUID } from "node:crypto";
import { z } from "zod";
import {
  blueprintInputSchema,
  buildDevice,
  deviceInputSchema,
  devicePatchSchema,
  seedSchema,
  type Blueprint,
  type BlueprintInput,
  type DeviceInput,
  type DevicePatch,
  type KandjiDevice,
  type Seed,
  type SimDevice,
} from "./model";
import { queryDevices } from "./query";

/** Kandji's documented default: 10,000 requests an hour (docs/kandji.md#errors-and-rate-limit). */
export const KANDJI_RATE_LIMIT: RateLimit = { requests: 10_000, windowMs: 3_600_000 };

export interface RateLimit {
  requests: number;
  windowMs: number;
}

export interface Faults {
  /** Added before every /api response. */
  latencyMs: number;
  /** Accept requests and never answer them (until the client gives up or the simulator closes). */
  stall: boolean;
  /** Answer /api requests with this status (e.g. 500, 502, 503) instead of serving them. */
  errorStatus: number | null;
  /** How many requests still get errorStatus; null = until cleared. */
  errorCount: number | null;
}

export const NO_FAULTS: Faults = Object.freeze({ latencyMs: 0, stall: false, errorStatus: null, errorCount: null });

export const faultsPatchSchema = z
  .object({
    latencyMs: z.number().int().min(0).max(600_000),
    stall: z.boolean(),
    errorStatus: z.number().int().min(400).max(599).nullable(),
    errorCount: z.number().int().min(1).nullable(),
    rateLimit: z.object({ requests: z.number().int().min(1), windowMs: z.number().int().min(1) }),
  })
  .partial()
  .strict();
export type FaultsPatch = z.input<typeof faultsPatchSchema>;

export interface RequestLogEntry {
  time: string;
  method: string;
  path: string;
  query: Record<string, string>;
  /** Whether the Authorization header held the right token (the token itself is never logged). */
  authorized: boolean;
  status: number | "stalled";
}

/** Invalid admin input: carries the HTTP status the admin API answers with. */
export class SimInputError extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
    readonly issues?: unknown,
  ) {
    super(message);
  }
}

function parse<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const r = schema.safeParse(input);
  if (!r.success) throw new SimInputError(400, "invalid input", z.flattenError(r.error as z.ZodError));
  return r.data;
}

const REQUEST_LOG_SIZE = 200;

/** A Library custom profile as Kandji's API returns it (GET /api/v1/library/custom-profiles/{id}). */
export interface CustomProfile {
  id: string;
  name: string;
  active: boolean;
  profile: string;
  mdm_identifier: string;
  runs_on_mac: boolean;
  runs_on_iphone: boolean;
  runs_on_ipad: boolean;
  runs_on_tv: boolean;
  runs_on_vision: boolean;
  created_at: string;
  updated_at: string;
}

/** The fields of a create (all but `active` and runs_on_* required) or an update (all optional). */
export interface CustomProfileFields {
  name?: string;
  file?: string;
  active?: string;
  runsOn: Partial<Record<"mac" | "iphone" | "ipad" | "tv" | "vision", string>>;
}

/** Kandji answers bad input as Django REST framework does: 400 with the field's messages. */
export class KandjiValidationError extends Error {
  constructor(readonly fields: Record<string, string[]> | string) {
    super(typeof fields === "string" ? fields : JSON.stringify(fields));
  }
}

const BOOLEAN = /^(true|false|1|0|yes|no|on|off)$/i;
const asBool = (v: string) => /^(true|1|yes|on)$/i.test(v);

/** Everything the simulated tenant holds; mutate it directly in tests or through the admin API. */
export class SimulatorState {
  token: string;
  rateLimit: RateLimit;
  faults: Faults = { ...NO_FAULTS };
  readonly requests: RequestLogEntry[] = [];
  private readonly devices = new Map<string, SimDevice>();
  private readonly blueprints = new Map<string, Blueprint>();
  private readonly tagIds = new Map<string, string>();
  private readonly profiles = new Map<string, CustomProfile>();
  /** Library items assigned to each blueprint (by blueprint id). */
  private readonly assignments = new Map<string, string[]>();
  private hits: number[] = [];

  constructor(opts: { token: string; rateLimit?: RateLimit }) {
    this.token = opts.token;
    this.rateLimit = opts.rateLimit ?? { ...KANDJI_RATE_LIMIT };
  }

  // ------------------------------------------------------------------ blueprints

  addBlueprint(input: BlueprintInput): Blueprint {
    const b = parse(blueprintInputSchema, input);
    if (b.id && this.blueprints.has(b.id)) throw new SimInputError(409, `blueprint ${b.id} exists`);
    if (this.blueprintByName(b.name)) throw new SimInputError(409, `blueprint "${b.name}" exists`);
    const bp = { id: b.id ?? randomUUID(), name: b.name };
    this.blueprints.set(bp.id, bp);
    return bp;
  }

  listBlueprints(): Blueprint[] {
    return [...this.blueprints.values()].map((b) => ({ ...b }));
  }

  /** Refuses while devices are assigned, as a tenant cannot delete a blueprint in use. */
  removeBlueprint(idOrName: string): boolean {
    const bp = this.blueprints.get(idOrName) ?? this.blueprintByName(idOrName);
    if (!bp) return false;
    const used = [...this.devices.values()].filter((d) => d.record.blueprint_id === bp.id).length;
    if (used > 0) throw new SimInputError(409, `blueprint "${bp.name}" has ${used} device(s)`);
    return this.blueprints.delete(bp.id);
  }

  private blueprintByName(name: string): Blueprint | undefined {
    return [...this.blueprints.values()].find((b) => b.name === name);
  }

  /** By id (must exist), else by name (created on first use), else the "Default" blueprint. */
  private resolveBlueprint(id: string | undefined, name: string | undefined): Blueprint {
    if (id) {
      const bp = this.blueprints.get(id);
      if (!bp) throw new SimInputError(400, `unknown blueprint_id ${id}`);
      if (name !== undefined && name !== bp.name) throw new SimInputError(400, `blueprint_id ${id} is named "${bp.name}"`);
      return bp;
    }
    const wanted = name ?? "Default";
    return this.blueprintByName(wanted) ?? this.addBlueprint({ name: wanted });
  }

  // ------------------------------------------------------------------ devices

  addDevice(input: DeviceInput): KandjiDevice {
    const d = parse(deviceInputSchema, input);
    if (d.device_id && this.devices.has(d.device_id)) throw new SimInputError(409, `device ${d.device_id} exists`);
    const dev = buildDevice(d, this.resolveBlueprint(d.blueprint_id, d.blueprint_name));
    this.devices.set(dev.record.device_id, dev);
    this.registerTags(dev.record.tags);
    return structuredClone(dev.record);
  }

  updateDevice(idOrSerial: string, patch: DevicePatch): KandjiDevice {
    const dev = this.findOne(idOrSerial);
    const p = parse(devicePatchSchema, patch);
    const { blueprint_id, blueprint_name, user, mac_address, udid, model_identifier, filevault_enabled, supervised, ...rest } = p;
    if (blueprint_id !== undefined || blueprint_name !== undefined) {
      const bp = this.resolveBlueprint(blueprint_id, blueprint_name);
      dev.record.blueprint_id = bp.id;
      dev.record.blueprint_name = bp.name;
    }
    if (user !== undefined) {
      dev.record.user = user === "" ? "" : { email: user.email, id: user.id ?? randomUUID(), is_archived: user.is_archived, name: user.name };
    }
    for (const [k, v] of Object.entries(rest)) if (v !== undefined) (dev.record as unknown as Record<string, unknown>)[k] = v;
    if (mac_address !== undefined) dev.extras.mac_address = mac_address.toLowerCase();
    if (udid !== undefined) dev.extras.udid = udid;
    if (model_identifier !== undefined) dev.extras.model_identifier = model_identifier;
    if (filevault_enabled !== undefined) dev.extras.filevault_enabled = filevault_enabled;
    if (supervised !== undefined) dev.extras.supervised = supervised;
    this.registerTags(dev.record.tags);
    return structuredClone(dev.record);
  }

  /** Removes by device_id, or every record with exactly this serial number; returns how many. */
  removeDevice(idOrSerial: string): number {
    if (this.devices.delete(idOrSerial)) return 1;
    let n = 0;
    for (const [id, d] of this.devices) if (d.record.serial_number === idOrSerial && this.devices.delete(id)) n++;
    return n;
  }

  getDevice(deviceId: string): SimDevice | undefined {
    const d = this.devices.get(deviceId) ?? this.devices.get(deviceId.toLowerCase());
    return d && structuredClone(d);
  }

  listDevices(): SimDevice[] {
    return [...this.devices.values()].map((d) => structuredClone(d));
  }

  queryDevices(params: URLSearchParams): KandjiDevice[] {
    return queryDevices([...this.devices.values()], params, this.tagIds).map((d) => structuredClone(d.record));
  }

  private findOne(idOrSerial: string): SimDevice {
    const byId = this.devices.get(idOrSerial);
    if (byId) return byId;
    const bySerial = [...this.devices.values()].filter((d) => d.record.serial_number === idOrSerial);
    if (bySerial.length === 1) return bySerial[0]!;
    if (bySerial.length > 1) throw new SimInputError(409, `${bySerial.length} devices have serial ${idOrSerial}; use device_id`);
    throw new SimInputError(404, `no device ${idOrSerial}`);
  }

  /** Tag ids are stable per name for the life of the simulator, so tag_id filters can be tested. */
  tagId(name: string): string | undefined {
    return this.tagIds.get(name);
  }

  private registerTags(tags: readonly string[]) {
    for (const t of tags) if (!this.tagIds.has(t)) this.tagIds.set(t, randomUUID());
  }

  // ------------------------------------------------------------------ library custom profiles

  private checkProfileFields(f: CustomProfileFields, create: boolean): Record<string, string[]> {
    const errors: Record<string, string[]> = {};
    if (f.name === undefined) {
      if (create) errors.name = ["This field is required."];
    } else if (f.name.trim() === "") errors.name = ["This field may not be blank."];
    else if (f.name.length > 255) errors.name = ["Ensure this field has no more than 255 characters."];
    if (f.file === undefined) {
      if (create) errors.file = ["No file was submitted."];
    } else if (f.file.length === 0) errors.file = ["The submitted file is empty."];
    else if (!/<plist[\s>]/.test(f.file) || !/<key>PayloadIdentifier<\/key>/.test(f.file))
      errors.file = ["Invalid profile. Please upload a valid .mobileconfig file."];
    if (f.active !== undefined && !BOOLEAN.test(f.active)) errors.active = ["Must be a valid boolean."];
    for (const [os, v] of Object.entries(f.runsOn)) if (v !== undefined && !BOOLEAN.test(v)) errors[`runs_on_${os}`] = ["Must be a valid boolean."];
    return errors;
  }

  createCustomProfile(f: CustomProfileFields, now = new Date()): CustomProfile {
    const errors = this.checkProfileFields(f, true);
    if (Object.keys(errors).length > 0) throw new KandjiValidationError(errors);
    const p: CustomProfile = {
      id: randomUUID(),
      name: f.name!,
      active: f.active === undefined ? true : asBool(f.active),
      profile: f.file!,
      mdm_identifier: payloadIdentifier(f.file!),
      runs_on_mac: asBool(f.runsOn.mac ?? "false"),
      runs_on_iphone: asBool(f.runsOn.iphone ?? "false"),
      runs_on_ipad: asBool(f.runsOn.ipad ?? "false"),
      runs_on_tv: asBool(f.runsOn.tv ?? "false"),
      runs_on_vision: asBool(f.runsOn.vision ?? "false"),
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
    };
    this.profiles.set(p.id, p);
    return { ...p };
  }

  /** null when no such library item (404). */
  updateCustomProfile(id: string, f: CustomProfileFields, now = new Date()): CustomProfile | null {
    const p = this.profiles.get(id);
    if (!p) return null;
    const errors = this.checkProfileFields(f, false);
    if (Object.keys(errors).length > 0) throw new KandjiValidationError(errors);
    if (f.name !== undefined) p.name = f.name;
    if (f.file !== undefined) {
      p.profile = f.file;
      p.mdm_identifier = payloadIdentifier(f.file);
    }
    if (f.active !== undefined) p.active = asBool(f.active);
    for (const [os, v] of Object.entries(f.runsOn)) if (v !== undefined) (p as unknown as Record<string, unknown>)[`runs_on_${os}`] = asBool(v);
    p.updated_at = now.toISOString();
    return { ...p };
  }

  getCustomProfile(id: string): CustomProfile | undefined {
    const p = this.profiles.get(id);
    return p && { ...p };
  }

  listCustomProfiles(): CustomProfile[] {
    return [...this.profiles.values()].map((p) => ({ ...p }));
  }

  deleteCustomProfile(id: string): boolean {
    for (const items of this.assignments.values()) if (items.includes(id)) items.splice(items.indexOf(id), 1);
    return this.profiles.delete(id);
  }

  /** POST /api/v1/blueprints/{id}/assign-library-item; undefined when the blueprint does not exist (404). */
  assignLibraryItem(blueprintId: string, libraryItemId: unknown): string[] | undefined {
    if (!this.blueprints.has(blueprintId)) return undefined;
    if (typeof libraryItemId !== "string" || libraryItemId === "") throw new KandjiValidationError({ library_item_id: ["This field is required."] });
    if (!this.profiles.has(libraryItemId)) throw new KandjiValidationError({ library_item_id: [`Library item ${libraryItemId} not found.`] });
    const items = this.assignments.get(blueprintId) ?? [];
    if (items.includes(libraryItemId)) throw new KandjiValidationError("Library Item already exists on Blueprint");
    items.push(libraryItemId);
    this.assignments.set(blueprintId, items);
    return [...items];
  }

  /** The library items assigned to a blueprint; undefined when it does not exist. */
  blueprintLibraryItems(blueprintId: string): string[] | undefined {
    return this.blueprints.has(blueprintId) ? [...(this.assignments.get(blueprintId) ?? [])] : undefined;
  }

  // ------------------------------------------------------------------ seed, faults, rate limit

  load(seed: Seed): void {
    const s = parse(seedSchema, seed);
    for (const b of s.blueprints) this.addBlueprint(b);
    for (const d of s.devices) this.addDevice(d);
  }

  /** Empties the tenant and clears faults, rate-limit history and the request log. */
  reset(): void {
    this.devices.clear();
    this.blueprints.clear();
    this.tagIds.clear();
    this.profiles.clear();
    this.assignments.clear();
    this.hits = [];
    this.requests.length = 0;
    this.faults = { ...NO_FAULTS };
  }

  setFaults(patch: FaultsPatch): Faults {
    const { rateLimit, ...f } = parse(faultsPatchSchema, patch);
    if (rateLimit) {
      this.rateLimit = rateLimit;
      this.hits = [];
    }
    this.faults = { ...this.faults, ...f };
    if (f.errorStatus === null) this.faults.errorCount = null;
    return { ...this.faults };
  }

  clearFaults(): void {
    this.faults = { ...NO_FAULTS };
  }

  /** Sliding-window limiter; on refusal tells how many seconds until a slot frees (Retry-After). */
  takeRateSlot(now = Date.now()): { ok: true } | { ok: false; retryAfterS: number } {
    const { requests, windowMs } = this.rateLimit;
    while (this.hits.length > 0 && this.hits[0]! <= now - windowMs) this.hits.shift();
    if (this.hits.length >= requests) {
      return { ok: false, retryAfterS: Math.max(1, Math.ceil((this.hits[0]! + windowMs - now) / 1000)) };
    }
    this.hits.push(now);
    return { ok: true };
  }

  /** Consumes one injected error, if any is armed. */
  takeInjectedError(): number | null {
    const { errorStatus, errorCount } = this.faults;
    if (errorStatus === null) return null;
    if (errorCount !== null) {
      if (errorCount <= 1) this.faults = { ...this.faults, errorStatus: null, errorCount: null };
      else this.faults = { ...this.faults, errorCount: errorCount - 1 };
    }
    return errorStatus;
  }

  logRequest(e: RequestLogEntry): void {
    this.requests.push(e);
    if (this.requests.length > REQUEST_LOG_SIZE) this.requests.splice(0, this.requests.length - REQUEST_LOG_SIZE);
  }
}

function payloadIdentifier(xml: string): string {
  return /<key>PayloadIdentifier<\/key>\s*<string>([^<]*)<\/string>/.exec(xml)?.[1] ?? "";
}
