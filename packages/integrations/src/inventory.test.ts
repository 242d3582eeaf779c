import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { startKandjiSimulator, type KandjiSimulator } from "@attested/kandji-sim";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { listInventory, type InventoryOptions, type ListConfig } from "./inventory";

const TOKEN = "kandji-api-token";
const bearer = { authMethod: "bearer" as const, secret: TOKEN };
const fast: InventoryOptions = { allowHttp: true, http: { backoffBaseMs: 5, backoffMaxMs: 20, retryAfterCapMs: 20 } };
const serial = (i: number) => `C02FLEET${String(i).padStart(4, "0")}`;

describe("offset-limit paging against the Kandji simulator", () => {
  let sim: KandjiSimulator;
  beforeAll(async () => {
    sim = await startKandjiSimulator({
      token: TOKEN,
      seed: { devices: Array.from({ length: 650 }, (_, i) => ({ serial_number: serial(i) })) },
    });
  });
  afterAll(() => sim.close());
  afterEach(() => {
    sim.state.requests.length = 0;
  });
  const kandji = (over: Partial<ListConfig> = {}): ListConfig => ({
    uri: `${sim.url}/api/v1/devices`,
    paging: "offset-limit",
    itemsPath: "data",
    serialPath: "data.serial_number",
    pageSize: 300,
    ...over,
  });

  it("lists the whole fleet, one request per page", async () => {
    const r = await listInventory(kandji(), bearer, fast);
    expect(r).toMatchObject({ outcome: "complete", pages: 3, items: 650, requests: 3 });
    expect(r.serials.size).toBe(650);
    expect(r.serials.has(serial(649))).toBe(true);
    expect(sim.state.requests.map((q) => q.query)).toEqual([
      { limit: "300", offset: "0" },
      { limit: "300", offset: "300" },
      { limit: "300", offset: "600" },
    ]);
  });

  it("does not stop early when the server caps the page size below the one asked for", async () => {
    // Kandji answers at most 300 devices whatever the limit: a short first page is not the end.
    const r = await listInventory(kandji({ pageSize: 1000 }), bearer, fast);
    expect(r).toMatchObject({ outcome: "complete", pages: 3, items: 650 });
  });

  it("reports a wrong token as an error of the first page", async () => {
    const r = await listInventory(kandji(), { authMethod: "bearer", secret: "wrong" }, fast);
    expect(r.outcome).toBe("error");
    expect(r.reason).toMatch(/^page 1: HTTP 401/);
    expect(r.reason).not.toContain("wrong");
  });

  it("stops at the pass's budget without a complete inventory", async () => {
    let left = 2;
    const r = await listInventory(kandji(), bearer, {
      ...fast,
      budget: { take: async () => left-- > 0, giveBack: async () => {} },
    });
    expect(r).toMatchObject({ outcome: "error", pages: 2, budgetExhausted: true });
    expect(r.reason).toMatch(/^page 3: the request budget/);
  });

  it("takes retries from the budget and gives back the ones not used", async () => {
    const taken: number[] = [];
    const given: number[] = [];
    await listInventory(kandji(), bearer, {
      ...fast,
      budget: {
        take: async (n) => {
          taken.push(n);
          return true;
        },
        giveBack: async (n) => void given.push(n),
      },
    });
    expect(taken).toEqual([3, 3, 3]);
    expect(given).toEqual([2, 2, 2]);
  });
});

