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

/** Everything the simulated tenant holds; mutate it directly in tests or through the admin API. */
export class SimulatorState {
  token: string;
  rateLimit: RateLimit;
  faults: Faults = { ...NO_FAULTS };
  readonly requests: RequestLogEntry[] = [];
  private readonly devices = new Map<string, SimDevice>();
  private readonly blueprints = new Map<string, Blueprint>();
  private readonly tagIds = new Map<string, string>();
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
