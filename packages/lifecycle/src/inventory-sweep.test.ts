import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKandjiSimulator, KANDJI_RATE_LIMIT, type KandjiSimulator } from "@attested/kandji-sim";
import { sealCorePlatformSecret } from "@attested/integrations";
import { checkDevicesAgainstSignalSources } from "./revoke-on-failure";
import { harness, type Harness } from "./testing";

// Revoke On Failure through a Core Platform with a List URI: the whole Kandji inventory is read page
// by page, and certificates of devices no longer listed are revoked; nothing is looked up per device.

const TOKEN = "kandji-api-token-0123456789";
const SERIALS = ["C02INV0001", "C02INV0002", "C02INV0003", "C02INV0004", "C02INV0005"];
let h: Harness;
let sim: KandjiSimulator;
let ca: { id: string; pem: string };
let policyId = "";
let corePlatformId = "";
const apiCalls = () => sim.state.requests.filter((r) => r.path.startsWith("/api/v1/devices"));
const status = async (id: string) => (await h.db.prisma.certificate.findUniqueOrThrow({ where: { id } })).status;
const minutes = (n: number) => h.clock.advanceDays(n / 1440);

beforeAll(async () => {
  h = await harness();
  sim = await startKandjiSimulator({ token: TOKEN, seed: { devices: SERIALS.map((serial_number) => ({ serial_number })) } });
  ca = await h.makeCa({});
  const core = await h.db.prisma.corePlatform.create({
    data: {
      name: "Kandji fleet",
      authMethod: "bearer",
      uri: `${sim.url}/api/v1/devices?serial_number=\${identity}`,
      validationRules: [{ path: "data[0].serial_number", condition: "equals", expected: "${identity}" }],
      listUri: `${sim.url}/api/v1/devices`,
      listPaging: "offset-limit",
      listItemsPath: "data",
      listSerialPath: "data.serial_number",
      listPageSize: 2,
      timeoutMs: 3000,
    },
  });
  corePlatformId = core.id;
  await h.db.prisma.corePlatform.update({ where: { id: core.id }, data: { secret: sealCorePlatformSecret(TOKEN, core.id, h.masterKey) } });
  const workflow = await h.db.prisma.policyWorkflow.create({ data: { name: "Kandji fleet devices", corePlatformId: core.id } });
  policyId = (
    await h.db.prisma.enrollmentPolicy.create({ data: { name: "Kandji fleet", policyWorkflowId: workflow.id, caId: ca.id, templateId: h.templateId } })
  ).id;
  await h.db.prisma.securitySignalSource.create({
    data: { name: "Kandji fleet lookup", lookupPurpose: "certificate-issuance", corePlatformId: core.id, revokeOnFailure: true },
  });
});
afterAll(async () => {
  await sim?.close();
  await h?.close();
});

