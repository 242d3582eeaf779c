import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { startKandjiSimulator, type KandjiSimulator } from "@attested/kandji-sim";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lookupDevice, type LookupConfig, type LookupOptions } from "./lookup";
import { UNPINNED_WARNING } from "./rules";

const TOKEN = "kandji-api-token";
let sim: KandjiSimulator;

beforeEach(async () => {
  sim = await startKandjiSimulator({
    token: TOKEN,
    seed: {
      blueprints: [{ name: "ACME Certificates" }],
      devices: [
        {
          serial_number: "C02ABC1234",
          device_name: "Ada's MacBook Pro",
          blueprint_name: "ACME Certificates",
          user: { email: "ada@example.com", name: "Ada Lovelace" },
          tags: ["engineering"],
          udid: "00006030-000651690A84001C",
        },
      ],
    },
  });
});
afterEach(async () => {
  await sim.close();
});

const config = (over: Partial<LookupConfig> = {}): LookupConfig => ({
  uri: `${sim.url}/api/v1/devices?serial_number=\${identity}`,
  authMethod: "bearer",
  secret: TOKEN,
  validationRules: [{ path: "data[0].serial_number", condition: "equals", expected: "${identity}" }],
  attributeMappings: [
    { path: "data[0].user.email", attribute: "email" },
    { path: "data[0].device_name", attribute: "deviceName" },
    { path: "data[0].asset_tag", attribute: "assetTag" },
  ],
  groupsPath: "data[0].blueprint_name, data[0].tags",
  timeoutMs: 1000,
  ...over,
});
const options: LookupOptions = { allowHttp: true, http: { backoffBaseMs: 5, backoffMaxMs: 20, retryAfterCapMs: 20 } };
const lookup = (identity: string, over: Partial<LookupConfig> = {}, opts: LookupOptions = {}, context?: Record<string, unknown>) =>
  lookupDevice({ config: config(over), identity, context, options: { ...options, ...opts } });
const apiRequests = () => sim.state.requests.filter((r) => r.path.startsWith("/api/"));

describe("lookupDevice against the Kandji simulator", () => {
  it("finds a device and maps its attributes and groups", async () => {
    const r = await lookup("C02ABC1234");
    expect(r).toMatchObject({
      outcome: "found",
      reason: "device found",
      status: 200,
      attempts: 1,
      attributes: { email: "ada@example.com", deviceName: "Ada's MacBook Pro" },
      groups: ["ACME Certificates", "engineering"],
      missingAttributes: [{ attribute: "assetTag", path: "data[0].asset_tag", reason: "no value" }],
      warnings: [],
      url: `${sim.url}/api/v1/devices?serial_number=C02ABC1234`,
    });
    expect(r.rules).toEqual([expect.objectContaining({ passed: true, actual: "C02ABC1234", message: 'data[0].serial_number equals "C02ABC1234"' })]);
    expect(r.timeMs).toBeGreaterThanOrEqual(0);
    expect(r.response).toBeUndefined();
    expect(apiRequests().at(-1)).toMatchObject({ authorized: true, query: { serial_number: "C02ABC1234" } });
  });

  it("reports an absent device as notFound", async () => {
    const r = await lookup("NOPE0000");
    expect(r).toMatchObject({ outcome: "notFound", reason: "device not found", status: 200, attributes: {}, groups: [] });
    expect(r.rules[0]).toMatchObject({ passed: false, actual: null });
  });

  it("does not accept a serial that is only part of another device's (Kandji matches partially)", async () => {
    const pinned = await lookup("C02ABC12");
    expect(pinned).toMatchObject({
      outcome: "notFound",
      reason: 'rule failed: data[0].serial_number equals "C02ABC12": actual "C02ABC1234"',
      attributes: {},
    });
    // Without an exact rule the partial match would let the other device through: the portal warns.
    const loose = await lookup("C02ABC12", { validationRules: [{ path: "data[0].serial_number", condition: "exists" }] });
    expect(loose.outcome).toBe("found");
    expect(loose.warnings).toContain(UNPINNED_WARNING);
  });

  it("finds the exact device among partial matches with a filter path", async () => {
    sim.state.addDevice({ serial_number: "C02ABC12", device_name: "Short serial", blueprint_name: "Kiosks" });
    // data[0] is C02ABC1234 (first enrolled), so data[0]-based rules refuse the right device...
    expect((await lookup("C02ABC12")).outcome).toBe("notFound");
    // ...and a filter path picks it out exactly.
    const r = await lookup("C02ABC12", {
      validationRules: [{ path: "data[serial_number=${identity}]", condition: "exists" }],
      attributeMappings: [{ path: "data[serial_number=${identity}].device_name", attribute: "deviceName" }],
      groupsPath: "data[serial_number=${identity}].blueprint_name",
    });
    expect(r).toMatchObject({ outcome: "found", attributes: { deviceName: "Short serial" }, groups: ["Kiosks"], warnings: [] });
  });

  it("fails a device the MDM flags as removed", async () => {
    sim.state.updateDevice("C02ABC1234", { is_removed: true });
    const rules = [...config().validationRules, { path: "data[0].is_removed", condition: "equals" as const, expected: "false" }];
    expect(await lookup("C02ABC1234", { validationRules: rules })).toMatchObject({
      outcome: "notFound",
      reason: 'rule failed: data[0].is_removed equals "false": actual "true"',
    });
  });

  it("URL-encodes the identity into the URI", async () => {
    await lookup("A&B C/1?x=#");
    expect(apiRequests().at(-1)!.query).toEqual({ serial_number: "A&B C/1?x=#" });
  });

  it("reads one device by id with context variables, and 404 is notFound", async () => {
    const [dev] = sim.state.listDevices();
    const byId = {
      uri: `${sim.url}/api/v1/devices/\${identity}/details`,
      validationRules: [
        { path: "data.hardware_overview.serial_number", condition: "equals" as const, expected: "${/attestation/serialNumber}" },
        { path: "data.hardware_overview.uuid", condition: "equals" as const, expected: "${/attestation/udid}" },
      ],
      attributeMappings: [{ path: "data.general.assigned_user", attribute: "userName" }],
      groupsPath: "data.general.blueprint_name",
    };
    const context = { attestation: { serialNumber: "C02ABC1234", udid: "00006030-000651690A84001C" } };
    const r = await lookup(dev!.record.device_id, byId, { identityVariables: ["${identity}", "${/attestation/serialNumber}"] }, context);
    expect(r).toMatchObject({ outcome: "found", attributes: { userName: "Ada Lovelace" }, groups: ["ACME Certificates"], warnings: [] });
    const other = await lookup(dev!.record.device_id, byId, {}, { attestation: { serialNumber: "OTHER", udid: "x" } });
    expect(other.outcome).toBe("notFound");
    const missing = await lookup("4820db3b-dec7-40b2-9c8f-eb771ac1a250", byId, {}, context);
    expect(missing).toMatchObject({ outcome: "notFound", reason: "device not found (HTTP 404)", status: 404 });
  });
});

