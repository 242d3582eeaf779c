// A stand-in for a Jamf Pro instance's API, for tests and demos only (docs/jamf.md): OAuth 2.0 client
// credentials at POST /api/oauth/token, then computers and mobile devices with Jamf's section, page,
// page-size and RSQL filter parameters, its response shapes and its error bodies.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface JamfDeviceInput {
  serialNumber: string;
  /** "computer" (Mac) or "mobile" (iPhone, iPad). */
  kind?: "computer" | "mobile";
  name?: string;
  udid?: string;
  model?: string;
  username?: string;
  realName?: string;
  email?: string;
  managed?: boolean;
}

export interface JamfDevice extends Required<Omit<JamfDeviceInput, "username" | "realName" | "email">> {
  id: string;
  username: string;
  realName: string;
  email: string;
}

export interface JamfFaults {
  latencyMs: number;
  /** Answer the API (not the token endpoint) with this status for `errorCount` requests (null: until cleared). */
  errorStatus: number | null;
  errorCount: number | null;
  /** Answer the token endpoint with this status instead (e.g. 401, 500). */
  tokenErrorStatus: number | null;
}

export interface JamfRequestLogEntry {
  method: string;
  path: string;
  query: string;
  status: number;
}

export interface JamfSimulatorOptions {
  port?: number;
  host?: string;
  clientId: string;
  clientSecret: string;
  /** The API client's Access Token Lifetime, in seconds (set per API client in Jamf Pro). */
  tokenLifetimeS?: number;
  devices?: JamfDeviceInput[];
  adminToken?: string;
}

export interface JamfSimulator {
  /** Base URL, the https://<instance>.jamfcloud.com equivalent. */
  url: string;
  adminToken: string;
  devices: Map<string, JamfDevice>;
  faults: JamfFaults;
  requests: JamfRequestLogEntry[];
  /** Tokens issued so far (the simulator's own count: each one is a token request that succeeded). */
  tokensIssued: number;
  addDevice(d: JamfDeviceInput): JamfDevice;
  removeDevice(serialNumber: string): boolean;
  /** Makes every issued token invalid, as rotating the client secret or an instance restart would. */
  revokeTokens(): void;
  close(): Promise<void>;
}

/** Jamf Pro API paging: page from 0, page-size 100 by default; larger pages are refused. */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 2000;

const COMPUTER_SECTIONS = ["GENERAL", "HARDWARE", "USER_AND_LOCATION", "OPERATING_SYSTEM"] as const;
const MOBILE_SECTIONS = ["GENERAL", "HARDWARE", "USER_AND_LOCATION"] as const;

function same(a: string, b: string): boolean {
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json;charset=UTF-8", ...headers, "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** Jamf Pro API error body: {httpStatus, errors: [{code, field, description, id}]}. */
const jamfError = (status: number, code?: string, description?: string, field: string | null = null) => ({
  httpStatus: status,
  errors: code ? [{ code, field, description, id: "0" }] : [],
});

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > 64 * 1024) req.destroy();
      else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

// ---------------------------------------------------------------- RSQL, the subset inventory filters use

type Clause = { field: string; op: "==" | "!="; value: string };

export class FilterError extends Error {}

/** Parses `a=="x";b!="y"` (AND with ; or `and`); values quoted with " or ', `*` as a wildcard. */
export function parseRsql(filter: string): Clause[] {
  const clauses: Clause[] = [];
  const re = /\s*([A-Za-z][\w.]*)\s*(==|!=)\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^;,()\s"']+))\s*(;|\band\b|$)/y;
  let i = 0;
  while (i < filter.length) {
    re.lastIndex = i;
    const m = re.exec(filter);
    if (!m || m[0] === "") throw new FilterError(`cannot parse filter near "${filter.slice(i, i + 20)}"`);
    const raw = m[3] ?? m[4] ?? m[5] ?? "";
    clauses.push({ field: m[1]!, op: m[2] as Clause["op"], value: raw.replace(/\\(.)/g, "$1") });
    i = re.lastIndex;
    if (m[6] === "") break;
  }
  return clauses;
}

