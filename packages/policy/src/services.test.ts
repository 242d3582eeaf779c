import { setAllowHttp } from "@attested/integrations";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ZodError } from "zod";

process.env.MASTER_KEY = randomBytes(32).toString("hex");
setAllowHttp(true); // INTEGRATIONS_ALLOW_HTTP=1, as the server hands it over

const { createTestDatabase } = await import("@attested/db/testing");
const { startKandjiSimulator } = await import("@attested/kandji-sim");
const { createKeyAttestationPlatform } = await import("@attested/platforms");
const { ForbiddenError, DomainError } = await import("@attested/errors");
const { UNPINNED_WARNING } = await import("@attested/integrations");
const policy = await import("./index");

const TOKEN = "super-secret-kandji-token";
const admin = { type: "user" as const, id: "00000000-0000-0000-0000-000000000001", name: "admin@example.com", role: "ADMIN" as const };
const auditor = { type: "user" as const, id: "00000000-0000-0000-0000-000000000002", name: "auditor@example.com", role: "AUDITOR" as const };

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let sim: Awaited<ReturnType<typeof startKandjiSimulator>>;
let kapId = "";

/** The field errors a form would show. */
async function fieldErrors(p: Promise<unknown>): Promise<Record<string, string>> {
  const e = (await p.then(
    () => null,
    (x: unknown) => x,
  )) as ZodError | InstanceType<typeof DomainError> | null;
  if (!e) throw new Error("expected a validation error");
  if ("issues" in e) return Object.fromEntries(e.issues.map((i) => [i.path.join("."), i.message]));
  return { [(e as InstanceType<typeof DomainError>).field ?? "_"]: e.message };
}

beforeAll(async () => {
  db = await createTestDatabase();
  sim = await startKandjiSimulator({
    token: TOKEN,
    seed: {
      devices: [{ serial_number: "C02ABC1234", device_name: "Ada's Mac", user: { email: "ada@example.com", name: "Ada" } }, { serial_number: "C02ABC12345" }],
    },
  });
  kapId = (await createKeyAttestationPlatform(db.prisma, admin, { name: "Apple", type: "apple" })).id;
});
afterAll(async () => {
  await sim?.close();
  await db?.close();
});