describe("lookupDevice failures are errors with a precise reason", () => {
  it("HTTP 401 for a wrong token, not retried", async () => {
    const r = await lookup("C02ABC1234", { secret: "wrong" });
    expect(r).toMatchObject({ outcome: "error", reason: "HTTP 401 (Incorrect authentication credentials.)", status: 401, attempts: 1 });
  });

  it("HTTP 429 is retried, then fails", async () => {
    sim.state.setFaults({ rateLimit: { requests: 1, windowMs: 60_000 } });
    expect((await lookup("C02ABC1234")).outcome).toBe("found");
    const before = apiRequests().length;
    const r = await lookup("C02ABC1234");
    expect(r).toMatchObject({ outcome: "error", status: 429, attempts: 3 });
    expect(r.reason).toMatch(/^HTTP 429 after 2 retries \(Request was throttled\. Expected available in \d+ seconds\.\)$/);
    expect(apiRequests().length - before).toBe(3);
  });

  it("HTTP 500 is retried, then fails; a transient one recovers", async () => {
    sim.state.setFaults({ errorStatus: 500 });
    expect(await lookup("C02ABC1234")).toMatchObject({ outcome: "error", reason: "HTTP 500 after 2 retries", attempts: 3 });
    sim.state.setFaults({ errorStatus: 502, errorCount: 1 });
    expect(await lookup("C02ABC1234")).toMatchObject({ outcome: "found", attempts: 2 });
  });

  it("a stalled API times out after the configured time", async () => {
    sim.state.setFaults({ stall: true });
    const t = Date.now();
    const r = await lookup("C02ABC1234", { timeoutMs: 200 });
    expect(r).toMatchObject({ outcome: "error", reason: "timeout after 200ms", attempts: 1 });
    expect(r.status).toBeUndefined();
    expect(Date.now() - t).toBeGreaterThanOrEqual(190);
    expect(Date.now() - t).toBeLessThan(1500);
  });

  it("a response over the size limit", async () => {
    for (let i = 0; i < 20; i++) sim.state.addDevice({ serial_number: `C02ABC1234X${i}` });
    expect(await lookup("C02ABC1234", {}, { http: { maxBytes: 2000 } })).toMatchObject({
      outcome: "error",
      reason: "response too large (over 2000 bytes)",
    });
  });

  it("refuses an empty identity without calling the API (Kandji would list every device)", async () => {
    expect(await lookup("  ")).toMatchObject({ outcome: "error", reason: "identity is empty", attempts: 0 });
    expect(apiRequests()).toHaveLength(0);
  });

  it("refuses http unless allowed, and bad stored configuration", async () => {
    expect(await lookup("C02ABC1234", {}, { allowHttp: false })).toMatchObject({
      outcome: "error",
      reason: "http URIs are not allowed: use https",
    });
    expect(await lookup("C02ABC1234", { secret: null })).toMatchObject({ outcome: "error", reason: "invalid configuration: no Bearer Token is set" });
    const nonAscii = await lookup("C02ABC1234", { secret: "tökén" });
    expect(nonAscii).toMatchObject({ outcome: "error", reason: "invalid configuration: secret: Bearer Token may hold only printable ASCII characters" });
    const broken = await lookup("C02ABC1234", { validationRules: [{ path: "data[0", condition: "exists" }] });
    expect(broken).toMatchObject({ outcome: "error" });
    expect(broken.reason).toMatch(/^invalid configuration: validationRules\.0\.path: missing "\]"/);
    expect(await lookup("C02ABC1234", { uri: `${sim.url}/api/v1/devices/\${/device/id}` })).toMatchObject({
      outcome: "error",
      reason: "URI: ${/device/id} has no value",
    });
    expect(apiRequests()).toHaveLength(0);
  });

  it("refuses a stored URI whose host or port comes from a variable, sending nothing", async () => {
    const received: string[] = [];
    const server = createServer((req, res) => {
      received.push(req.url ?? "");
      res.end("{}");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    try {
      // Saved before the form refused variables in the origin: the device's CSR would choose the server.
      for (const uri of [`http://\${/csr/subject/CN}:${port}/api?serial=\${identity}`, `http://127.0.0.1:\${/csr/subject/CN}/api?serial=\${identity}`]) {
        const cn = uri.includes(`:${port}`) ? "127.0.0.1" : String(port);
        const r = await lookupDevice({ config: { ...config(), uri }, identity: "C02ABC1234", context: { csr: { subject: { CN: cn } } }, options });
        expect(r).toMatchObject({ outcome: "error" });
        expect(r.reason).toMatch(/^invalid configuration: uri: URI/);
      }
      const host = await lookupDevice({
        config: { ...config(), uri: `http://\${/csr/subject/CN}:${port}/api` },
        identity: "X",
        context: { csr: { subject: { CN: "127.0.0.1" } } },
        options,
      });
      expect(host.reason).toBe("invalid configuration: uri: URI's scheme, host and port cannot hold variables");
      expect(received).toEqual([]);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it("a refused connection", async () => {
    const url = sim.url;
    await sim.close();
    const r = await lookupDevice({ config: { ...config(), uri: `${url}/api/v1/devices?serial_number=\${identity}` }, identity: "X", options });
    expect(r).toMatchObject({ outcome: "error", reason: "network error: ECONNREFUSED", attempts: 3 });
    sim = await startKandjiSimulator({ token: TOKEN });
  });
});

describe("lookupDevice for the Validate button", () => {
  it("attaches the response when asked", async () => {
    const r = await lookup("C02ABC1234", {}, { includeResponse: true });
    expect(r.response).toMatchObject({ status: 200, truncated: false, headers: { "content-type": "application/json" } });
    expect(JSON.parse(r.response!.body)[0].serial_number).toBe("C02ABC1234");
  });
});

describe("other authentication methods", () => {
  it("sends Basic credentials and API key headers", async () => {
    const seen: IncomingMessage["headers"][] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ serial: "S1" }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/device/\${identity}`;
    const rules = [{ path: "data.serial", condition: "equals" as const, expected: "${identity}" }];
    try {
      const basic = await lookup("S1", { uri: base, authMethod: "basic", basicUsername: "jamf", secret: "pä ss", validationRules: rules });
      expect(basic.outcome).toBe("found");
      expect(seen[0]!.authorization).toBe(`Basic ${Buffer.from("jamf:pä ss", "utf8").toString("base64")}`);
      const key = await lookup("S1", { uri: base, authMethod: "api-key", apiKeyHeader: "X-API-Key", secret: "k1", validationRules: rules });
      expect(key.outcome).toBe("found");
      expect(seen[1]!["x-api-key"]).toBe("k1");
      expect(seen[1]!.authorization).toBeUndefined();
      const none = await lookup("S1", { uri: base, authMethod: "none", secret: null, validationRules: rules });
      expect(none.outcome).toBe("found");
      expect(seen[2]!.authorization).toBeUndefined();
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
