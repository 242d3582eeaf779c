// A stand-in for Microsoft Entra ID's token endpoint and Microsoft Graph's Intune managed devices, for
// tests and demos only (docs/intune.md): client credentials with the .default scope, then
// GET /v1.0/deviceManagement/managedDevices with $filter, $top, $select and @odata.nextLink paging,
// Graph's error bodies and its 429 with Retry-After.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type ComplianceState = "unknown" | "compliant" | "noncompliant" | "conflict" | "error" | "inGracePeriod" | "configManager";

export interface ManagedDeviceInput {
  serialNumber: string;
  deviceName?: string;
  operatingSystem?: "macOS" | "iOS" | "iPadOS";
  model?: string;
  userPrincipalName?: string;
  userDisplayName?: string;
  emailAddress?: string;
  complianceState?: ComplianceState;
  udid?: string;
}

export type ManagedDevice = Record<string, unknown> & { id: string; serialNumber: string; complianceState: ComplianceState };

export interface IntuneFaults {
  latencyMs: number;
  /** Answer Graph with this status for `errorCount` requests (null: until cleared). */
  errorStatus: number | null;
  errorCount: number | null;
  /** The app registration lacks DeviceManagementManagedDevices.Read.All: Graph answers 403. */
  missingPermission: boolean;
}

export interface IntuneSimulatorOptions {
  port?: number;
  host?: string;
  /** The Directory (tenant) ID in the token endpoint's path. */
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** Access token lifetime in seconds (Entra ID: 60 to 90 minutes; 3599 here). */
  tokenLifetimeS?: number;
  /** Records per page when $top is absent. */
  pageSize?: number;
  /** Graph throttling: at most `requests` per `windowMs`, then 429 with Retry-After. */
  rateLimit?: { requests: number; windowMs: number };
  devices?: ManagedDeviceInput[];
}

export interface IntuneSimulator {
  /** Base URL for both https://login.microsoftonline.com and https://graph.microsoft.com. */
  url: string;
  tokenUrl: string;
  devices: Map<string, ManagedDevice>;
  faults: IntuneFaults;
  requests: { method: string; path: string; query: string; status: number }[];
  tokensIssued: number;
  addDevice(d: ManagedDeviceInput): ManagedDevice;
  removeDevice(serialNumber: string): boolean;
  revokeTokens(): void;
  close(): Promise<void>;
}

/** Graph caps $top for managedDevices at 1000 records a page. */
export const MAX_TOP = 1000;
const GRAPH_SCOPE = /^https?:\/\/[^/\s]+\/\.default$/;

function same(a: string, b: string): boolean {
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json;odata.metadata=minimal;odata.streaming=true",
    ...headers,
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

/** Graph's error body: {error: {code, message, innerError: {date, request-id, client-request-id}}}. */
const graphError = (code: string, message: string) => ({
  error: { code, message, innerError: { date: new Date().toISOString().slice(0, 19), "request-id": randomUUID(), "client-request-id": randomUUID() } },
});

/** Entra ID's token error body (RFC 6749 §5.2 plus its AADSTS codes). */
const entraError = (error: string, code: number, text: string) => ({
  error,
  error_description: `AADSTS${code}: ${text}\r\nTrace ID: ${randomUUID()}\r\nCorrelation ID: ${randomUUID()}\r\nTimestamp: ${new Date().toISOString().replace("T", " ").slice(0, 19)}Z`,
  error_codes: [code],
  timestamp: `${new Date().toISOString().replace("T", " ").slice(0, 19)}Z`,
  trace_id: randomUUID(),
  correlation_id: randomUUID(),
});

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

// ---------------------------------------------------------------- OData $filter, the subset Intune accepts

type Clause = { field: string; op: "eq" | "ne"; value: string | boolean };
export class FilterError extends Error {}

/** `serialNumber eq 'X' and complianceState eq 'compliant'`: eq/ne on strings ('' escapes ') and booleans, joined by and. */
export function parseFilter(filter: string): Clause[] {
  const re = /\s*([A-Za-z]\w*)\s+(eq|ne)\s+(?:'((?:[^']|'')*)'|(true|false))\s*(\band\b|$)/iy;
  const out: Clause[] = [];
  let i = 0;
  while (i < filter.length) {
    re.lastIndex = i;
    const m = re.exec(filter);
    if (!m || m[0] === "") throw new FilterError("Invalid filter clause");
    out.push({ field: m[1]!, op: m[2]!.toLowerCase() as Clause["op"], value: m[4] !== undefined ? m[4] === "true" : m[3]!.replace(/''/g, "'") });
    i = re.lastIndex;
    if (m[5] === "") break;
  }
  return out;
}

