import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKandjiSimulator, type KandjiSimulator } from "@attested/kandji-sim";
import { sealCorePlatformSecret } from "@attested/integrations";
import { lookupsInLastHour, lookupsPerMinute } from "./budget";
import { checkDevicesAgainstSignalSources } from "./revoke-on-failure";
import { crlLists, harness, type Harness } from "./testing";

const TOKEN = "kandji-api-token-0123456789";
let h: Harness;
let sim: KandjiSimulator;
let ca: { id: string; pem: string };
let policyId = "";
let corePlatformId = "";
let sourceId = "";
const apiCalls = () => sim.state.requests.filter((r) => r.path.startsWith("/api/v1/devices")).length;

beforeAll(async () => {
  h = await harness();
  sim = await startKandjiSimulator({
    token: TOKEN,
    seed: {
      devices: ["C02AAA0001", "C02AAA0002", "C02AAA0003"].map((serial_number) => ({ serial_number, user: { email: "jane@example.com", name: "Jane" } })),
    },
  });
  ca = await h.makeCa({});
  // The guide's chain: Core Platform (Generic HTTP -> Kandji) <- Policy Workflow <- Enrollment
  // Policy, and a Security Signal Source for Certificate Issuance with Revoke On Failure.
  const core = await h.db.prisma.corePlatform.create({
    data: {
      name: "Kandji",
      authMethod: "bearer",
      uri: `${sim.url}/api/v1/devices?serial_number=\${identity}`,
      validationRules: [{ path: "data[0].serial_number", condition: "equals", expected: "${identity}" }],
      timeoutMs: 3000,
    },
  });
  corePlatformId = core.id;
  await h.db.prisma.corePlatform.update({ where: { id: core.id }, data: { secret: sealCorePlatformSecret(TOKEN, core.id, h.masterKey) } });
  const workflow = await h.db.prisma.policyWorkflow.create({ data: { name: "Kandji devices", corePlatformId: core.id } });
  const policy = await h.db.prisma.enrollmentPolicy.create({
    data: { name: "Kandji enrollment", policyWorkflowId: workflow.id, caId: ca.id, templateId: h.templateId },
  });
  policyId = policy.id;
  const source = await h.db.prisma.securitySignalSource.create({
    data: { name: "Kandji lookup", lookupPurpose: "certificate-issuance", corePlatformId: core.id, revokeOnFailure: true },
  });
  sourceId = source.id;
});
afterAll(async () => {
  await sim?.close();
  await h?.close();
});

