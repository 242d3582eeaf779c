import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { deviceDetails, type Seed } from "./model";
import {
  KandjiValidationError,
  SimInputError,
  SimulatorState,
  type CustomProfileFields,
  type FaultsPatch,
  type RateLimit,
  type RequestLogEntry,
} from "./state";

export interface KandjiSimulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** The API token the tenant accepts as `Authorization: Bearer <token>`. */
  token: string;
  /** Token for /_sim/* (admin API); a random one is made when omitted (see the returned adminToken). */
  adminToken?: string;
  /** Initial tenant: an object, or the path of a JSON file of the same shape ({ blueprints, devices }). */
  seed?: Seed | string;
  rateLimit?: RateLimit;
  faults?: FaultsPatch;
}

export interface KandjiSimulator {
  /** Base URL, e.g. http://127.0.0.1:4010 (the tenant's https://<sub>.api.kandji.io equivalent). */
  url: string;
  port: number;
  adminToken: string;
  state: SimulatorState;
  close(): Promise<void>;
}

const MAX_BODY = 1 << 20;

// Headers the real API sends (OpenAPI reference, GET /api/v1/devices/{id} response headers).
const API_HEADERS = {
  "content-type": "application/json",
  server: "gunicorn",
  vary: "Origin",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

function sameSecret(given: string, expected: string): boolean {
  // Hash first so the comparison is constant-time whatever the lengths.
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

function bearer(req: IncomingMessage): string | null {
  const m = /^Bearer\s+(\S.*)$/i.exec(req.headers.authorization ?? "");
  return m ? m[1]!.trim() : null;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  if (res.destroyed || res.headersSent) return;
  const text = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, { ...API_HEADERS, ...headers, "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new SimInputError(400, "body too large"));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      if (text.trim() === "") return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new SimInputError(400, "body is not JSON"));
      }
    });
    req.on("error", reject);
  });
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new SimInputError(400, "body too large"));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** The multipart (or urlencoded) fields of a custom-profile create or update, as Kandji reads them. */
async function profileFields(req: IncomingMessage): Promise<CustomProfileFields> {
  const body = await readBody(req);
  const form = await new Request("http://sim.invalid/", {
    method: "POST",
    headers: { "content-type": req.headers["content-type"] ?? "" },
    body: new Uint8Array(body),
  })
    .formData()
    .catch(() => null);
  if (!form) return { runsOn: {} };
  const text = async (name: string) => {
    const v = form.get(name);
    return v === null ? undefined : typeof v === "string" ? v : await v.text();
  };
  const runsOn: CustomProfileFields["runsOn"] = {};
  for (const os of ["mac", "iphone", "ipad", "tv", "vision"] as const) runsOn[os] = await text(`runs_on_${os}`);
  const file = form.get("file");
  return {
    name: await text("name"),
    file: file === null ? undefined : typeof file === "string" ? undefined : await file.text(),
    active: await text("active"),
    runsOn,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function loadSeed(seed: Seed | string): Seed {
  return typeof seed === "string" ? (JSON.parse(readFileSync(seed, "utf8")) as Seed) : seed;
}

/** Starts the simulated tenant over real HTTP on loopback. */
export async function startKandjiSimulator(opts: KandjiSimulatorOptions): Promise<KandjiSimulator> {
  if (!opts.token) throw new Error("token is required");
  const adminToken = opts.adminToken ?? randomBytes(24).toString("base64url");
  const state = new SimulatorState({ token: opts.token, rateLimit: opts.rateLimit });
  const seed = opts.seed === undefined ? undefined : loadSeed(opts.seed);
  if (seed) state.load(seed);
  if (opts.faults) state.setFaults(opts.faults);

  async function api(req: IncomingMessage, res: ServerResponse, url: URL) {
    const given = bearer(req);
    const entry: RequestLogEntry = {
      time: new Date().toISOString(),
      method: req.method ?? "GET",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      authorized: given !== null && sameSecret(given, state.token),
      status: 0,
    };
    state.logRequest(entry);
    const send = (status: number, body: unknown, headers?: Record<string, string>) => {
      entry.status = status;
      sendJson(res, status, body, headers);
    };

    if (state.faults.latencyMs > 0) await sleep(state.faults.latencyMs);
    if (state.faults.stall) {
      entry.status = "stalled";
      return; // never answered; close() tears the socket down
    }
    const injected = state.takeInjectedError();
    if (injected !== null) {
      // An outage in front of the app answers HTML, not JSON: clients must cope with that.
      entry.status = injected;
      const html = `<h1>Server Error (${injected})</h1>`;
      res.writeHead(injected, { "content-type": "text/html; charset=utf-8", "content-length": Buffer.byteLength(html) });
      return void res.end(html);
    }
    if (!entry.authorized) {
      // Django REST Framework's wording for a missing vs a wrong token.
      const detail = given === null ? "Authentication credentials were not provided." : "Incorrect authentication credentials.";
      return send(401, { detail }, { "www-authenticate": 'Bearer realm="api"' });
    }
    const slot = state.takeRateSlot();
    if (!slot.ok) {
      return send(429, { detail: `Request was throttled. Expected available in ${slot.retryAfterS} seconds.` }, { "retry-after": String(slot.retryAfterS) });
    }

    const method = req.method ?? "GET";
    const notAllowed = (allow: string) => send(405, { detail: `Method "${method}" not allowed.` }, { allow });
    const path = url.pathname.replace(/\/+$/, "");
    if (path === "/api/v1/devices") {
      if (method !== "GET") return notAllowed("GET");
      return send(200, state.queryDevices(url.searchParams));
    }
    const m = /^\/api\/v1\/devices\/([^/]+)(\/details)?$/.exec(path);
    if (m) {
      const id = decodeURIComponent(m[1]!);
      const dev = state.getDevice(id);
      if (m[2]) {
        if (method !== "GET") return notAllowed("GET");
        return dev ? send(200, deviceDetails(dev)) : send(404, { detail: "Not found." });
      }
      if (method === "GET") return dev ? send(200, dev.record) : send(404, { detail: "Not found." });
      if (method === "DELETE") {
        if (!dev) return send(404, { detail: "Not found." });
        state.removeDevice(dev.record.device_id);
        return send(204, undefined);
      }
      return notAllowed("GET, DELETE");
    }
    if (path === "/api/v1/blueprints") {
      if (method !== "GET") return notAllowed("GET");
      const results = state.listBlueprints().map((b) => ({
        id: b.id,
        name: b.name,
        description: "",
        type: "classic",
        computers_count: state.listDevices().filter((d) => d.record.blueprint_id === b.id).length,
      }));
      return send(200, { count: results.length, next: null, previous: null, results });
    }
    const bp = /^\/api\/v1\/blueprints\/([^/]+)\/(assign-library-item|list-library-items)$/.exec(path);
    if (bp) {
      const id = decodeURIComponent(bp[1]!);
      if (bp[2] === "list-library-items") {
        if (method !== "GET") return notAllowed("GET");
        const items = state.blueprintLibraryItems(id);
        if (!items) return send(404, { detail: "Not found." });
        const results = items.map((i) => ({ id: i, name: state.getCustomProfile(i)?.name ?? "" }));
        return send(200, { count: results.length, next: null, previous: null, results });
      }
      if (method !== "POST") return notAllowed("POST");
      const body = (await readJson(req).catch(() => undefined)) as { library_item_id?: unknown } | undefined;
      try {
        const items = state.assignLibraryItem(id, body?.library_item_id);
        return items ? send(200, { library_items: items }) : send(404, { detail: "Not found." });
      } catch (e) {
        if (e instanceof KandjiValidationError) return send(400, e.fields);
        throw e;
      }
    }
    if (path === "/api/v1/library/custom-profiles") {
      if (method === "GET") {
        const results = state.listCustomProfiles();
        return send(200, { count: results.length, next: null, previous: null, results });
      }
      if (method !== "POST") return notAllowed("GET, POST");
      try {
        return send(201, state.createCustomProfile(await profileFields(req)));
      } catch (e) {
        if (e instanceof KandjiValidationError) return send(400, e.fields);
        throw e;
      }
    }
    const cp = /^\/api\/v1\/library\/custom-profiles\/([^/]+)$/.exec(path);
    if (cp) {
      const id = decodeURIComponent(cp[1]!);
      if (method === "GET") {
        const p = state.getCustomProfile(id);
        return p ? send(200, p) : send(404, { detail: "Not found." });
      }
      if (method === "PATCH") {
        try {
          const p = state.updateCustomProfile(id, await profileFields(req));
          return p ? send(200, p) : send(404, { detail: "Not found." });
        } catch (e) {
          if (e instanceof KandjiValidationError) return send(400, e.fields);
          throw e;
        }
      }
      if (method === "DELETE") return state.deleteCustomProfile(id) ? send(204, undefined) : send(404, { detail: "Not found." });
      return notAllowed("GET, PATCH, DELETE");
    }
    return send(404, { detail: "Not found." });
  }

  async function admin(req: IncomingMessage, res: ServerResponse, url: URL) {
    const path = url.pathname.replace(/\/+$/, "");
    const method = req.method ?? "GET";
    if (path === "/_sim/health") return sendJson(res, 200, { ok: true });
    const given = bearer(req);
    if (given === null || !sameSecret(given, adminToken)) return sendJson(res, 401, { error: "admin token required" });

    const [, , resource, rawKey] = path.split("/");
    const key = rawKey === undefined ? undefined : decodeURIComponent(rawKey);
    const bad = () => sendJson(res, 405, { error: `${method} not allowed on ${path}` });

    switch (resource) {
      case "devices": {
        if (key === undefined) {
          if (method === "GET") return sendJson(res, 200, state.listDevices());
          if (method === "POST") {
            const body = await readJson(req);
            const created = Array.isArray(body) ? body.map((d) => state.addDevice(d)) : state.addDevice(body as never);
            return sendJson(res, 201, created);
          }
          return bad();
        }
        if (method === "GET") {
          const d = state.getDevice(key) ?? state.listDevices().find((x) => x.record.serial_number === key);
          return d ? sendJson(res, 200, d) : sendJson(res, 404, { error: `no device ${key}` });
        }
        if (method === "PATCH") return sendJson(res, 200, state.updateDevice(key, (await readJson(req)) as never));
        if (method === "DELETE") {
          const n = state.removeDevice(key);
          return n > 0 ? sendJson(res, 200, { removed: n }) : sendJson(res, 404, { error: `no device ${key}` });
        }
        return bad();
      }
      case "blueprints": {
        if (key === undefined) {
          if (method === "GET") return sendJson(res, 200, state.listBlueprints());
          if (method === "POST") return sendJson(res, 201, state.addBlueprint((await readJson(req)) as never));
          return bad();
        }
        if (method === "DELETE") {
          return state.removeBlueprint(key) ? sendJson(res, 200, { removed: 1 }) : sendJson(res, 404, { error: `no blueprint ${key}` });
        }
        return bad();
      }
      case "faults": {
        if (key !== undefined) return sendJson(res, 404, { error: "not found" });
        if (method === "GET") return sendJson(res, 200, { ...state.faults, rateLimit: state.rateLimit });
        if (method === "PUT" || method === "PATCH" || method === "POST") {
          state.setFaults(((await readJson(req)) ?? {}) as FaultsPatch);
          return sendJson(res, 200, { ...state.faults, rateLimit: state.rateLimit });
        }
        if (method === "DELETE") {
          state.clearFaults();
          return sendJson(res, 200, { ...state.faults, rateLimit: state.rateLimit });
        }
        return bad();
      }
      case "requests": {
        if (method === "GET") return sendJson(res, 200, state.requests);
        if (method === "DELETE") {
          state.requests.length = 0;
          return sendJson(res, 200, []);
        }
        return bad();
      }
      case "reset": {
        if (method !== "POST") return bad();
        state.reset();
        if (seed) state.load(seed);
        return sendJson(res, 200, { devices: state.listDevices().length });
      }
      default:
        return sendJson(res, 404, { error: "not found" });
    }
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://sim.invalid");
    const route = url.pathname.startsWith("/_sim/")
      ? admin(req, res, url)
      : url.pathname.startsWith("/api/")
        ? api(req, res, url)
        : Promise.resolve(sendJson(res, 404, { detail: "Not found." }));
    route.catch((e: unknown) => {
      if (e instanceof SimInputError) return sendJson(res, e.status, { error: e.message, issues: e.issues });
      sendJson(res, 500, { error: e instanceof Error ? e.message : String(e) });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;

  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    adminToken,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Stalled requests would otherwise keep close() waiting forever.
        server.closeAllConnections();
      }),
  };
}