export async function startIntuneSimulator(opts: IntuneSimulatorOptions): Promise<IntuneSimulator> {
  const lifetimeS = opts.tokenLifetimeS ?? 3599;
  const tokens = new Map<string, number>();
  const windowHits: number[] = [];
  const sim: IntuneSimulator = {
    url: "",
    tokenUrl: "",
    devices: new Map(),
    faults: { latencyMs: 0, errorStatus: null, errorCount: null, missingPermission: false },
    requests: [],
    tokensIssued: 0,
    addDevice(d) {
      const now = new Date().toISOString();
      const device: ManagedDevice = {
        id: randomUUID(),
        userId: randomUUID(),
        deviceName: d.deviceName ?? d.serialNumber,
        managedDeviceOwnerType: "company",
        enrolledDateTime: now,
        lastSyncDateTime: now,
        operatingSystem: d.operatingSystem ?? "macOS",
        complianceState: d.complianceState ?? "compliant",
        jailBroken: "False",
        managementAgent: "mdm",
        osVersion: d.operatingSystem === "iOS" ? "18.1" : "15.1",
        azureADRegistered: true,
        deviceEnrollmentType: "appleBulkWithUser",
        emailAddress: d.emailAddress ?? "",
        azureADDeviceId: randomUUID(),
        deviceRegistrationState: "registered",
        isSupervised: true,
        isEncrypted: true,
        userPrincipalName: d.userPrincipalName ?? "",
        model: d.model ?? (d.operatingSystem === "iOS" ? "iPhone 15" : "MacBook Pro"),
        manufacturer: "Apple",
        serialNumber: d.serialNumber,
        userDisplayName: d.userDisplayName ?? "",
        udid: d.udid ?? randomUUID().toUpperCase(),
      };
      sim.devices.set(d.serialNumber, device);
      return device;
    },
    removeDevice: (serial) => sim.devices.delete(serial),
    revokeTokens: () => tokens.clear(),
    close: () => Promise.resolve(),
  };
  for (const d of opts.devices ?? []) sim.addDevice(d);

  async function token(req: IncomingMessage, res: ServerResponse, tenant: string) {
    if (req.method !== "POST") return send(res, 405, entraError("invalid_request", 900561, "The endpoint only accepts POST requests."));
    if (tenant !== opts.tenantId) return send(res, 400, entraError("invalid_request", 90002, `Tenant '${tenant.slice(0, 64)}' not found.`));
    const form = new URLSearchParams(await readBody(req));
    if (form.get("grant_type") !== "client_credentials")
      return send(res, 400, entraError("unsupported_grant_type", 70003, "The app requested an unsupported grant type."));
    if (!same(form.get("client_id") ?? "", opts.clientId))
      return send(
        res,
        400,
        entraError(
          "unauthorized_client",
          700016,
          `Application with identifier '${(form.get("client_id") ?? "").slice(0, 64)}' was not found in the directory.`,
        ),
      );
    if (!same(form.get("client_secret") ?? "", opts.clientSecret))
      return send(res, 401, entraError("invalid_client", 7000215, "Invalid client secret provided."));
    const scope = form.get("scope") ?? "";
    if (!GRAPH_SCOPE.test(scope))
      return send(
        res,
        400,
        entraError(
          "invalid_scope",
          1002012,
          `The provided value for scope ${scope.slice(0, 100)} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
        ),
      );
    const t = randomBytes(48).toString("base64url");
    tokens.set(t, Date.now() + lifetimeS * 1000);
    sim.tokensIssued++;
    send(res, 200, { token_type: "Bearer", expires_in: lifetimeS, ext_expires_in: lifetimeS, access_token: t });
  }

  function managedDevices(url: URL) {
    const q = url.searchParams;
    const top = q.has("$top") ? Number(q.get("$top")) : (opts.pageSize ?? MAX_TOP);
    if (!Number.isInteger(top) || top < 1 || top > MAX_TOP)
      return { status: 400, body: graphError("BadRequest", `Invalid $top value: must be between 1 and ${MAX_TOP}`) };
    let items = [...sim.devices.values()];
    const filter = q.get("$filter");
    // As Graph does, an empty $filter is no filter: every device is listed.
    if (filter) {
      let clauses: Clause[];
      try {
        clauses = parseFilter(filter);
      } catch (e) {
        return { status: 400, body: graphError("BadRequest", (e as Error).message) };
      }
      items = items.filter((d) => clauses.every((c) => (d[c.field] === c.value) === (c.op === "eq")));
    }
    const skip = Number(q.get("$skiptoken") ? Buffer.from(q.get("$skiptoken")!, "base64url").toString() : 0) || 0;
    const select = q
      .get("$select")
      ?.split(",")
      .map((s) => s.trim());
    const value = items.slice(skip, skip + top).map((d) => (select ? Object.fromEntries(select.filter((k) => k in d).map((k) => [k, d[k]])) : d));
    const body: Record<string, unknown> = { "@odata.context": `${sim.url}/v1.0/$metadata#deviceManagement/managedDevices`, value };
    if (skip + top < items.length) {
      const next = new URL(url.toString().replace("http://sim.invalid", sim.url));
      next.searchParams.set("$top", String(top));
      next.searchParams.set("$skiptoken", Buffer.from(String(skip + top)).toString("base64url"));
      body["@odata.nextLink"] = next.toString();
    }
    return { status: 200, body };
  }

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL, entry: IntuneSimulator["requests"][number]) {
    const reply = (status: number, body: unknown, headers?: Record<string, string>) => {
      entry.status = status;
      send(res, status, body, headers);
    };
    if (sim.faults.latencyMs) await new Promise((r) => setTimeout(r, sim.faults.latencyMs));
    const t = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(url.pathname);
    if (t) {
      entry.status = 200;
      return token(req, res, decodeURIComponent(t[1]!));
    }
    if (!url.pathname.startsWith("/v1.0/")) return reply(404, graphError("BadRequest", "Invalid version."));
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "");
    if (!m) return reply(401, graphError("InvalidAuthenticationToken", "Access token is empty."));
    const expiry = tokens.get(m[1]!);
    if (!expiry) return reply(401, graphError("InvalidAuthenticationToken", "IDX14100: JWT is not well formed."));
    if (expiry < Date.now()) return reply(401, graphError("InvalidAuthenticationToken", "Lifetime validation failed, the token is expired."));
    if (opts.rateLimit) {
      const now = Date.now();
      while (windowHits.length && windowHits[0]! <= now - opts.rateLimit.windowMs) windowHits.shift();
      if (windowHits.length >= opts.rateLimit.requests) {
        const retryAfter = Math.max(1, Math.ceil((windowHits[0]! + opts.rateLimit.windowMs - now) / 1000));
        return reply(429, graphError("TooManyRequests", "Too many requests."), { "retry-after": String(retryAfter) });
      }
      windowHits.push(now);
    }
    if (sim.faults.errorStatus) {
      const status = sim.faults.errorStatus;
      if (sim.faults.errorCount !== null && --sim.faults.errorCount <= 0) Object.assign(sim.faults, { errorStatus: null, errorCount: null });
      if (status === 429) return reply(429, graphError("TooManyRequests", "Too many requests."), { "retry-after": "1" });
      return reply(status, graphError(status >= 500 ? "UnknownError" : "BadRequest", "An error has occurred."));
    }
    if (sim.faults.missingPermission)
      return reply(
        403,
        graphError(
          "Forbidden",
          "Application is not authorized to perform this operation. Application must have one of the following scopes: DeviceManagementManagedDevices.Read.All, DeviceManagementManagedDevices.ReadWrite.All",
        ),
      );
    if (req.method !== "GET") return reply(405, graphError("BadRequest", "Method not allowed."));
    const path = url.pathname.replace(/\/+$/, "");
    if (path === "/v1.0/deviceManagement/managedDevices") {
      const r = managedDevices(url);
      return reply(r.status, r.body);
    }
    const one = /^\/v1\.0\/deviceManagement\/managedDevices\/([^/]+)$/.exec(path);
    if (one) {
      const d = [...sim.devices.values()].find((x) => x.id === decodeURIComponent(one[1]!));
      return d ? reply(200, d) : reply(404, graphError("ResourceNotFound", "Resource not found"));
    }
    reply(400, graphError("BadRequest", `Resource not found for the segment '${path.split("/").pop()}'.`));
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://sim.invalid");
    const entry = { method: req.method ?? "GET", path: url.pathname, query: url.search, status: 0 };
    sim.requests.push(entry);
    if (sim.requests.length > 500) sim.requests.shift();
    handle(req, res, url, entry).catch((e: unknown) => send(res, 500, graphError("UnknownError", String(e))));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const addr = server.address() as AddressInfo;
  sim.url = `http://${addr.address}:${addr.port}`;
  sim.tokenUrl = `${sim.url}/${opts.tenantId}/oauth2/v2.0/token`;
  sim.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return sim;
}
