import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enroll, generateDevices, type SimulatedDevice } from "@attested/device-sim";
import { startKandjiSimulator, type KandjiSimulator } from "@attested/kandji-sim";
import { adminApiToken, freshPostgres, restCall, restOk, setUpKandjiChain, startPortal, tempDir, type PortalProcess } from "./harness";

// Revoke On Failure by fleet inventory through the real server: the guide's chain set up over REST,
// two devices enrolled through ACME (enrollment looks each device up), one then removed from Kandji;
// the background sweep reads Kandji's inventory page by page, with no per-device lookup, revokes
// that device's certificate, and auditors read the pass in General Events and the device's timeline.

describe.skipIf(!process.env.DATABASE_URL)("fleet inventory sweep", () => {
  const cleanup: (() => Promise<void>)[] = [];
  const kandjiToken = `kandji-${randomBytes(16).toString("hex")}`;
  const [kept, gone] = generateDevices(2, "FLT") as [SimulatedDevice, SimulatedDevice];
  let portal: PortalProcess;
  let kandji: KandjiSimulator;
  let adminToken = "";
  let auditorToken = "";
  const ids: Record<string, string> = {};

  const api = (token: string, method: string, p: string, body?: unknown) => restCall(portal.url, token, method, p, body);
  const admin = (method: string, p: string, body?: unknown) => restOk(portal.url, adminToken, method, p, body);
  const inventory = () => ({
    listUri: `${kandji.url}/api/v1/devices`,
    listPaging: "offset-limit",
    listItemsPath: "data",
    listSerialPath: "data.serial_number",
    listPageSize: 300,
  });

  beforeAll(async () => {
    const db = await freshPostgres();
    cleanup.push(db.drop);
    const env = {
      DATABASE_URL: db.url,
      DATA_DIR: tempDir(),
      MASTER_KEY: randomBytes(32).toString("hex"),
      INTEGRATIONS_ALLOW_HTTP: "1",
      // Each minute's sweep may read the inventory again (3 s), so the test waits one cron tick, not an hour.
      LIFECYCLE_DEVICE_RECHECK_MINUTES: "0.05",
    };
    adminToken = adminApiToken(env);
    auditorToken = adminApiToken(env, "auditor");
    portal = await startPortal(env);
    cleanup.push(() => portal.stop());
    kandji = await startKandjiSimulator({
      token: kandjiToken,
      seed: {
        devices: [kept, gone, ...generateDevices(3, "FLX")].map((d) => ({
          serial_number: d.serialNumber,
          device_name: d.deviceName,
          platform: "Mac",
          udid: d.udid,
        })),
      } as never,
    });
    cleanup.push(() => kandji.close());

    const chain = await setUpKandjiChain(admin, { kandji: { url: kandji.url, token: kandjiToken }, revokeOnFailure: true });
    Object.assign(ids, chain.ids);
    const simCa = chain.simCa;
    const profile = String((await api(adminToken, "GET", `/device-management-platforms/${ids.dmp}/profile`)).text);
    for (const device of [kept, gone]) await enroll({ profile, device, ca: simCa });
  }, 240_000);

  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  });

  it("the List URI is set over REST only by an admin, only on the URI's host", async () => {
    expect((await api(auditorToken, "PATCH", `/core-platforms/${ids.core}`, inventory())).status).toBe(403);
    const elsewhere = await api(adminToken, "PATCH", `/core-platforms/${ids.core}`, { ...inventory(), listUri: "http://127.0.0.1:9/api/v1/devices" });
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.text).toContain("List URI must be on the same scheme, host and port as the URI");
    expect(await admin("PATCH", `/core-platforms/${ids.core}`, inventory())).toMatchObject({
      listPaging: "offset-limit",
      listUri: `${kandji.url}/api/v1/devices`,
    });
  });

  it("a device removed from Kandji loses its certificate in one inventory pass, with no per-device lookup", async () => {
    const certOf = async (serial: string) => (await admin("GET", `/certificates?deviceSerial=${serial}`)).data[0];
    expect((await certOf(gone.serialNumber)).status).toBe("ACTIVE");
    kandji.state.removeDevice(gone.serialNumber);
    kandji.state.requests.length = 0;

    // The worker's Revoke On Failure job runs every minute.
    const deadline = Date.now() + 150_000;
    let completed: { details: Record<string, unknown> } | undefined;
    while (Date.now() < deadline) {
      const events = (await admin("GET", "/events?type=Fleet%20Sweep%20Completed")).data as { details: Record<string, unknown> }[];
      completed = events.find((e) => (e.details.devicesMissing as string[]).includes(gone.serialNumber));
      if (completed) break;
      await new Promise((r) => setTimeout(r, 2_000));
    }
    expect(completed?.details).toMatchObject({ devicesListed: 4, devicesMissingCount: 1, certificatesRevoked: 1, pagesRead: 2, paging: "offset-limit" });
    expect((await certOf(gone.serialNumber)).status).toBe("REVOKED");
    expect((await certOf(kept.serialNumber)).status).toBe("ACTIVE");
    // 4 devices: a short first page is not trusted, so an empty second page ends the list.
    // Only list requests reached Kandji: no serial_number lookups.
    const sweepRequests = kandji.state.requests.filter((r) => r.path === "/api/v1/devices");
    expect(sweepRequests.length).toBeGreaterThan(0);
    expect(sweepRequests.every((r) => r.query.limit === "300" && !("serial_number" in r.query))).toBe(true);

    // Auditors read the pass in General Events, and the device's timeline says what happened to it.
    const started = await api(auditorToken, "GET", "/events?type=Fleet%20Sweep%20Started");
    expect(started.status).toBe(200);
    expect(started.json().data.length).toBeGreaterThan(0);
    const timeline = (await api(auditorToken, "GET", `/events?deviceSerial=${gone.serialNumber}`)).json().data as { type: string; summary: string }[];
    expect(timeline.map((e) => e.type)).toEqual(expect.arrayContaining(["Certificate Issued", "Device Lookup Failed", "Certificate Revoked"]));
    expect(timeline.find((e) => e.type === "Device Lookup Failed")!.summary).toContain("not listed in the inventory of Kandji API");
  }, 180_000);
});
