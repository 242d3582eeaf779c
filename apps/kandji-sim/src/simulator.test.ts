import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startKandjiSimulator, type KandjiDevice, type KandjiSimulator } from "./index";

const TOKEN = "kandji-test-token";
let sim: KandjiSimulator;

const api = (p: string, init: RequestInit & { token?: string | null } = {}) => {
  const { token = TOKEN, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (token !== null) headers.set("authorization", `Bearer ${token}`);
  return fetch(sim.url + p, { ...rest, headers });
};
const adminApi = (p: string, method = "GET", body?: unknown) =>
  fetch(sim.url + p, {
    method,
    headers: { authorization: `Bearer ${sim.adminToken}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
const serials = (list: KandjiDevice[]) => list.map((d) => d.serial_number).sort();

beforeEach(async () => {
  sim = await startKandjiSimulator({
    token: TOKEN,
    seed: {
      blueprints: [{ id: "6391086e-85a1-4820-813c-f9c75025fff4", name: "ACME" }],
      devices: [
        {
          serial_number: "C02ABC1234",
          device_name: "Ada's MacBook Pro",
          blueprint_name: "ACME",
          user: { email: "ada@example.com", name: "Ada Lovelace" },
          tags: ["engineering"],
          mac_address: "AA:BB:CC:00:11:22",
        },
        { serial_number: "C02ABC12", platform: "iPad", blueprint_name: "Kiosks", asset_tag: "K-7" },
        { serial_number: "ZZ99", platform: "iPhone", os_version: "17.6.1", user: { email: "bob@example.com", name: "Bob" } },
      ],
    },
  });
});
afterEach(async () => {
  await sim.close();
});

describe("authentication", () => {
  it("answers 401 with Kandji's body without or with a wrong bearer token", async () => {
    const none = await api("/api/v1/devices", { token: null });
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ detail: "Authentication credentials were not provided." });
    const wrong = await api("/api/v1/devices", { token: "nope" });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ detail: "Incorrect authentication credentials." });
    const basic = await api("/api/v1/devices", { token: null, headers: { authorization: `Basic ${btoa(`x:${TOKEN}`)}` } });
    expect(basic.status).toBe(401);
  });

  it("keeps the admin API behind its own token", async () => {
    expect((await fetch(`${sim.url}/_sim/devices`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(401);
    expect((await adminApi("/_sim/devices")).status).toBe(200);
  });
});

describe("GET /api/v1/devices", () => {
  it("returns a top-level array of records with the real field names and formats", async () => {
    const res = await api("/api/v1/devices?serial_number=C02ABC1234");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    const list = (await res.json()) as KandjiDevice[];
    expect(Array.isArray(list)).toBe(true);
    const d = list.find((x) => x.serial_number === "C02ABC1234")!;
    expect(Object.keys(d)).toEqual([
      "agent_installed",
      "agent_version",
      "asset_tag",
      "blueprint_id",
      "blueprint_name",
      "device_id",
      "device_name",
      "first_enrollment",
      "is_missing",
      "is_removed",
      "last_check_in",
      "last_enrollment",
      "lost_mode_status",
      "mdm_enabled",
      "model",
      "os_version",
      "platform",
      "serial_number",
      "supplemental_build_version",
      "supplemental_os_version_extra",
      "tags",
      "user",
    ]);
    expect(d).toMatchObject({
      blueprint_id: "6391086e-85a1-4820-813c-f9c75025fff4",
      blueprint_name: "ACME",
      device_name: "Ada's MacBook Pro",
      platform: "Mac",
      agent_installed: true,
      mdm_enabled: true,
      is_removed: false,
      tags: ["engineering"],
      user: { email: "ada@example.com", name: "Ada Lovelace", is_archived: false },
    });
    expect(d.user !== "" && d.user.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(d.first_enrollment).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+00:00$/);
    expect(d.last_check_in).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const ipad = ((await (await api("/api/v1/devices?platform=iPad")).json()) as KandjiDevice[])[0]!;
    expect(ipad.user).toBe("");
    expect(ipad.agent_installed).toBe(false);
  });

  it("matches serial_number partially and case-insensitively, as the real API does", async () => {
    const partial = (await (await api("/api/v1/devices?serial_number=C02ABC12")).json()) as KandjiDevice[];
    expect(serials(partial)).toEqual(["C02ABC12", "C02ABC1234"]);
    const lower = (await (await api("/api/v1/devices?serial_number=abc123")).json()) as KandjiDevice[];
    expect(serials(lower)).toEqual(["C02ABC1234"]);
    expect(await (await api("/api/v1/devices?serial_number=NOPE")).json()).toEqual([]);
  });

  it("ignores an empty filter value (so an empty identity lists every device)", async () => {
    const all = (await (await api("/api/v1/devices?serial_number=")).json()) as KandjiDevice[];
    expect(all).toHaveLength(3);
  });

  it("supports the documented filters", async () => {
    const q = async (qs: string) => serials((await (await api(`/api/v1/devices?${qs}`)).json()) as KandjiDevice[]);
    const ada = (await (await api("/api/v1/devices?serial_number=C02ABC1234")).json()) as KandjiDevice[];
    expect(await q(`device_id=${ada[0]!.device_id}`)).toEqual(["C02ABC1234"]);
    expect(await q("device_name=macbook")).toEqual(["C02ABC1234"]);
    expect(await q("blueprint_id=6391086e")).toEqual(["C02ABC1234"]);
    expect(await q("platform=iphone")).toEqual(["ZZ99"]);
    expect(await q("os_version=17.6")).toEqual(["ZZ99"]);
    expect(await q("user_email=EXAMPLE.com")).toEqual(["C02ABC1234", "ZZ99"]);
    expect(await q("user_email_exact=bob@example.com")).toEqual(["ZZ99"]);
    expect(await q("user_email_exact=bob@example")).toEqual([]);
    expect(await q("user_name=lovelace")).toEqual(["C02ABC1234"]);
    expect(await q("user=Bob")).toEqual(["ZZ99"]);
    expect(await q("mac_address=aa:bb:cc:00:11:22")).toEqual(["C02ABC1234"]);
    expect(await q("asset_tag=K-7")).toEqual(["C02ABC12"]);
    expect(await q("asset_tag=K")).toEqual([]);
    expect(await q("model=iPad")).toEqual(["C02ABC12"]);
    expect(await q("tag_name=engineering")).toEqual(["C02ABC1234"]);
    expect(await q("tag_name=Engineering")).toEqual([]);
    expect(await q(`tag_id=${sim.state.tagId("engineering")}`)).toEqual(["C02ABC1234"]);
    expect(await q("tag_name_in=x,%20engineering")).toEqual(["C02ABC1234"]);
    expect(await q("filevault_enabled=true")).toEqual(["C02ABC1234"]);
    expect(await q("platform=Mac&user_email=bob")).toEqual([]);
    expect(await q("unknown_param=1")).toHaveLength(3);
  });

  it("orders, limits (hard cap 300) and offsets", async () => {
    const q = async (qs: string) => ((await (await api(`/api/v1/devices?${qs}`)).json()) as KandjiDevice[]).map((d) => d.serial_number);
    expect(await q("ordering=serial_number")).toEqual(["C02ABC12", "C02ABC1234", "ZZ99"]);
    expect(await q("ordering=-serial_number")).toEqual(["ZZ99", "C02ABC1234", "C02ABC12"]);
    expect(await q("ordering=serial_number&limit=1&offset=1")).toEqual(["C02ABC1234"]);
    expect(await q("ordering=serial_number&limit=abc")).toHaveLength(3);
    for (let i = 0; i < 310; i++) sim.state.addDevice({ serial_number: `BULK${String(i).padStart(4, "0")}` });
    expect(await q("limit=1000")).toHaveLength(300);
    expect(await q("offset=300")).toHaveLength(13);
  });
});

describe("GET /api/v1/devices/{device_id} and /details", () => {
  it("returns one record or the details document, 404 otherwise", async () => {
    const [ada] = (await (await api("/api/v1/devices?serial_number=C02ABC1234")).json()) as KandjiDevice[];
    const one = await api(`/api/v1/devices/${ada!.device_id}`);
    expect(await one.json()).toEqual(ada);
    const details = (await (await api(`/api/v1/devices/${ada!.device_id}/details`)).json()) as Record<string, any>;
    expect(details.general).toMatchObject({ device_id: ada!.device_id, blueprint_name: "ACME", assigned_user: "Ada Lovelace" });
    expect(details.hardware_overview.serial_number).toBe("C02ABC1234");
    expect(details.mdm.mdm_enabled).toBe("True");
    const missing = await api("/api/v1/devices/4820db3b-dec7-40b2-9c8f-eb771ac1a250");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ detail: "Not found." });
    expect((await api("/api/v1/devices/4820db3b-dec7-40b2-9c8f-eb771ac1a250/details")).status).toBe(404);
  });

  it("DELETE removes the device", async () => {
    const [zz] = (await (await api("/api/v1/devices?serial_number=ZZ99")).json()) as KandjiDevice[];
    expect((await api(`/api/v1/devices/${zz!.device_id}`, { method: "DELETE" })).status).toBe(204);
    expect(await (await api("/api/v1/devices?serial_number=ZZ99")).json()).toEqual([]);
  });
});

describe("admin API", () => {
  it("adds, patches and removes devices and blueprints", async () => {
    const bp = await adminApi("/_sim/blueprints", "POST", { name: "Lab" });
    expect(bp.status).toBe(201);
    const created = await adminApi("/_sim/devices", "POST", [
      { serial_number: "NEW1", blueprint_name: "Lab" },
      { serial_number: "NEW2", blueprint_name: "Lab" },
    ]);
    expect(created.status).toBe(201);
    expect(((await created.json()) as KandjiDevice[]).map((d) => d.blueprint_name)).toEqual(["Lab", "Lab"]);
    expect((await adminApi("/_sim/blueprints/Lab", "DELETE")).status).toBe(409);

    const patched = await adminApi("/_sim/devices/NEW1", "PATCH", { is_removed: true, user: { email: "c@example.com" } });
    expect(await patched.json()).toMatchObject({ is_removed: true, user: { email: "c@example.com", name: "" } });

    expect((await adminApi("/_sim/devices/NEW1", "DELETE")).status).toBe(200);
    expect((await adminApi("/_sim/devices/NEW2", "DELETE")).status).toBe(200);
    expect((await adminApi("/_sim/devices/NEW2", "DELETE")).status).toBe(404);
    expect((await adminApi("/_sim/blueprints/Lab", "DELETE")).status).toBe(200);
    expect(await (await api("/api/v1/devices?serial_number=NEW")).json()).toEqual([]);
  });

  it("rejects invalid devices with the field in error", async () => {
    const res = await adminApi("/_sim/devices", "POST", { device_name: "no serial" });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { issues: { fieldErrors: Record<string, string[]> } };
    expect(Object.keys(body.issues.fieldErrors)).toContain("serial_number");
    expect((await adminApi("/_sim/devices", "POST", { serial_number: "X", blueprint_id: "11111111-2222-3333-4444-555555555555" })).status).toBe(400);
  });

  it("logs requests without the token and resets to the seed", async () => {
    await api("/api/v1/devices?serial_number=a%26b");
    await api("/api/v1/devices", { token: "bad" });
    const log = (await (await adminApi("/_sim/requests")).json()) as Array<Record<string, unknown>>;
    expect(log.slice(-2)).toMatchObject([
      { path: "/api/v1/devices", query: { serial_number: "a&b" }, authorized: true, status: 200 },
      { authorized: false, status: 401 },
    ]);
    expect(JSON.stringify(log)).not.toContain(TOKEN);
    sim.state.addDevice({ serial_number: "EXTRA" });
    expect(await (await adminApi("/_sim/reset", "POST")).json()).toEqual({ devices: 3 });
  });
});

describe("faults", () => {
  it("answers 429 with Retry-After over the configured rate", async () => {
    await adminApi("/_sim/faults", "PUT", { rateLimit: { requests: 2, windowMs: 60_000 } });
    expect((await api("/api/v1/devices")).status).toBe(200);
    expect((await api("/api/v1/devices")).status).toBe(200);
    const limited = await api("/api/v1/devices");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(59);
    expect(((await limited.json()) as { detail: string }).detail).toMatch(/^Request was throttled\. Expected available in \d+ seconds\.$/);
  });

  it("frees rate slots when the window slides", async () => {
    sim.state.setFaults({ rateLimit: { requests: 1, windowMs: 150 } });
    expect((await api("/api/v1/devices")).status).toBe(200);
    expect((await api("/api/v1/devices")).status).toBe(429);
    await new Promise((r) => setTimeout(r, 200));
    expect((await api("/api/v1/devices")).status).toBe(200);
  });

  it("injects 5xx (as HTML, for N requests or until cleared)", async () => {
    sim.state.setFaults({ errorStatus: 503, errorCount: 2 });
    const first = await api("/api/v1/devices");
    expect(first.status).toBe(503);
    expect(first.headers.get("content-type")).toContain("text/html");
    expect((await api("/api/v1/devices")).status).toBe(503);
    expect((await api("/api/v1/devices")).status).toBe(200);
    await adminApi("/_sim/faults", "PUT", { errorStatus: 500 });
    expect((await api("/api/v1/devices")).status).toBe(500);
    expect((await api("/api/v1/devices")).status).toBe(500);
    await adminApi("/_sim/faults", "DELETE");
    expect((await api("/api/v1/devices")).status).toBe(200);
  });

  it("adds latency and stalls requests until the client gives up", async () => {
    sim.state.setFaults({ latencyMs: 120 });
    let t = Date.now();
    expect((await api("/api/v1/devices")).status).toBe(200);
    expect(Date.now() - t).toBeGreaterThanOrEqual(110);

    sim.state.setFaults({ latencyMs: 0, stall: true });
    t = Date.now();
    await expect(api("/api/v1/devices", { signal: AbortSignal.timeout(150) })).rejects.toThrow();
    expect(Date.now() - t).toBeGreaterThanOrEqual(140);
    expect(sim.state.requests.at(-1)?.status).toBe("stalled");
    // The admin API is not subject to faults, so a stalled tenant can be repaired.
    expect((await adminApi("/_sim/faults", "PATCH", { stall: false })).status).toBe(200);
    expect((await api("/api/v1/devices")).status).toBe(200);
  });

  it("close() does not wait for stalled requests", async () => {
    sim.state.setFaults({ stall: true });
    const pending = api("/api/v1/devices").catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    const t = Date.now();
    await sim.close();
    expect(Date.now() - t).toBeLessThan(1000);
    expect(await pending).toBeInstanceOf(Error);
    sim = await startKandjiSimulator({ token: TOKEN }); // for afterEach
  });
});

describe("CLI", () => {
  it("serves a seed file on the given port", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "kandji-sim-"));
    const seedFile = path.join(dir, "seed.json");
    writeFileSync(seedFile, JSON.stringify({ devices: [{ serial_number: "CLI123" }] }));
    const here = path.dirname(fileURLToPath(import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", path.join(here, "cli.ts"), "--port", "0", "--token", "cli-token", "--seed", seedFile], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (c: Buffer) => {
          out += c.toString();
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.stderr.on("data", (c: Buffer) => (out += c.toString()));
        child.once("exit", (code) => reject(new Error(`cli exited ${code}: ${out}`)));
      });
      const res = await fetch(`${url}/api/v1/devices?serial_number=CLI`, { headers: { authorization: "Bearer cli-token" } });
      expect(((await res.json()) as KandjiDevice[]).map((d) => d.serial_number)).toEqual(["CLI123"]);
    } finally {
      child.kill("SIGTERM");
    }
  });
});