describe("Revoke On Failure", () => {
  it("revokes the certificates of a device removed from Kandji at the next sweep; OCSP and the CRL then say revoked", async () => {
    h.clock.set(new Date());
    const kept = await h.issue(ca.id, { cn: "C02AAA0001", deviceSerial: "C02AAA0001", enrollmentPolicyId: policyId });
    const gone = await h.issue(ca.id, { cn: "C02AAA0002", deviceSerial: "C02AAA0002", enrollmentPolicyId: policyId });
    const goneToo = await h.issue(ca.id, { cn: "C02AAA0002", deviceSerial: "C02AAA0002", enrollmentPolicyId: policyId });
    // Issued outside any enrollment policy: no signal source vouches for it, so it is not checked.
    const unrelated = await h.issue(ca.id, { cn: "C02AAA0003", deviceSerial: "C02AAA0003" });

    const first = await checkDevicesAgainstSignalSources(h.ctx, { perMinute: 100 });
    expect(first).toMatchObject({ checked: 2, found: 2, failed: [], errors: [] });

    sim.state.removeDevice("C02AAA0002");
    sim.state.removeDevice("C02AAA0003");
    // Within the recheck interval nothing is looked up again.
    h.clock.advanceDays(1 / 48);
    expect((await checkDevicesAgainstSignalSources(h.ctx, { perMinute: 100 })).checked).toBe(0);

    h.clock.advanceDays(1 / 24);
    const sweep = await checkDevicesAgainstSignalSources(h.ctx, { perMinute: 100 });
    expect(sweep.found).toBe(1);
    expect(sweep.failed).toEqual([
      { deviceSerial: "C02AAA0002", signalSourceId: sourceId, reason: "device not found", revoked: [gone.serialNumber, goneToo.serialNumber] },
    ]);

    const row = (id: string) => h.db.prisma.certificate.findUniqueOrThrow({ where: { id } });
    expect(await row(gone.id)).toMatchObject({ status: "REVOKED", revocationReason: "privilegeWithdrawn" });
    expect(await row(kept.id)).toMatchObject({ status: "ACTIVE" });
    expect(await row(unrelated.id)).toMatchObject({ status: "ACTIVE" });

    const ocsp = await h.ocspStatus(ca.id, ca.pem, gone.pemFile);
    expect(ocsp).toMatch(/: revoked/);
    expect(ocsp).toMatch(/Revocation Reason: .*\(0x9\)/);
    expect(await h.ocspStatus(ca.id, ca.pem, kept.pemFile)).toMatch(/: good/);
    const crl = await h.crlText(ca.id);
    expect(crlLists(crl, gone.serialNumber) && crlLists(crl, goneToo.serialNumber)).toBe(true);
    expect(crlLists(crl, kept.serialNumber)).toBe(false);

    // The events name the failed check.
    const failed = await h.db.prisma.event.findFirstOrThrow({ where: { type: "Device Lookup Failed", deviceSerial: "C02AAA0002" } });
    expect(failed.summary).toContain('failed its check by "Kandji lookup" (Kandji): device not found');
    const revoked = await h.db.prisma.event.findFirstOrThrow({ where: { type: "Certificate Revoked", certificateSerial: gone.serialNumber } });
    expect(revoked).toMatchObject({ actorName: "revoke-on-failure", deviceSerial: "C02AAA0002" });
    expect(revoked.details).toMatchObject({
      reason: "privilegeWithdrawn",
      revokeOnFailure: true,
      failedCheck: "device not found",
      signalSource: { name: "Kandji lookup" },
    });
  });

  it("a refused token (403) revokes nothing and alerts the admins once; the next answer clears the alert", async () => {
    h.clock.advanceDays(1);
    const serial = "C02AAA0007";
    sim.state.addDevice({ serial_number: serial });
    const cert = await h.issue(ca.id, { cn: serial, deviceSerial: serial, enrollmentPolicyId: policyId });
    const alerts = () => h.db.prisma.event.count({ where: { type: "Core Platform Alert", objectId: corePlatformId } });
    const before = await alerts();
    sim.state.setFaults({ errorStatus: 403, errorCount: null });
    const refused = await checkDevicesAgainstSignalSources(h.ctx, { perMinute: 100 });
    sim.state.clearFaults();
    expect(refused.failed).toEqual([]);
    expect(refused.errors.length).toBeGreaterThan(1); // several devices refused...
    expect(await alerts()).toBe(before + 1); // ...one alert
    expect((await h.db.prisma.corePlatform.findUniqueOrThrow({ where: { id: corePlatformId } })).alertReason).toContain("HTTP 403");
    expect((await h.db.prisma.certificate.findUniqueOrThrow({ where: { id: cert.id } })).status).toBe("ACTIVE");

    h.clock.advanceDays(1);
    await checkDevicesAgainstSignalSources(h.ctx, { perMinute: 100 });
    expect((await h.db.prisma.corePlatform.findUniqueOrThrow({ where: { id: corePlatformId } })).alertSince).toBeNull();
    const cleared = await h.db.prisma.event.findFirstOrThrow({ where: { type: "Core Platform Alert Cleared", objectId: corePlatformId } });
    expect(cleared.details).toMatchObject({ clearedBy: "a Revoke On Failure check got an answer" });
  });

  it("names a failed validation rule, and never revokes on lookup errors", async () => {
    h.clock.advanceDays(1);
    const serial = "C02AAA0004";
    sim.state.addDevice({ serial_number: serial });
    const cert = await h.issue(ca.id, { cn: serial, deviceSerial: serial, enrollmentPolicyId: policyId });

    sim.state.setFaults({ errorStatus: 503, errorCount: null });
    const outage = await checkDevicesAgainstSignalSources(h.ctx, { perMinute: 100 });
    sim.state.clearFaults();
    expect(outage.failed).toEqual([]);
    expect(outage.errors.length).toBeGreaterThan(0);
    expect((await h.db.prisma.certificate.findUniqueOrThrow({ where: { id: cert.id } })).status).toBe("ACTIVE");
    expect(await h.db.prisma.event.count({ where: { type: "Device Lookup Failed", summary: { contains: "nothing was revoked" } } })).toBe(1);

    // The device is still in Kandji but no longer passes a rule (MDM turned off).
    await h.db.prisma.corePlatform.update({
      where: { id: corePlatformId },
      data: {
        validationRules: [
          { path: "data[0].serial_number", condition: "equals", expected: "${identity}" },
          { path: "data[0].mdm_enabled", condition: "equals", expected: "true" },
        ],
      },
    });
    sim.state.updateDevice(serial, { mdm_enabled: false });
    h.clock.advanceDays(1);
    const sweep = await checkDevicesAgainstSignalSources(h.ctx, { perMinute: 100 });
    expect(sweep.failed.map((f) => f.deviceSerial)).toEqual([serial]);
    expect(sweep.failed[0].reason).toBe('rule failed: data[0].mdm_enabled equals "true": actual "false"');
    const event = await h.db.prisma.event.findFirstOrThrow({ where: { type: "Certificate Revoked", certificateSerial: cert.serialNumber } });
    expect(event.details).toMatchObject({ failedRules: ['data[0].mdm_enabled equals "true": actual "false"'] });
  });

  it("paces lookups: at most the minute's budget, shared by concurrent sweeps, and under Kandji's hourly limit", async () => {
    // Kandji's 10,000 requests an hour: the sweep's share per minute, times 61 windows, stays below.
    expect(lookupsPerMinute(10_000) * 61).toBeLessThanOrEqual(10_000);
    expect(lookupsPerMinute() * 61).toBeLessThanOrEqual(10_000);

    h.clock.advanceDays(1);
    for (let i = 0; i < 12; i++) {
      const serial = `C02BBB${String(i).padStart(4, "0")}`;
      sim.state.addDevice({ serial_number: serial });
      await h.issue(ca.id, { cn: serial, deviceSerial: serial, enrollmentPolicyId: policyId });
    }
    const active = await h.db.prisma.certificate.groupBy({ by: ["deviceSerial"], where: { status: "ACTIVE", enrollmentPolicyId: policyId } });
    const before = apiCalls();
    // Two instances sweeping in the same minute draw from one budget of 5 requests.
    const [a, b] = await Promise.all([checkDevicesAgainstSignalSources(h.ctx, { perMinute: 5 }), checkDevicesAgainstSignalSources(h.ctx, { perMinute: 5 })]);
    expect(a.checked + b.checked).toBeLessThanOrEqual(5);
    expect(apiCalls() - before).toBeLessThanOrEqual(5);
    expect(await lookupsInLastHour(h.db.prisma, corePlatformId, h.clock.now)).toBeLessThanOrEqual(5 + 100);

    // Minute by minute, every device gets its turn within the budget.
    const phase = new Date(h.clock.now);
    const uncheckedDevices = async () => {
      const done = await h.db.prisma.deviceCheck.findMany({ where: { signalSourceId: sourceId, checkedAt: { gte: phase } }, select: { deviceSerial: true } });
      return active.filter((d) => !done.some((c) => c.deviceSerial === d.deviceSerial)).length;
    };
    let minutes = 0;
    while ((await uncheckedDevices()) > 0 && minutes < 10) {
      h.clock.set(new Date(h.clock.now.getTime() + 60_000));
      minutes++;
      const callsBefore = apiCalls();
      const r = await checkDevicesAgainstSignalSources(h.ctx, { perMinute: 5 });
      expect(r.checked).toBeLessThanOrEqual(5);
      expect(apiCalls() - callsBefore).toBeLessThanOrEqual(5);
    }
    expect(await uncheckedDevices()).toBe(0);
    expect(minutes).toBeGreaterThanOrEqual(2);
    expect(sim.state.requests.filter((r) => r.status === 429)).toEqual([]);
  });

  it("a NUL in Kandji's answer is named in the device's check and its revocation, not a failed sweep", async () => {
    h.clock.advanceDays(1);
    const serial = "C02AAA0009";
    sim.state.addDevice({ serial_number: serial, device_name: "Kiosk\u0000" });
    const cert = await h.issue(ca.id, { cn: serial, deviceSerial: serial, enrollmentPolicyId: policyId });
    await h.db.prisma.corePlatform.update({
      where: { id: corePlatformId },
      data: {
        validationRules: [
          { path: "data[0].serial_number", condition: "equals", expected: "${identity}" },
          { path: "data[0].device_name", condition: "equals", expected: "Kiosk" },
        ],
      },
    });
    const sweep = await checkDevicesAgainstSignalSources(h.ctx, { perMinute: 100 });
    expect(sweep.failed.map((f) => f.deviceSerial)).toContain(serial);
    const check = await h.db.prisma.deviceCheck.findFirstOrThrow({ where: { deviceSerial: serial } });
    expect(check.reason).toBe('rule failed: data[0].device_name equals "Kiosk": actual "Kiosk\\u0000"');
    expect((await h.db.prisma.certificate.findUniqueOrThrow({ where: { id: cert.id } })).status).toBe("REVOKED");
  });
});