describe("Core Platforms (Generic HTTP)", () => {
  let id = "";
  it("Basic first; then the tabs; the secret is sealed, never returned and never in the trail", async () => {
    expect(await fieldErrors(policy.createCorePlatform(db.prisma, admin, { name: "", type: "ldap" }))).toEqual({
      name: "Name is required",
      type: "Choose the type Generic HTTP",
    });
    const cp = await policy.createCorePlatform(db.prisma, admin, { name: "Kandji", description: "Kandji device API", type: "generic-http" });
    id = cp.id;
    expect(cp).toMatchObject({ authMethod: "none", hasSecret: false, uri: "" });
    expect(await fieldErrors(policy.updateCorePlatform(db.prisma, admin, id, { authMethod: "bearer", secret: "" }))).toEqual({
      secret: "Bearer Token is required",
    });
    const updated = await policy.updateCorePlatform(db.prisma, admin, id, {
      authMethod: "bearer",
      secret: TOKEN,
      uri: `${sim.url}/api/v1/devices?serial_number=\${identity}`,
      validationRules: [{ path: "data[0].serial_number", condition: "exists", expected: "C02ABC1234" }],
      attributeMappings: [{ path: "data[0].user.email", attribute: "email" }],
      groupsPath: "",
    });
    expect(updated).toMatchObject({ authMethod: "bearer", hasSecret: true, groupsPath: null });
    expect(JSON.stringify(updated)).not.toContain(TOKEN);
    expect(Object.keys(updated)).not.toContain("secret");
    const row = await db.prisma.corePlatform.findUniqueOrThrow({ where: { id } });
    expect(Buffer.from(row.secret!).toString("latin1")).not.toContain(TOKEN);
    const events = await db.prisma.event.findMany({ where: { objectId: id } });
    expect(events.map((e) => e.type)).toEqual(["Core Platform Created", "Core Platform Updated"]);
    expect(JSON.stringify(events.map((e) => [e.summary, e.details]))).not.toContain(TOKEN);
    expect(events[1]!.summary).toContain("credential replaced");

    // An empty secret keeps the stored one; another method needs its own.
    await policy.updateCorePlatform(db.prisma, admin, id, { authMethod: "bearer", secret: "", timeoutMs: "2000" });
    expect((await db.prisma.corePlatform.findUniqueOrThrow({ where: { id } })).secret).toEqual(row.secret);
    expect(await fieldErrors(policy.updateCorePlatform(db.prisma, admin, id, { authMethod: "basic", basicUsername: "api" }))).toEqual({
      secret: "Password is required",
    });
  });

  it("shows every tab's field errors at once", async () => {
    const errors = await fieldErrors(
      policy.updateCorePlatform(db.prisma, admin, id, {
        uri: "ftp://x",
        validationRules: [{ path: "data[0", condition: "equals", expected: "" }],
        attributeMappings: [{ path: "data[0].x", attribute: "1bad" }],
      }),
    );
    expect(Object.keys(errors).sort()).toEqual(["attributeMappings.0.attribute", "uri", "validationRules.0.expected", "validationRules.0.path"]);
  });

  it("Fleet Inventory: checked field by field; the List URI only where the URI sends the credential; auditors cannot set it", async () => {
    const before = await policy.getCorePlatform(db.prisma, id);
    expect(
      await fieldErrors(policy.updateCorePlatform(db.prisma, admin, id, { listUri: `${sim.url}/api/v1/devices?x=\${identity}`, listPageSize: "0" })),
    ).toEqual({
      listUri: "List URI cannot hold variables: it lists every device",
      listPaging: "Paging is required with a List URI",
      listItemsPath: "Items Path is required with a List URI",
      listSerialPath: "Serial Number Path is required with a List URI",
      listPageSize: "Page Size is at least 1",
    });
    const fields = { listPaging: "offset-limit", listItemsPath: "data", listSerialPath: "data.serial_number", listPageSize: "300" };
    // The stored token would go to another host.
    expect(await fieldErrors(policy.updateCorePlatform(db.prisma, admin, id, { ...fields, listUri: "http://attacker.example/api/v1/devices" }))).toEqual({
      listUri: `List URI must be on the same scheme, host and port as the URI (${sim.url})`,
    });
    expect(await fieldErrors(policy.updateCorePlatform(db.prisma, admin, id, { ...fields, listUri: `${sim.url}/d`, listPaging: "cursor" }))).toEqual({
      listPaging: "Choose a Paging style",
    });
    expect(await fieldErrors(policy.updateCorePlatform(db.prisma, admin, id, { ...fields, listUri: `${sim.url}/d`, listItemsPath: "headers.link" }))).toEqual({
      listItemsPath: "Items Path starts with data (the page, or for the serial number the item)",
    });
    await expect(policy.updateCorePlatform(db.prisma, auditor, id, { ...fields, listUri: `${sim.url}/api/v1/devices` })).rejects.toBeInstanceOf(ForbiddenError);
    expect(await policy.getCorePlatform(db.prisma, id)).toEqual(before);

    const saved = await policy.updateCorePlatform(db.prisma, admin, id, { ...fields, listUri: `${sim.url}/api/v1/devices` });
    expect(saved).toMatchObject({ listUri: `${sim.url}/api/v1/devices`, listPaging: "offset-limit", listSerialPath: "data.serial_number", listPageSize: 300 });
    // Moving the URI elsewhere leaves the List URI behind: refused until both move.
    expect(
      await fieldErrors(policy.updateCorePlatform(db.prisma, admin, id, { uri: "http://127.0.0.2:1/api/v1/devices?serial_number=${identity}", secret: "t" })),
    ).toMatchObject({
      listUri: "List URI must be on the same scheme, host and port as the URI (http://127.0.0.2:1)",
    });
    // An empty List URI turns the inventory off.
    expect(await policy.updateCorePlatform(db.prisma, admin, id, { listUri: "" })).toMatchObject({ listUri: null, listPaging: null, listItemsPath: null });
  });

  it("Validate makes a real call with the unsaved values; the guide's Expected result is the identity", async () => {
    const r = await policy.validateCorePlatform(db.prisma, admin, id, {});
    expect(r).toMatchObject({
      identity: "C02ABC1234",
      identityFrom: "Expected result of rule 1",
      outcome: "found",
      status: 200,
      attributes: { email: "ada@example.com" },
      pinned: false,
      response: { status: 200 },
    });
    // Kandji matched two devices partially: the page must warn that no rule pins the serial.
    expect(r.warnings).toContain(UNPINNED_WARNING);
    const pinned = await policy.validateCorePlatform(db.prisma, admin, id, {
      identity: "C02ABC123",
      validationRules: [{ path: "data[0].serial_number", condition: "equals", expected: "${identity}" }],
    });
    expect(pinned).toMatchObject({
      outcome: "notFound",
      pinned: true,
      identityFrom: "typed",
      reason: 'rule failed: data[0].serial_number equals "C02ABC123": actual "C02ABC1234"',
    });
    // Nothing was saved by Validate.
    expect((await policy.getCorePlatform(db.prisma, id)).validationRules[0]!.condition).toBe("exists");
    // An unsaved wrong token is what gets tried.
    expect(await policy.validateCorePlatform(db.prisma, admin, id, { identity: "C02ABC1234", authMethod: "bearer", secret: "wrong" })).toMatchObject({
      outcome: "error",
      status: 401,
    });
    await expect(policy.validateCorePlatform(db.prisma, auditor, id, { identity: "C02ABC1234" })).rejects.toBeInstanceOf(ForbiddenError);
  });

  it("auditors change nothing, and the attempt is recorded", async () => {
    await expect(policy.createCorePlatform(db.prisma, auditor, { name: "Nope", type: "generic-http" })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(policy.deleteCorePlatform(db.prisma, auditor, id)).rejects.toBeInstanceOf(ForbiddenError);
    expect(await db.prisma.event.count({ where: { type: "Access Denied", actorName: "auditor@example.com" } })).toBeGreaterThanOrEqual(3);
    expect(await db.prisma.corePlatform.count()).toBe(1);
  });
});

describe("Policy Management objects", () => {
  it("walks the guide's objects and refuses to delete what is in use, saying where", async () => {
    const cp = (await policy.listCorePlatforms(db.prisma))[0]!;
    const sss = await policy.createSignalSource(db.prisma, admin, { name: "Kandji SSS", description: "", lookupPurpose: "certificate-issuance" });
    expect(sss).toMatchObject({ identityType: "csr", identityAttribute: "/attestation/serialNumber", revokeOnFailure: false, corePlatformId: null });
    expect(
      await fieldErrors(
        policy.updateSignalSource(db.prisma, admin, sss.id, { corePlatformId: "", identityType: "csr", identityAttribute: "/attestation/serialNumber" }),
      ),
    ).toEqual({ corePlatformId: "Choose an Identity Provider Lookup" });
    expect(
      await fieldErrors(
        policy.updateSignalSource(db.prisma, admin, sss.id, {
          corePlatformId: cp.id,
          identityType: "certificate",
          identityAttribute: "/certificate/deviceSerial",
        }),
      ),
    ).toEqual({ identityType: "Certificate attributes exist only at RADIUS Authentication: choose CSR or Custom" });
    expect(
      await fieldErrors(
        policy.updateSignalSource(db.prisma, admin, sss.id, { corePlatformId: cp.id, identityType: "custom", identityAttribute: "/certificate/x" }),
      ),
    ).toEqual({ identityAttribute: "For this Lookup Purpose the path starts with /attestation, /csr, /account, /platform" });
    await policy.updateSignalSource(db.prisma, admin, sss.id, {
      corePlatformId: cp.id,
      identityType: "csr",
      identityAttribute: "/attestation/serialNumber",
      revokeOnFailure: true,
    });
    await expect(policy.updateSignalSource(db.prisma, admin, sss.id, { lookupPurpose: "radius-authentication" })).rejects.toThrow(
      "The Lookup Purpose cannot be changed",
    );

    // "Validate Configuration" with an identity typed in, through the unsaved provider choice.
    expect(await fieldErrors(policy.validateSignalSource(db.prisma, admin, sss.id, { identity: " " }))).toEqual({ identity: "Enter a valid identity" });
    expect(
      await policy.validateSignalSource(db.prisma, admin, sss.id, {
        identity: "C02ABC1234",
        corePlatformId: cp.id,
        identityType: "csr",
        identityAttribute: "/attestation/serialNumber",
      }),
    ).toMatchObject({
      outcome: "found",
      corePlatform: { name: "Kandji" },
      identityFrom: "typed, as /attestation/serialNumber",
    });
    expect(await policy.validateSignalSource(db.prisma, admin, sss.id, { identity: "NOPE" })).toMatchObject({
      outcome: "notFound",
      reason: "device not found",
    });

    const wf = await policy.createWorkflow(db.prisma, admin, { name: "Kandji Role", description: "Managed Macs" });
    expect(
      await fieldErrors(
        policy.updateWorkflow(db.prisma, admin, wf.id, {
          corePlatformId: cp.id,
          attributeConditions: [{ kind: "attribute", attribute: "assetTag", operator: "exists" }],
        }),
      ),
    ).toEqual({ "attributeConditions.0.attribute": '"assetTag" is not mapped by "Kandji": add it in its Attribute Mapping tab' });
    expect(
      await fieldErrors(
        policy.updateWorkflow(db.prisma, admin, wf.id, {
          corePlatformId: cp.id,
          attributeConditions: [{ kind: "group", operator: "matches", value: "(a+)+" }],
        }),
      ),
    ).toEqual({ "attributeConditions.0.value": "a repeated group may not contain a quantifier (e.g. (a+)+): it can take exponential time" });
    await policy.updateWorkflow(db.prisma, admin, wf.id, { corePlatformId: cp.id, attributeConditions: [] });
    expect(policy.conditionsText((await policy.getWorkflow(db.prisma, wf.id)).attributeConditions)).toBe("ANY");

    const role = await policy.createDeviceRole(db.prisma, admin, { name: "Apple devices", description: "" });
    expect(await fieldErrors(policy.updateDeviceRole(db.prisma, admin, role.id, { keyAttestationPlatformId: "" }))).toEqual({
      keyAttestationPlatformId: "Choose a Key Attestation Platform as Identity",
    });
    await policy.updateDeviceRole(db.prisma, admin, role.id, { keyAttestationPlatformId: kapId });
    // Posture conditions: bad input names the field and changes nothing; an auditor changes nothing.
    expect(
      await fieldErrors(policy.updateDeviceRole(db.prisma, admin, role.id, { postureConditions: [{ check: "macosVersionAtLeast", value: "14.0; DROP" }] })),
    ).toEqual({ "postureConditions.0.value": "Write a version such as 14, 14.6 or 17.4.1" });
    await expect(
      policy.updateDeviceRole(db.prisma, auditor, role.id, { postureConditions: [{ check: "macosVersionAtLeast", value: "1" }] }),
    ).rejects.toBeInstanceOf(ForbiddenError);
    expect((await policy.getDeviceRole(db.prisma, role.id)).postureConditions).toEqual([]);
    await policy.updateDeviceRole(db.prisma, admin, role.id, { postureConditions: [{ check: "macosVersionAtLeast", value: "14.0" }] });
    const postureEvent = await db.prisma.event.findFirstOrThrow({ where: { type: "Policy Updated", objectType: "device-role" }, orderBy: { id: "desc" } });
    expect(postureEvent.details).toMatchObject({ changed: ["posture"], after: { identity: "Apple", posture: "macOS version at least 14.0" } });
    await policy.updateDeviceRole(db.prisma, admin, role.id, { postureConditions: [] });
    const ep = await policy.createEnrollmentPolicy(db.prisma, admin, { name: "Kandji enrollment", description: "" });
    expect(ep).toMatchObject({ priority: 100, missing: ["Role", "Device Role", "Certificate Authority", "Certificate Template"] });
    await policy.updateEnrollmentPolicy(db.prisma, admin, ep.id, { policyWorkflowId: wf.id, deviceRoleId: role.id });
    expect(await fieldErrors(policy.updateEnrollmentPolicy(db.prisma, admin, ep.id, { caId: "", templateId: "" }))).toEqual({
      caId: "Choose a Certificate Authority",
      templateId: "Choose a Certificate Template",
    });

    await expect(policy.deleteCorePlatform(db.prisma, admin, cp.id)).rejects.toThrow(
      'Core Platform "Kandji" is used by Security Signal Source "Kandji SSS", Policy Workflow "Kandji Role": change those first.',
    );
    await expect(policy.deleteWorkflow(db.prisma, admin, wf.id)).rejects.toThrow(
      'Policy Workflow "Kandji Role" is used by Enrollment Policy "Kandji enrollment"',
    );
    await policy.updateSignalSource(db.prisma, admin, sss.id, { deviceRoleIds: [role.id] });
    await expect(policy.deleteDeviceRole(db.prisma, admin, role.id)).rejects.toThrow(
      'Device Role "Apple devices" is used by Enrollment Policy "Kandji enrollment", Security Signal Source "Kandji SSS"',
    );

    // Unwinding in order works, each step recorded.
    await policy.deleteEnrollmentPolicy(db.prisma, admin, ep.id);
    await policy.deleteWorkflow(db.prisma, admin, wf.id);
    await policy.deleteSignalSource(db.prisma, admin, sss.id);
    await policy.deleteDeviceRole(db.prisma, admin, role.id);
    await policy.deleteCorePlatform(db.prisma, admin, cp.id);
    const deleted = await db.prisma.event.findMany({ where: { type: { in: ["Policy Deleted", "Core Platform Deleted"] } }, orderBy: { id: "asc" } });
    expect(deleted.map((e) => e.summary)).toEqual([
      'Enrollment Policy "Kandji enrollment" deleted',
      'Policy Workflow "Kandji Role" deleted',
      'Security Signal Source "Kandji SSS" deleted',
      'Device Role "Apple devices" deleted',
      'Core Platform "Kandji" deleted',
    ]);
    // The trail names the Device Role's platform without the word the scrubber hides.
    const roleEvent = await db.prisma.event.findFirstOrThrow({ where: { type: "Policy Updated", objectType: "device-role" } });
    expect(roleEvent.details).toMatchObject({ after: { identity: "Apple" } });
  });
});
