import { setAllowHttp } from "@attested/integrations";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

// Secrets are sealed under the master key; the simulator speaks plain http on loopback.
process.env.MASTER_KEY = randomBytes(32).toString("hex");
setAllowHttp(true); // INTEGRATIONS_ALLOW_HTTP=1, as the server hands it over

const { createTestDatabase } = await import("@attested/db/testing");
const { startKandjiSimulator } = await import("@attested/kandji-sim");
const { createTemplate, databaseKeyStore, ensureOrganizationRootCa, issueAndRecord } = await import("@attested/ca");
const { createKeyAttestationPlatform } = await import("@attested/platforms");
const { systemActor } = await import("@attested/events");
const policy = await import("./index");

type Sim = Awaited<ReturnType<typeof startKandjiSimulator>>;
type Ctx = import("@attested/ca").CaContext;

const TOKEN = "kandji-api-token-e2e";
const admin = { type: "user" as const, id: "00000000-0000-0000-0000-000000000001", name: "admin@example.com", role: "ADMIN" as const };
// Short waits: the retry policy is the engine's, its timing is not what these tests are about.
const fast = { allowHttp: true, http: { backoffBaseMs: 5, backoffMaxMs: 20, retryAfterCapMs: 20 } };

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let sim: Sim;
let ctx: Ctx;
let kapId = "";
let otherKapId = "";
let kandjiId = "";
let policyId = "";
let caId = "";
let templateId = "";
let workflowId = "";
let deviceRoleId = "";

const request = (serial: string, over: Partial<import("./engine").EnrollmentRequest> = {}): import("./engine").EnrollmentRequest => ({
  platform: { id: "platform-1", name: "Kandji ACME", vendor: "kandji" },
  keyAttestationPlatformId: kapId,
  attestation: { serialNumber: serial, udid: "00008120-001A2C3E0C7B401E", osVersion: "17.4" },
  csr: { subject: { commonName: serial, CN: serial }, san: { rfc822name: ["ada@example.com"], othername: [], dnsname: [], uri: [] } },
  account: { id: "acct-1", contact: [] },
  ...over,
});
const decide = (serial: string, over = {}) => policy.decideEnrollment(db.prisma, request(serial, over), { lookup: fast });
const apiCalls = () => sim.state.requests.filter((r) => r.path.startsWith("/api/")).length;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.prisma.organization.create({ data: { name: "Acme Corp" } });
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
        },
        { serial_number: "C02PREFIX123", device_name: "Longer serial", blueprint_name: "ACME Certificates" },
      ],
    },
  });
  ctx = { db: db.prisma, keyStore: databaseKeyStore(db.prisma), publicUrl: "http://pki.test" };
  caId = (await ensureOrganizationRootCa(ctx))!.id;
  templateId = (
    await createTemplate(ctx, admin, {
      name: "Kandji Template",
      subject: "CN=${/csr/subject/commonname},OU=${/device/deviceName},O=Acme Corp",
      validityDays: 365,
      signatureAlgorithm: "SHA-256",
      sanRfc822: "${/device/email}",
      extendedKeyUsages: ["clientAuth"],
    })
  ).id;
  kapId = (await createKeyAttestationPlatform(db.prisma, admin, { name: "Apple", type: "apple" })).id;
  otherKapId = (await createKeyAttestationPlatform(db.prisma, admin, { name: "Other Apple", type: "apple" })).id;

  // The guide's objects, through the same services the portal uses.
  const kandji = await policy.createCorePlatform(db.prisma, admin, { name: "Kandji", description: "Device lookup", type: "generic-http" });
  kandjiId = kandji.id;
  await policy.updateCorePlatform(db.prisma, admin, kandjiId, {
    authMethod: "bearer",
    secret: TOKEN,
    uri: `${sim.url}/api/v1/devices?serial_number=\${identity}`,
    validationRules: [{ path: "data[0].serial_number", condition: "equals", expected: "${identity}" }],
    timeoutMs: 1000,
    attributeMappings: [
      { path: "data[0].user.email", attribute: "email" },
      { path: "data[0].device_name", attribute: "deviceName" },
    ],
    groupsPath: "data[0].blueprint_name, data[0].tags",
  });
  const sss = await policy.createSignalSource(db.prisma, admin, { name: "Kandji lookup", lookupPurpose: "certificate-issuance" });
  await policy.updateSignalSource(db.prisma, admin, sss.id, {
    corePlatformId: kandjiId,
    identityType: "csr",
    identityAttribute: "/attestation/serialNumber",
    revokeOnFailure: false,
  });
  workflowId = (await policy.createWorkflow(db.prisma, admin, { name: "Kandji Role" })).id;
  await policy.updateWorkflow(db.prisma, admin, workflowId, { corePlatformId: kandjiId, attributeConditions: [] });
  deviceRoleId = (await policy.createDeviceRole(db.prisma, admin, { name: "Apple devices" })).id;
  await policy.updateDeviceRole(db.prisma, admin, deviceRoleId, { keyAttestationPlatformId: kapId });
  policyId = (await policy.createEnrollmentPolicy(db.prisma, admin, { name: "Kandji enrollment", priority: 100 })).id;
  await policy.updateEnrollmentPolicy(db.prisma, admin, policyId, { policyWorkflowId: workflowId, deviceRoleId, caId, templateId });
});
afterAll(async () => {
  await sim?.close();
  await db?.close();
});
beforeEach(() => sim.state.clearFaults());