describe("Revoke On Failure by fleet inventory", () => {
  it("reads the inventory once per interval, page by page, and revokes a device that left within one pass", async () => {
    h.clock.set(new Date());
    const certs = await Promise.all(SERIALS.slice(0, 3).map((s) => h.issue(ca.id, { cn: s, deviceSerial: s, enrollmentPolicyId: policyId })));

    const first = await checkDevicesAgainstSignalSources(h.ctx, { perMinute: 100 });
    expect(first).toMatchObject({ checked: 0, failed: [], errors: [] });
    // 5 devices, 2 a page: 2 + 2 + 1, the short page ends it. No per-device lookup.
    expect(first.inventory).toMatchObject([{ corePlatformId, outcome: "complete", pages: 3, requests: 3, devicesListed: 5, devicesMissing: 0, revoked: 0 }]);
    expect(apiCalls().map((r) => r.query)).toEqual([
      { limit: "2", offset: "0" },
      { limit: "2", offset: "2" },
      { limit: "2", offset: "4" },
    ]);

    sim.state.removeDevice("C02INV0002");
    minutes(30);
    expect((await checkDevicesAgainstSignalSources(h.ctx, { perMinute: 100 })).inventory).toEqual([]);

    minutes(31);
    const pass = await checkDevicesAgainstSignalSources(h.ctx, { perMinute: 100 });
    expect(pass.inventory).toMatchObject([{ outcome: "complete", devicesListed: 4, devicesMissing: 1, revoked: 1 }]);
    expect(await status(certs[1]!.id)).toBe("REVOKED");
    expect(await status(certs[0]!.id)).toBe("ACTIVE");
    expect(await status(certs[2]!.id)).toBe("ACTIVE");

    // For auditors: the pass in General Events, the device's own events on its timeline.
    const completed = await h.db.prisma.event.findFirstOrThrow({
      where: { type: "Fleet Sweep Completed", objectId: corePlatformId },
      orderBy: { time: "desc" },
    });
    expect(completed.details).toMatchObject({ pagesRead: 3, devicesListed: 4, devicesMissing: ["C02INV0002"], devicesMissingCount: 1, certificatesRevoked: 1 });
    expect(await h.db.prisma.event.count({ where: { type: "Fleet Sweep Started", objectId: corePlatformId } })).toBe(2);
    const timeline = await h.db.prisma.event.findMany({ where: { deviceSerial: "C02INV0002" }, select: { type: true, summary: true } });
    expect(timeline.map((e) => e.type)).toEqual(expect.arrayContaining(["Device Lookup Failed", "Certificate Revoked"]));
    expect(timeline.find((e) => e.type === "Device Lookup Failed")!.summary).toContain("not listed in the inventory of Kandji fleet");
  });

  it("revokes nothing when a page fails mid-pass, and tries again minutes later", async () => {
    const cert = await h.issue(ca.id, { cn: "C02INV0004", deviceSerial: "C02INV0004", enrollmentPolicyId: policyId });
    sim.state.removeDevice("C02INV0003");
    // Kandji's rate limit: the first page is served, the second answered 429.
    sim.state.setFaults({ rateLimit: { requests: 1, windowMs: 3_600_000 } });
    minutes(61);
    const failed = await checkDevicesAgainstSignalSources(h.ctx, { perMinute: 100 });
    expect(failed.inventory).toMatchObject([{ outcome: "error", pages: 1, revoked: 0 }]);
    expect(failed.inventory[0]!.reason).toMatch(/^page 2: HTTP 429 \(Request was throttled/);
    const event = await h.db.prisma.event.findFirstOrThrow({ where: { type: "Fleet Sweep Failed", objectId: corePlatformId } });
    expect(event.details).toMatchObject({ pagesRead: 1, budgetExhausted: false });
    expect(await h.db.prisma.certificate.count({ where: { deviceSerial: "C02INV0003", status: "REVOKED" } })).toBe(0);

    sim.state.setFaults({ rateLimit: KANDJI_RATE_LIMIT });
    minutes(6);
    const retried = await checkDevicesAgainstSignalSources(h.ctx, { perMinute: 100 });
    expect(retried.inventory).toMatchObject([{ outcome: "complete", devicesMissing: 1, revoked: 1 }]);
    expect(await h.db.prisma.certificate.count({ where: { deviceSerial: "C02INV0003", status: "REVOKED" } })).toBe(1);
    expect(await status(cert.id)).toBe("ACTIVE");
  });

  it("refuses an empty inventory rather than revoking every certificate", async () => {
    for (const s of ["C02INV0001", "C02INV0004", "C02INV0005"]) sim.state.removeDevice(s);
    minutes(61);
    const r = await checkDevicesAgainstSignalSources(h.ctx, { perMinute: 100 });
    expect(r.inventory).toMatchObject([{ outcome: "error", reason: "the inventory lists no device at all", revoked: 0 }]);
    expect(await h.db.prisma.certificate.count({ where: { deviceSerial: "C02INV0001", status: "ACTIVE" } })).toBe(1);
  });

  it("spreads a pass over the minutes when one minute's budget cannot hold it", async () => {
    for (const s of ["C02INV0001", "C02INV0004", "C02INV0005"]) sim.state.addDevice({ serial_number: s });
    sim.state.requests.length = 0;
    minutes(61);
    const waits: number[] = [];
    const r = await checkDevicesAgainstSignalSources(h.ctx, {
      perMinute: 1,
      sleep: async (ms) => {
        waits.push(ms);
        h.clock.advanceDays(ms / 86_400_000);
      },
    });
    expect(r.inventory).toMatchObject([{ outcome: "complete", pages: 2, devicesMissing: 0 }]);
    // One page a minute: the second page waited for the next minute.
    expect(waits).toHaveLength(1);
    expect(apiCalls()).toHaveLength(2);
  });
});
