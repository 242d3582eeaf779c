import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AcmeClientError, type SimulatedAppleCa, enroll } from "@attested/device-sim";
import type { startKandjiSimulator } from "@attested/kandji-sim";
import { authorizeRadius, updateDeviceRole } from "@attested/policy";
import { KANDJI_TOKEN as TOKEN, type startTestbed, startKandjiPolicyBed, testAdmin } from "./testing";

// Issue #5's must-show, end to end: ACME device-attest-01 → Kandji lookup (simulator over HTTP) →
// Enrollment Policy → template with ${/device/...} → certificate, or "Enrollment Denied" with why.

let bed: Awaited<ReturnType<typeof startTestbed>>;
let kandji: Awaited<ReturnType<typeof startKandjiSimulator>>;
let simCa: SimulatedAppleCa;
let profile = "";
const device = (serialNumber: string) => ({ serialNumber, udid: `00008112-${serialNumber.padStart(16, "0")}`, email: "ignored@example.com" });

beforeAll(async () => {
  ({ bed, kandji, simCa, profile } = await startKandjiPolicyBed([
    { serial_number: "C02POLICY01", device_name: "Ada's MacBook Pro", user: { email: "ada@example.com", name: "Ada Lovelace" } },
    { serial_number: "C02POLICY0199", device_name: "Kiosk" },
    // PostgreSQL text and jsonb refuse NUL and lone surrogates; an MDM may still answer them.
    { serial_number: "C02NULNAME01", device_name: "Kiosk\u0000\ud800", user: { email: "nul\u0000@example.com", name: "N\u0000L" } },
  ]));
}, 120_000);
afterAll(async () => {
  await kandji?.close();
  await bed?.close();
});
beforeEach(() => kandji.state.clearFaults());

// What a denied device may be told: nothing of the policies, the Core Platform, the MDM's answer or other devices.
const INTERNAL = /Kandji|polic|C02POLICY01|rule|data\[0\]|HTTP \d|timeout|not found/i;

const denied = async (serial: string) => {
  const before = await bed.db.prisma.certificate.count();
  const err = await enroll({ profile, device: device(serial), ca: simCa, allowHttp: true }).catch((e) => e);
  expect(err).toBeInstanceOf(AcmeClientError);
  const problem = (err as AcmeClientError).problem!;
  expect(problem.type).toBe("urn:ietf:params:acme:error:unauthorized");
  expect(problem.detail).not.toMatch(INTERNAL);
  expect(await bed.db.prisma.certificate.count()).toBe(before);
  const event = await bed.db.prisma.event.findFirstOrThrow({ where: { type: "Enrollment Denied", deviceSerial: serial }, orderBy: { id: "desc" } });
  expect(event.details).toMatchObject({ problem: problem.detail });
  return event;
};