describe("decideEnrollment against the Kandji simulator over HTTP", () => {
  it("a device present is allowed, and its mapped attributes reach the certificate as ${/device/...}", async () => {
    expect(await policy.hasEnrollmentPolicies(db.prisma)).toBe(true);
    const d = await decide("C02ABC1234");
    if (!d.allowed) throw new Error(`denied: ${d.reason}`);
    expect(d).toMatchObject({
      policy: { id: policyId, name: "Kandji enrollment", priority: 100 },
      caId,
      templateId,
      device: { email: "ada@example.com", deviceName: "Ada's MacBook Pro" },
      groups: ["ACME Certificates", "engineering"],
    });
    const [cand] = d.inputs.candidates as Array<Record<string, any>>;
    expect(cand).toMatchObject({
      result: "selected",
      signalSource: { name: "Kandji lookup" },
      identity: { attribute: "/attestation/serialNumber", value: "C02ABC1234" },
      lookup: { outcome: "found", status: 200, attempts: 1, rules: [{ passed: true, actual: "C02ABC1234" }] },
    });

    // What the lead's finalize glue does with the decision: the template renders /device values.
    const dir = mkdtempSync(path.join(os.tmpdir(), "policy-test-"));
    execFileSync(
      "openssl",
      [
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        path.join(dir, "k.pem"),
        "-subj",
        "/CN=C02ABC1234",
        "-outform",
        "DER",
        "-out",
        path.join(dir, "r.der"),
      ],
      { stdio: "ignore" },
    );
    const { certificate } = await issueAndRecord(ctx, {
      caId: d.caId,
      templateId: d.templateId,
      csrDer: readFileSync(path.join(dir, "r.der")),
      actor: systemActor("test"),
      context: { device: d.device, attestation: request("C02ABC1234").attestation },
      deviceSerial: "C02ABC1234",
      enrollmentPolicyId: d.policy.id,
      details: { decision: d.inputs },
    });
    const text = execFileSync("openssl", ["x509", "-noout", "-text"], { input: certificate.pem, encoding: "utf8" });
    expect(text).toContain("email:ada@example.com");
    expect(certificate.subjectDn).toBe("CN=C02ABC1234, OU=Ada's MacBook Pro, O=Acme Corp");
    expect(certificate.emailAddress).toBe("ada@example.com");
  });

  it("a device absent is denied: device not found", async () => {
    const d = await decide("NOPE000000");
    expect(d).toMatchObject({ allowed: false, code: "deviceNotFound" });
    if (d.allowed) return;
    expect(d.reason).toMatch(/^device not found \(looking up NOPE000000 in "Kandji" for Enrollment Policy "Kandji enrollment"\)$/);
    expect(d.inputs.decision).toMatchObject({ allowed: false, code: "deviceNotFound" });
    // A definite "no" is not a lookup failure.
    expect(await db.prisma.event.count({ where: { type: "Device Lookup Failed", deviceSerial: "NOPE000000" } })).toBe(0);
  });

  it("a serial that is only a prefix of another device's is denied (exact match)", async () => {
    const d = await decide("C02PREFIX1");
    expect(d).toMatchObject({ allowed: false, code: "deviceNotFound" });
    if (d.allowed) return;
    expect(d.reason).toContain('rule failed: data[0].serial_number equals "C02PREFIX1": actual "C02PREFIX123"');
    // Kandji did answer with the other device: the rule is what refused it.
    expect(sim.state.requests.at(-1)).toMatchObject({ query: { serial_number: "C02PREFIX1" }, status: 200 });
  });

  it.each([
    [
      "HTTP 401",
      async (): Promise<void> => void (await policy.updateCorePlatform(db.prisma, admin, kandjiId, { secret: "wrong-token", authMethod: "bearer" })),
      /^HTTP 401 \(Incorrect authentication credentials\.\)/,
      "lookupFailed",
    ],
    [
      "HTTP 429",
      async (): Promise<void> => {
        sim.state.setFaults({ rateLimit: { requests: 1, windowMs: 60_000 } });
        expect((await decide("C02ABC1234")).allowed).toBe(true); // spends the window's one request
      },
      /^HTTP 429 after 2 retries \(Request was throttled\./,
      "mdmUnavailable",
    ],
    ["HTTP 500", async (): Promise<void> => void sim.state.setFaults({ errorStatus: 500 }), /^HTTP 500 after 2 retries /, "mdmUnavailable"],
    [
      "timeout",
      async (): Promise<void> => {
        sim.state.setFaults({ stall: true });
        await policy.updateCorePlatform(db.prisma, admin, kandjiId, { timeoutMs: 300 });
      },
      /^timeout after 300ms /,
      "mdmUnavailable",
    ],
  ] as const)(
    "Kandji answering %s decides nothing (lookupFailed for a refusal, mdmUnavailable for an outage), no certificate, and the next request works",
    async (_name, fault, reason, code) => {
      await fault();
      const before = await db.prisma.certificate.count();
      const t = Date.now();
      const d = await decide("C02ABC1234");
      expect(d).toMatchObject({ allowed: false, code });
      if (d.allowed) return;
      expect(d.reason).toMatch(reason);
      expect(Date.now() - t).toBeLessThan(5000);
      const failed = await db.prisma.event.findFirst({ where: { type: "Device Lookup Failed", deviceSerial: "C02ABC1234" }, orderBy: { id: "desc" } });
      expect(failed?.summary).toContain(d.reason.split(" (looking up")[0]);
      expect(JSON.stringify(failed?.details)).not.toContain("wrong-token");
      expect(await db.prisma.certificate.count()).toBe(before);

      // Healthy again once the remote is.
      sim.state.clearFaults();
      sim.state.setFaults({ rateLimit: { requests: 10_000, windowMs: 3_600_000 } });
      await policy.updateCorePlatform(db.prisma, admin, kandjiId, { secret: TOKEN, authMethod: "bearer", timeoutMs: 1000 });
      expect((await decide("C02ABC1234")).allowed).toBe(true);
    },
  );
});

describe("choosing among Enrollment Policies", () => {
  it("denies without a policy for the attesting platform, or without attestation", async () => {
    expect(await decide("C02ABC1234", { keyAttestationPlatformId: otherKapId })).toMatchObject({
      allowed: false,
      code: "noPolicy",
      reason: 'no Enrollment Policy has a Device Role whose Identity is Key Attestation Platform "Other Apple"',
    });
    expect(await decide("C02ABC1234", { keyAttestationPlatformId: null })).toMatchObject({ allowed: false, code: "noPolicy" });
  });

  it("the lowest priority number wins; a failed condition falls through; one lookup per decision", async () => {
    const kiosks = await policy.createWorkflow(db.prisma, admin, { name: "Kiosks only" });
    await policy.updateWorkflow(db.prisma, admin, kiosks.id, {
      corePlatformId: kandjiId,
      attributeConditions: [{ kind: "group", operator: "equals", value: "Kiosks" }],
    });
    const first = await policy.createEnrollmentPolicy(db.prisma, admin, { name: "Kiosk enrollment", priority: 10 });
    await policy.updateEnrollmentPolicy(db.prisma, admin, first.id, { policyWorkflowId: kiosks.id, deviceRoleId, caId, templateId });
    try {
      const calls = apiCalls();
      const d = await decide("C02ABC1234");
      expect(d).toMatchObject({ allowed: true, policy: { name: "Kandji enrollment" } });
      expect(apiCalls() - calls).toBe(1);
      const cands = d.inputs.candidates as Array<Record<string, any>>;
      expect(cands.map((c) => [c.policy.name, c.result])).toEqual([
        ["Kiosk enrollment", "conditionsNotMet"],
        ["Kandji enrollment", "selected"],
      ]);
      expect(cands[0]!.conditions).toEqual([
        expect.objectContaining({ passed: false, message: 'Groups equals "Kiosks": actual ["ACME Certificates","engineering"]' }),
      ]);
      expect(cands[1]!.lookupReused).toBe(true);

      // The device joins the kiosk blueprint: now the higher-priority policy applies.
      // (The simulator's update resets fields left out, so the user is sent again.)
      sim.state.updateDevice("C02ABC1234", { blueprint_name: "Kiosks", user: { email: "ada@example.com", name: "Ada Lovelace" } });
      expect(await decide("C02ABC1234")).toMatchObject({ allowed: true, policy: { name: "Kiosk enrollment", priority: 10 } });
      // Only the condition-less policy would take a device outside it... and a failing condition alone denies.
      await policy.updateEnrollmentPolicy(db.prisma, admin, policyId, { priority: 5 });
      expect(await decide("C02ABC1234")).toMatchObject({ allowed: true, policy: { name: "Kandji enrollment", priority: 5 } });
    } finally {
      sim.state.updateDevice("C02ABC1234", {
        blueprint_name: "ACME Certificates",
        user: { email: "ada@example.com", name: "Ada Lovelace" },
        tags: ["engineering"],
      });
      await policy.updateEnrollmentPolicy(db.prisma, admin, policyId, { priority: 100 });
      await policy.deleteEnrollmentPolicy(db.prisma, admin, first.id);
      await policy.deleteWorkflow(db.prisma, admin, kiosks.id);
    }
  });

  it("conditions not met alone deny with the failed condition", async () => {
    await policy.updateWorkflow(db.prisma, admin, workflowId, {
      attributeConditions: [{ kind: "attribute", attribute: "email", operator: "matches", value: "@corp\\.example$" }],
    });
    try {
      const d = await decide("C02ABC1234");
      expect(d).toMatchObject({ allowed: false, code: "conditionsNotMet" });
      if (!d.allowed) expect(d.reason).toContain('email matches (regular expression) "@corp\\\\.example$": actual "ada@example.com"');
    } finally {
      await policy.updateWorkflow(db.prisma, admin, workflowId, { attributeConditions: [] });
    }
  });

  it("a lookup that fails stops the decision rather than falling through to a lower priority", async () => {
    const broken = await policy.createCorePlatform(db.prisma, admin, {
      name: "Broken",
      type: "generic-http",
      authMethod: "bearer",
      secret: "nope",
      uri: `${sim.url}/api/v1/devices?serial_number=\${identity}`,
      validationRules: [{ path: "data[0].serial_number", condition: "equals", expected: "${identity}" }],
    });
    const wf = await policy.createWorkflow(db.prisma, admin, { name: "Broken role", corePlatformId: broken.id });
    const p = await policy.createEnrollmentPolicy(db.prisma, admin, { name: "First", priority: 1, policyWorkflowId: wf.id, deviceRoleId, caId, templateId });
    try {
      const d = await decide("C02ABC1234");
      expect(d).toMatchObject({ allowed: false, code: "lookupFailed" });
      const cands = d.inputs.candidates as Array<Record<string, any>>;
      expect(cands.map((c) => c.result)).toEqual(["lookupFailed", "notTried"]);
    } finally {
      await policy.deleteEnrollmentPolicy(db.prisma, admin, p.id);
      await policy.deleteWorkflow(db.prisma, admin, wf.id);
      await policy.deleteCorePlatform(db.prisma, admin, broken.id);
    }
  });

  it("an incomplete policy is skipped and named; only incomplete ones deny as misconfigured", async () => {
    const p = await policy.createEnrollmentPolicy(db.prisma, admin, { name: "Half done", priority: 1, policyWorkflowId: workflowId, deviceRoleId });
    try {
      const ok = await decide("C02ABC1234");
      expect(ok.allowed).toBe(true);
      expect((ok.inputs.candidates as Array<Record<string, any>>)[0]).toMatchObject({
        result: "misconfigured",
        reason: 'Enrollment Policy "Half done" is incomplete: no Certificate Authority, no Certificate Template',
      });
      const role = await policy.createDeviceRole(db.prisma, admin, { name: "Other role", keyAttestationPlatformId: otherKapId });
      const bare = await policy.createWorkflow(db.prisma, admin, { name: "No provider yet" });
      const only = await policy.createEnrollmentPolicy(db.prisma, admin, { name: "Only half", policyWorkflowId: bare.id, deviceRoleId: role.id });
      expect(await decide("C02ABC1234", { keyAttestationPlatformId: otherKapId })).toMatchObject({
        allowed: false,
        code: "misconfigured",
        reason: 'Enrollment Policy "Only half" is incomplete: Role "No provider yet" has no Core Provider, no Certificate Authority, no Certificate Template',
      });
      await policy.deleteEnrollmentPolicy(db.prisma, admin, only.id);
      await policy.deleteWorkflow(db.prisma, admin, bare.id);
      await policy.deleteDeviceRole(db.prisma, admin, role.id);
    } finally {
      await policy.deleteEnrollmentPolicy(db.prisma, admin, p.id);
    }
  });

  it("the Security Signal Source decides the lookup key: a CSR attribute, for its Device Role only", async () => {
    const byCn = await policy.createSignalSource(db.prisma, admin, {
      name: "By CN",
      lookupPurpose: "certificate-issuance",
      corePlatformId: kandjiId,
      identityType: "csr",
      identityAttribute: "/csr/subject/commonname",
      deviceRoleIds: [deviceRoleId],
    });
    try {
      // The CSR names another device than the attestation: the lookup now uses the CSR's CN.
      const d = await decide("C02ABC1234", { csr: { subject: { commonName: "NOPE000000" }, san: {} } });
      expect(d).toMatchObject({ allowed: false, code: "deviceNotFound" });
      expect((d.inputs.candidates as Array<Record<string, any>>)[0]).toMatchObject({
        signalSource: { name: "By CN" },
        identity: { attribute: "/csr/subject/commonname", value: "NOPE000000" },
      });
      const missing = await decide("C02ABC1234", { csr: { subject: {}, san: {} } });
      expect(missing).toMatchObject({ allowed: false, code: "lookupFailed" });
      if (!missing.allowed) expect(missing.reason).toContain("the request has no /csr/subject/commonname to look the device up with");
    } finally {
      await policy.deleteSignalSource(db.prisma, admin, byCn.id);
    }
  });

  it("with Revoke On Failure, a device the MDM no longer knows loses its earlier certificates", async () => {
    const sss = (await policy.listSignalSources(db.prisma)).find((s) => s.name === "Kandji lookup")!;
    await policy.updateSignalSource(db.prisma, admin, sss.id, { revokeOnFailure: true });
    await db.prisma.certificateAuthority.update({ where: { id: caId }, data: { revocationReason: "privilegeWithdrawn" } });
    const earlier = await db.prisma.certificate.findFirstOrThrow({ where: { deviceSerial: "C02ABC1234", status: "ACTIVE" } });
    sim.state.removeDevice("C02ABC1234");
    try {
      // A lookup that cannot answer never revokes...
      sim.state.setFaults({ errorStatus: 503 });
      const failing = await policy.decideEnrollment(db.prisma, request("C02ABC1234"), { lookup: fast, ca: ctx });
      expect(failing).toMatchObject({ allowed: false, code: "mdmUnavailable" });
      expect((await db.prisma.certificate.findUniqueOrThrow({ where: { id: earlier.id } })).status).toBe("ACTIVE");
      sim.state.clearFaults();
      // ...a definite "not found" does, with the CA's reason code.
      const d = await policy.decideEnrollment(db.prisma, request("C02ABC1234"), { lookup: fast, ca: ctx });
      expect(d).toMatchObject({
        allowed: false,
        code: "deviceNotFound",
        inputs: { revokedOnFailure: [{ serialNumber: earlier.serialNumber, reason: "privilegeWithdrawn" }] },
      });
      expect(await db.prisma.certificate.findUniqueOrThrow({ where: { id: earlier.id } })).toMatchObject({
        status: "REVOKED",
        revocationReason: "privilegeWithdrawn",
      });
    } finally {
      sim.state.addDevice({
        serial_number: "C02ABC1234",
        device_name: "Ada's MacBook Pro",
        blueprint_name: "ACME Certificates",
        user: { email: "ada@example.com", name: "Ada Lovelace" },
      });
      await policy.updateSignalSource(db.prisma, admin, sss.id, { revokeOnFailure: false });
    }
  });
});