// Jamf Pro and Microsoft Graph shapes, served by hand: each test decides every answer.
type Answer = { status?: number; headers?: Record<string, string>; body: unknown };
let server: Server;
let base: string;
let handle: (url: URL, n: number) => Answer;
let hits: string[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", base);
    hits.push(url.pathname + url.search);
    const a = handle(url, hits.length);
    res.writeHead(a.status ?? 200, { "content-type": "application/json", ...a.headers });
    res.end(typeof a.body === "string" ? a.body : JSON.stringify(a.body));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
afterEach(() => {
  hits = [];
});

const FLEET = Array.from({ length: 250 }, (_, i) => serial(i));
/** Jamf Pro's computers-inventory: { totalCount, results: [{ hardware: { serialNumber } }] }. */
const jamfPage = (url: URL): Answer => {
  const page = Number(url.searchParams.get("page"));
  const size = Number(url.searchParams.get("page-size"));
  const results = FLEET.slice(page * size, page * size + size).map((s, i) => ({ id: String(page * size + i), hardware: { serialNumber: s } }));
  return { body: { totalCount: FLEET.length, results } };
};
const jamf = (over: Partial<ListConfig> = {}): ListConfig => ({
  uri: `${base}/api/v1/computers-inventory?section=HARDWARE`,
  paging: "page-size",
  itemsPath: "data.results",
  serialPath: "data.hardware.serialNumber",
  pageSize: 100,
  ...over,
});
/** Graph's managedDevices: { value: [...], "@odata.nextLink": ... } with a skip token. */
const graphPage = (url: URL, nextBase = base): Answer => {
  const skip = Number(url.searchParams.get("$skiptoken") ?? 0);
  const value = FLEET.slice(skip, skip + 100).map((s) => ({ id: s.toLowerCase(), serialNumber: s, complianceState: "compliant" }));
  const next = skip + 100 < FLEET.length ? `${nextBase}/v1.0/deviceManagement/managedDevices?$skiptoken=${skip + 100}` : undefined;
  return {
    body: {
      "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#deviceManagement/managedDevices",
      value,
      ...(next ? { "@odata.nextLink": next } : {}),
    },
  };
};
const graph = (over: Partial<ListConfig> = {}): ListConfig => ({
  uri: `${base}/v1.0/deviceManagement/managedDevices?$select=serialNumber`,
  paging: "next-link",
  itemsPath: "data.value",
  serialPath: "data.serialNumber",
  pageSize: 100,
  ...over,
});

describe("page-size paging (Jamf Pro)", () => {
  it("lists every page with page and page-size", async () => {
    handle = jamfPage;
    const r = await listInventory(jamf(), bearer, fast);
    expect(r).toMatchObject({ outcome: "complete", pages: 3, items: 250 });
    expect(r.serials.size).toBe(250);
    expect(hits).toEqual([0, 1, 2].map((p) => `/api/v1/computers-inventory?section=HARDWARE&page=${p}&page-size=100`));
  });

  it("waits out a 429's Retry-After and carries on", async () => {
    handle = (url, n) => (n === 2 ? { status: 429, headers: { "retry-after": "1" }, body: { httpStatus: 429, errors: [] } } : jamfPage(url));
    const started = Date.now();
    const r = await listInventory(jamf(), bearer, { ...fast, http: { ...fast.http, retryAfterCapMs: 2000 } });
    expect(r).toMatchObject({ outcome: "complete", pages: 3, requests: 4 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it("gives up on a page still refused after its retries: an error, not a short fleet", async () => {
    handle = (url) => (url.searchParams.get("page") === "1" ? { status: 429, headers: { "retry-after": "0" }, body: {} } : jamfPage(url));
    const r = await listInventory(jamf(), bearer, fast);
    expect(r).toMatchObject({ outcome: "error", pages: 1, status: 429 });
    expect(r.reason).toBe("page 2: HTTP 429 after 2 retries");
  });

  it("treats a page that fails mid-pass as a failed inventory", async () => {
    handle = (url) => (url.searchParams.get("page") === "2" ? { status: 503, body: "<html>down</html>" } : jamfPage(url));
    const r = await listInventory(jamf(), bearer, fast);
    expect(r).toMatchObject({ outcome: "error", pages: 2, status: 503 });
    expect(r.reason).toMatch(/^page 3: HTTP 503/);
  });

  it("refuses a malformed page", async () => {
    handle = (url) => (url.searchParams.get("page") === "1" ? { body: { totalCount: 250, results: { oops: true } } } : jamfPage(url));
    expect((await listInventory(jamf(), bearer, fast)).reason).toBe("page 2: data.results is not a list of devices");
    handle = (url) => (url.searchParams.get("page") === "1" ? { body: "{not json" } : jamfPage(url));
    expect((await listInventory(jamf(), bearer, fast)).reason).toBe("page 2: response is not valid JSON");
  });

  it("refuses a Serial Number Path that finds nothing rather than reading every device as missing", async () => {
    handle = jamfPage;
    const r = await listInventory(jamf({ serialPath: "data.serialNumber" }), bearer, fast);
    expect(r).toMatchObject({ outcome: "error", pages: 0 });
    expect(r.reason).toBe("page 1: no item has a serial number at data.serialNumber");
  });

  it("refuses a server that ignores the paging parameters", async () => {
    handle = () => jamfPage(new URL(`${base}/?page=0&page-size=100`));
    const r = await listInventory(jamf(), bearer, fast);
    expect(r.outcome).toBe("error");
    expect(r.reason).toMatch(/^page 2: the page repeats devices/);
  });
});

describe("@odata.nextLink paging (Microsoft Graph)", () => {
  it("follows the next links to the last page", async () => {
    handle = (url) => graphPage(url);
    const r = await listInventory(graph(), bearer, fast);
    expect(r).toMatchObject({ outcome: "complete", pages: 3, items: 250 });
    expect(hits[0]).toBe("/v1.0/deviceManagement/managedDevices?$select=serialNumber");
    expect(hits[2]).toBe("/v1.0/deviceManagement/managedDevices?$skiptoken=200");
  });

  it("never sends the credential to a next link on another host", async () => {
    handle = (url) => graphPage(url, "http://attacker.example");
    const r = await listInventory(graph(), bearer, fast);
    expect(r).toMatchObject({ outcome: "error", pages: 1 });
    expect(r.reason).toBe("page 2: @odata.nextLink points to another host (http://attacker.example)");
    expect(hits).toHaveLength(1);
  });
});