describe("enrollment through the Enrollment Policy and the Kandji lookup", () => {
  it("a device present in Kandji is issued a certificate carrying its ${/device/...} values", async () => {
    const r = await enroll({ profile, device: device("C02POLICY01"), ca: simCa, allowHttp: true });
    const text = execFileSync("openssl", ["x509", "-noout", "-text"], { input: r.certificatePem, encoding: "utf8" });
    expect(text).toMatch(/Subject: CN\s*=\s*C02POLICY01, OU\s*=\s*Ada's MacBook Pro/);
    expect(text).toContain("email:ada@example.com");
    const issued = await bed.db.prisma.event.findFirstOrThrow({ where: { type: "Certificate Issued", deviceSerial: "C02POLICY01" } });
    expect(issued.details).toMatchObject({
      policy: { name: "Kandji enrollment" },
      decision: { candidates: [expect.objectContaining({ result: "selected" })] },
    });
  });

  it("a device absent from Kandji is denied: device not found", async () => {
    const e = await denied("C02NOTHERE");
    expect(e.summary).toContain("device not found");
  });

  it("a serial that is only a prefix of another device's is denied (exact match)", async () => {
    const e = await denied("C02POLICY0");
    // The other device's serial stays on the audit trail.
    expect(e.summary).toContain('rule failed: data[0].serial_number equals "C02POLICY0": actual "C02POLICY01"');
    expect(e.details).toMatchObject({ code: "deviceNotFound", reason: expect.stringContaining("C02POLICY01") });
  });

  it("Kandji refusing the token (401) denies with that reason, issues nothing, and the server stays healthy", async () => {
    kandji.state.setFaults({ errorStatus: 401 });
    const e = await denied("C02POLICY01");
    expect(e.summary).toMatch(/HTTP 401/);
    kandji.state.clearFaults();
    const ok = await enroll({ profile, device: device("C02POLICY01"), ca: simCa, allowHttp: true });
    expect(ok.certificatePem).toContain("BEGIN CERTIFICATE");
  });

  it.each([401, 403])(
    "Kandji refusing the token (%i) alerts the admins once: the platform is marked, one event, one mail per active admin; the next answer clears it",
    async (status) => {
      const db = bed.db.prisma;
      if (!(await db.organization.count())) await db.organization.create({ data: { name: "Example Corp" } });
      await db.organization.updateMany({ data: { smtpHost: "smtp.example.test", smtpFrom: "pki@example.test" } });
      for (const [email, role, disabled] of [
        ["ops@example.test", "ADMIN", false],
        ["audit@example.test", "AUDITOR", false],
        ["gone@example.test", "ADMIN", true],
      ] as const)
        await db.user.upsert({ where: { email }, create: { email, name: email, passwordHash: "x", role, disabled }, update: {} });
      const cp = await db.corePlatform.findUniqueOrThrow({ where: { name: "Kandji" } });
      const alerts = () => db.event.findMany({ where: { type: "Core Platform Alert", objectId: cp.id }, orderBy: { id: "asc" } });
      const before = (await alerts()).length;

      kandji.state.setFaults({ errorStatus: status });
      await denied("C02POLICY01");
      await denied("C02POLICY01"); // a second refusal: still one alert
      const raised = await alerts();
      expect(raised.length).toBe(before + 1);
      const alert = raised.at(-1)!;
      expect(alert.summary).toContain(`HTTP ${status}`);
      expect(alert.details).toMatchObject({ corePlatform: { id: cp.id, name: "Kandji" }, httpStatus: status, mailedTo: ["ops@example.test"] });
      const marked = await db.corePlatform.findUniqueOrThrow({ where: { id: cp.id } });
      expect(marked.alertReason).toContain(`HTTP ${status}`);
      const mail = await db.notification.findMany({ where: { kind: "platformAlert", createdAt: marked.alertSince! } });
      expect(mail.map((m) => m.recipient)).toEqual(["ops@example.test"]);
      expect(mail[0].subject).toContain('Core Platform "Kandji"');
      expect(mail[0].body).not.toContain(TOKEN);

      kandji.state.clearFaults();
      await enroll({ profile, device: device("C02POLICY01"), ca: simCa, allowHttp: true });
      expect((await db.corePlatform.findUniqueOrThrow({ where: { id: cp.id } })).alertSince).toBeNull();
      const cleared = await db.event.findFirstOrThrow({ where: { type: "Core Platform Alert Cleared", objectId: cp.id }, orderBy: { id: "desc" } });
      expect(cleared.id).toBeGreaterThan(alert.id);
      expect(cleared.details).toMatchObject({ clearedBy: "an enrollment lookup got an answer", reason: expect.stringContaining(`HTTP ${status}`) });
    },
  );

  it.each([
    [{ errorStatus: 500 }, /HTTP 500/],
    [{ errorStatus: 503 }, /HTTP 503/],
    [{ rateLimit: { requests: 1, windowMs: 60_000 } }, /HTTP 429/],
    [{ stall: true }, /timeout/],
  ])(
    "Kandji down (%j): the device is told to come back (503, Retry-After), the order stays ready, the outage is on the trail, and the device enrolls once Kandji answers again",
    async (fault, reason) => {
      kandji.state.setFaults(fault as never);
      // Use up the one request the window allows, so the lookup meets 429.
      if ("rateLimit" in fault) await fetch(`${kandji.url}/api/v1/devices`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const before = await bed.db.prisma.certificate.count();
      const deniedBefore = await bed.db.prisma.event.count({ where: { type: "Enrollment Denied" } });
      const alertsBefore = await bed.db.prisma.event.count({ where: { type: "Core Platform Alert" } });
      const err = await enroll({ profile, device: device("C02POLICY01"), ca: simCa, allowHttp: true }).catch((e) => e);
      expect(err).toBeInstanceOf(AcmeClientError);
      const refused = err as AcmeClientError;
      expect(refused.status).toBe(503);
      expect(refused.problem?.type).toBe("urn:ietf:params:acme:error:serverInternal");
      expect(refused.retryAfter).toBe("30");
      expect(refused.problem?.detail).not.toMatch(INTERNAL);
      expect(await bed.db.prisma.certificate.count()).toBe(before);
      expect(await bed.db.prisma.event.count({ where: { type: "Enrollment Denied" } })).toBe(deniedBefore);
      // An outage is not the admins' to fix: no alert (the Device Lookup Failed event records it).
      expect(await bed.db.prisma.event.count({ where: { type: "Core Platform Alert" } })).toBe(alertsBefore);
      const outage = await bed.db.prisma.event.findFirstOrThrow({
        where: { type: "Device Lookup Failed", deviceSerial: "C02POLICY01" },
        orderBy: { id: "desc" },
      });
      expect(outage.summary).toMatch(reason);
      const order = await bed.db.prisma.acmeOrder.findFirstOrThrow({ orderBy: { createdAt: "desc" } });
      expect(order.status).toBe("ready");

      // The outage ends: the device enrolls.
      kandji.state.clearFaults();
      kandji.state.setFaults({ rateLimit: { requests: 10_000, windowMs: 3_600_000 } });
      const ok = await enroll({ profile, device: device("C02POLICY01"), ca: simCa, allowHttp: true });
      expect(ok.certificatePem).toContain("BEGIN CERTIFICATE");
    },
  );
});

describe("NUL and other control characters from the MDM or in the CSR", () => {
  it("never make the server fail: the device gets an ACME problem, and the denial is on the trail with the NUL visible", async () => {
    // deviceName goes into the OU, where a control character is refused; the CSR's CN carries a NUL too.
    const withNul = profile.replace(/(<string>CN<\/string>\s*<string>)\$SERIAL_NUMBER/, "$1$$SERIAL_NUMBER$$FULL_NAME");
    expect(withNul).not.toBe(profile);
    const before = await bed.db.prisma.certificate.count();
    const err = await enroll({ profile: withNul, device: { ...device("C02NULNAME01"), fullName: "\u0000\u0001" }, ca: simCa, allowHttp: true }).catch((e) => e);
    expect(err).toBeInstanceOf(AcmeClientError);
    expect((err as AcmeClientError).problem).toMatchObject({ type: expect.stringMatching(/^urn:ietf:params:acme:error:(unauthorized|badCSR)$/) });
    expect(await bed.db.prisma.certificate.count()).toBe(before);
    const e = await bed.db.prisma.event.findFirstOrThrow({ where: { type: "Enrollment Denied", deviceSerial: "C02NULNAME01" }, orderBy: { id: "desc" } });
    const trail = JSON.stringify({ summary: e.summary, details: e.details });
    expect(trail).toContain("Kiosk\ufffd\ufffd");
    expect(trail).not.toContain("\\u0000");
  });

  it("a NUL in the identifier the device orders is refused with an ACME problem, not a server error", async () => {
    const err = await enroll({ profile, device: device("C02\u0000NUL"), ca: simCa, allowHttp: true }).catch((e) => e);
    expect(err).toBeInstanceOf(AcmeClientError);
    expect((err as AcmeClientError).problem?.type).not.toBe("urn:ietf:params:acme:error:serverInternal");
  });
});

// Issue #23: the Device Role's posture conditions on what Apple attested, end to end over ACME, and
// the posture recorded at issuance in the RADIUS answer.
describe("attested posture in the Device Role", () => {
  const radius = { type: "api-token" as const, id: "00000000-0000-0000-0000-0000000000aa", name: "token:freeradius", role: "ADMIN" as const };
  let roleId = "";
  const setPosture = async (postureConditions: unknown[]) => {
    await updateDeviceRole(bed.db.prisma, testAdmin, roleId, { postureConditions });
  };
  const mac = (over: Record<string, unknown> = {}) => ({ ...device("C02POLICY01"), ...over });
  const deniedWith = async (d: Record<string, unknown>) => {
    const err = await enroll({ profile, device: d as never, ca: simCa, allowHttp: true }).catch((e) => e);
    expect((err as AcmeClientError).problem?.type).toBe("urn:ietf:params:acme:error:unauthorized");
    expect((err as AcmeClientError).problem?.detail).not.toMatch(/macOS|SIP|posture/);
    return bed.db.prisma.event.findFirstOrThrow({ where: { type: "Enrollment Denied", deviceSerial: "C02POLICY01" }, orderBy: { id: "desc" } });
  };

  beforeAll(async () => {
    roleId = (await bed.db.prisma.deviceRole.findFirstOrThrow({ where: { name: "Apple attested" } })).id;
    await setPosture([
      { check: "macosVersionAtLeast", value: "14.0" },
      { check: "secureBootAtLeast", value: "Full Security" },
      { check: "sip", value: "enabled" },
      { check: "thirdPartyKexts", value: "notAllowed" },
    ]);
  });
  afterAll(() => setPosture([]));

  it("a Mac below the required macOS is denied with the fact, the rule and the value in the decision", async () => {
    const e = await deniedWith(mac({ osVersion: "13.6" }));
    expect(e.details).toMatchObject({
      code: "postureNotMet",
      reason: expect.stringContaining("attested macOS 13.6 is below the required 14.0"),
      decision: {
        candidates: [
          expect.objectContaining({
            result: "postureNotMet",
            posture: expect.arrayContaining([
              {
                condition: "macOS version at least 14.0",
                passed: false,
                notApplicable: false,
                actual: "13.6",
                message: "attested macOS 13.6 is below the required 14.0",
              },
            ]),
          }),
        ],
      },
    });
    // Decided on what Apple attested: the MDM was not asked.
    expect((e.details as { decision: { candidates: { lookup?: unknown }[] } }).decision.candidates[0]!.lookup).toBeUndefined();
  });

  it.each([
    ["SIP disabled", { sipStatus: 1 }, "attested SIP is disabled, the rule requires it enabled"],
    ["Reduced Security", { secureBootLevel: "Reduced Security" }, "attested Secure Boot level Reduced Security is below the required Full Security"],
    ["kexts allowed", { thirdPartyKexts: 1 }, "attested third-party kernel extensions are allowed, the rule requires not allowed"],
  ])("a Mac with %s is denied", async (_name, over, message) => {
    const e = await deniedWith(mac({ osVersion: "15.5", ...over }));
    expect(e.details).toMatchObject({ code: "postureNotMet", reason: expect.stringContaining(message) });
  });

  it("a Mac that meets it is issued; the certificate keeps the posture and the RADIUS answer carries it", async () => {
    const r = await enroll({ profile, device: mac({ osVersion: "14.10", softwareUpdateDeviceId: "J514sAP" }) as never, ca: simCa, allowHttp: true });
    const answer = await authorizeRadius(bed.ctx, radius, { certificatePem: r.certificatePem });
    expect(answer).toMatchObject({
      decision: "accept",
      posture: {
        platform: "macOS",
        osVersion: "14.10",
        softwareUpdateDeviceId: "J514sAP",
        secureBootLevel: "Full Security",
        sipEnabled: true,
        thirdPartyKextsAllowed: false,
      },
    });
  });

  it("Mac-only rules do not apply to an iPhone; 'Platform is macOS' keeps it out", async () => {
    const phone = mac({ platform: "iOS", osVersion: "17.4", softwareUpdateDeviceId: "D83AP" });
    const r = await enroll({ profile, device: phone as never, ca: simCa, allowHttp: true });
    expect((await authorizeRadius(bed.ctx, radius, { certificatePem: r.certificatePem })).posture).toMatchObject({
      platform: "iOS",
      osVersion: "17.4",
      sipEnabled: null,
    });
    await setPosture([{ check: "platform", value: "macOS" }]);
    const e = await deniedWith(phone);
    expect(e.details).toMatchObject({ code: "postureNotMet", reason: expect.stringContaining("attested platform is iOS/iPadOS, the rule requires macOS") });
  });
});