function matches(value: unknown, pattern: string): boolean {
  const s = value === undefined || value === null ? "" : String(value);
  if (!pattern.includes("*")) return s === pattern;
  const re = new RegExp(
    `^${pattern
      .split("*")
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
  return re.test(s);
}

function get(record: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), record);
}

// ---------------------------------------------------------------- records, as the Jamf Pro API writes them

function computerRecord(d: JamfDevice, sections: Set<string>) {
  return {
    id: d.id,
    udid: d.udid,
    general: sections.has("GENERAL")
      ? {
          name: d.name,
          platform: "Mac",
          managementId: randomUUIDFrom(d.id),
          remoteManagement: { managed: d.managed },
          supervised: true,
          mdmCapable: { capable: d.managed },
        }
      : null,
    hardware: sections.has("HARDWARE") ? { make: "Apple", model: d.model, serialNumber: d.serialNumber } : null,
    userAndLocation: sections.has("USER_AND_LOCATION") ? { username: d.username, realname: d.realName, email: d.email } : null,
    operatingSystem: sections.has("OPERATING_SYSTEM") ? { name: "macOS", version: "15.1" } : null,
  };
}

function mobileRecord(d: JamfDevice, sections: Set<string>) {
  return {
    mobileDeviceId: d.id,
    deviceType: /ipad/i.test(d.model) ? "iPad" : "iOS",
    general: sections.has("GENERAL") ? { displayName: d.name, udid: d.udid, managed: d.managed, supervised: true } : null,
    hardware: sections.has("HARDWARE") ? { model: d.model, serialNumber: d.serialNumber } : null,
    userAndLocation: sections.has("USER_AND_LOCATION") ? { username: d.username, realName: d.realName, emailAddress: d.email } : null,
  };
}

// A stable UUID-looking id per device (managementId), so answers are reproducible.
function randomUUIDFrom(seed: string): string {
  const h = createHash("sha256").update(seed).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export async function startJamfSimulator(opts: JamfSimulatorOptions): Promise<JamfSimulator> {
  const adminToken = opts.adminToken ?? randomBytes(24).toString("base64url");
  const lifetimeS = opts.tokenLifetimeS ?? 1800;
  const tokens = new Map<string, number>(); // token -> expiry (ms)
  let nextId = 1;
  const sim: JamfSimulator = {
    url: "",
    adminToken,
    devices: new Map(),
    faults: { latencyMs: 0, errorStatus: null, errorCount: null, tokenErrorStatus: null },
    requests: [],
    tokensIssued: 0,
    addDevice(input) {
      const d: JamfDevice = {
        id: String(nextId++),
        kind: input.kind ?? "computer",
        serialNumber: input.serialNumber,
        name: input.name ?? input.serialNumber,
        udid: input.udid ?? randomUUID().toUpperCase(),
        model: input.model ?? (input.kind === "mobile" ? "iPhone 15" : "MacBook Pro (14-inch, 2023)"),
        username: input.username ?? "",
        realName: input.realName ?? "",
        email: input.email ?? "",
        managed: input.managed ?? true,
      };
      sim.devices.set(d.serialNumber, d);
      return d;
    },
    removeDevice: (serial) => sim.devices.delete(serial),
    revokeTokens: () => tokens.clear(),
    close: () => Promise.resolve(),
  };
  for (const d of opts.devices ?? []) sim.addDevice(d);

  async function token(req: IncomingMessage, res: ServerResponse) {
    if (req.method !== "POST") return send(res, 405, jamfError(405));
    const form = new URLSearchParams(await readBody(req));
    if (sim.faults.tokenErrorStatus) return send(res, sim.faults.tokenErrorStatus, { error: "server_error" });
    if (form.get("grant_type") !== "client_credentials") return send(res, 400, { error: "unsupported_grant_type" });
    const id = form.get("client_id") ?? "";
    const secret = form.get("client_secret") ?? "";
    if (!same(id, opts.clientId) || !same(secret, opts.clientSecret)) return send(res, 401, { error: "invalid_client" });
    const t = randomBytes(32).toString("base64url");
    tokens.set(t, Date.now() + lifetimeS * 1000);
    sim.tokensIssued++;
    send(res, 200, { access_token: t, scope: "api-role:1", token_type: "Bearer", expires_in: lifetimeS - 1 });
  }

  function list(url: URL, kind: "computer" | "mobile") {
    const allowed: readonly string[] = kind === "computer" ? COMPUTER_SECTIONS : MOBILE_SECTIONS;
    const sections = new Set(url.searchParams.getAll("section").map((s) => s.toUpperCase()));
    for (const s of sections) if (!allowed.includes(s)) return { status: 400, body: jamfError(400, "INVALID_FIELD", `Invalid section: ${s}`, "section") };
    if (sections.size === 0) sections.add("GENERAL");
    const page = Number(url.searchParams.get("page") ?? 0);
    const size = Number(url.searchParams.get("page-size") ?? DEFAULT_PAGE_SIZE);
    if (!Number.isInteger(page) || page < 0) return { status: 400, body: jamfError(400, "INVALID_FIELD", "page must be 0 or more", "page") };
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE)
      return { status: 400, body: jamfError(400, "INVALID_FIELD", `page-size must be between 1 and ${MAX_PAGE_SIZE}`, "page-size") };
    const render = (d: JamfDevice) => (kind === "computer" ? computerRecord(d, new Set(COMPUTER_SECTIONS)) : mobileRecord(d, new Set(MOBILE_SECTIONS)));
    let items = [...sim.devices.values()].filter((d) => d.kind === kind).sort((a, b) => Number(a.id) - Number(b.id));
    const filter = url.searchParams.get("filter");
    if (filter) {
      let clauses: Clause[];
      try {
        clauses = parseRsql(filter);
      } catch (e) {
        return { status: 400, body: jamfError(400, "INVALID_FILTER", (e as Error).message, "filter") };
      }
      // Filters read every section, whichever ones the answer carries.
      items = items.filter((d) => clauses.every((c) => matches(get(render(d), c.field), c.value) === (c.op === "==")));
    }
    const results = items.slice(page * size, page * size + size).map((d) => (kind === "computer" ? computerRecord(d, sections) : mobileRecord(d, sections)));
    return { status: 200, body: { totalCount: items.length, results } };
  }

  async function api(req: IncomingMessage, res: ServerResponse, url: URL, entry: JamfRequestLogEntry) {
    const reply = (status: number, body: unknown, headers?: Record<string, string>) => {
      entry.status = status;
      send(res, status, body, headers);
    };
    if (sim.faults.latencyMs) await new Promise((r) => setTimeout(r, sim.faults.latencyMs));
    const path = url.pathname.replace(/\/+$/, "");
    if (path === "/api/oauth/token") {
      entry.status = 200;
      return token(req, res);
    }
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "");
    const expiry = m ? tokens.get(m[1]!) : undefined;
    if (!expiry || expiry < Date.now()) return reply(401, jamfError(401, "INVALID_TOKEN", "Unauthorized"));
    if (sim.faults.errorStatus) {
      const status = sim.faults.errorStatus;
      if (sim.faults.errorCount !== null && --sim.faults.errorCount <= 0) Object.assign(sim.faults, { errorStatus: null, errorCount: null });
      if (status === 403) return reply(403, jamfError(403, "INVALID_PRIVILEGE", "Forbidden"));
      if (status === 429) return reply(429, jamfError(429, "TOO_MANY_REQUESTS", "Too many requests"), { "retry-after": "1" });
      return reply(status, jamfError(status, "SERVER_ERROR", "An unexpected error occurred"));
    }
    if (req.method !== "GET") return reply(405, jamfError(405));
    if (path === "/api/v1/computers-inventory") {
      const r = list(url, "computer");
      return reply(r.status, r.body);
    }
    if (path === "/api/v2/mobile-devices/detail") {
      const r = list(url, "mobile");
      return reply(r.status, r.body);
    }
    reply(404, jamfError(404, "NOT_FOUND", "Not found"));
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://sim.invalid");
    if (url.pathname.startsWith("/_sim/")) {
      if (!same(req.headers.authorization ?? "", `Bearer ${adminToken}`)) return send(res, 401, { error: "admin token required" });
      if (url.pathname === "/_sim/devices" && req.method === "POST") {
        return void readBody(req).then((b) => send(res, 201, sim.addDevice(JSON.parse(b) as JamfDeviceInput)));
      }
      return send(res, 404, { error: "not found" });
    }
    const entry: JamfRequestLogEntry = { method: req.method ?? "GET", path: url.pathname, query: url.search, status: 0 };
    sim.requests.push(entry);
    if (sim.requests.length > 500) sim.requests.shift();
    api(req, res, url, entry).catch((e: unknown) => send(res, 500, jamfError(500, "SERVER_ERROR", String(e))));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const addr = server.address() as AddressInfo;
  sim.url = `http://${addr.address}:${addr.port}`;
  sim.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return sim;
}
