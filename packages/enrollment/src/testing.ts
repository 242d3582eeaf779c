import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { handleWebRequest } from "@attested/acme";
import { createCa, createTemplate, databaseKeyStore, ensureOrganizationRootCa, type CaContext } from "@attested/ca";
import { createTestDatabase } from "@attested/db/testing";
import { SimulatedAppleCa } from "@attested/device-sim";
import { startKandjiSimulator } from "@attested/kandji-sim";
import { createKeyAttestationPlatform, createPlatform, platformProfile, setTestTrustedRoots } from "@attested/platforms";
import {
  createCorePlatform,
  createDeviceRole,
  createEnrollmentPolicy,
  createSignalSource,
  createWorkflow,
  updateCorePlatform,
  updateDeviceRole,
  updateEnrollmentPolicy,
  updateSignalSource,
  updateWorkflow,
} from "@attested/policy";
// The switch lives in @attested/integrations (not a dependency of this package): reached by path.
import { setAllowHttp } from "../../integrations/src/schema";
import { createAcmeService } from "./service";

// Test bed: a fresh database, a CA with an intermediate and a template, and the ACME service served
// over real HTTP on loopback exactly as the portal's route handler serves it.

export const testAdmin = { type: "user" as const, id: "00000000-0000-0000-0000-000000000001", name: "admin@example.com", role: "ADMIN" as const };

export async function startTestbed(template: Record<string, unknown>, http01?: { port: number; address: string }) {
  const db = await createTestDatabase();
  await db.prisma.organization.create({ data: { name: "Acme Corp" } });
  let acme: ReturnType<typeof createAcmeService> | undefined;
  let publicUrl = "";
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const request = new Request(`${publicUrl}${req.url}`, {
      method: req.method,
      headers: req.headers as Record<string, string>,
      body: ["GET", "HEAD"].includes(req.method!) ? undefined : Buffer.concat(chunks),
    });
    const platform = await acme!.platformFor(req.url!.split("/")[2]);
    const response = platform ? await handleWebRequest(acme!.server, request, platform) : new Response("not found", { status: 404 });
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  publicUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const ctx: CaContext = { db: db.prisma, keyStore: databaseKeyStore(db.prisma, randomBytes(32)), publicUrl };
  acme = createAcmeService({
    db: db.prisma,
    ca: async () => ctx,
    publicUrl,
    onError: () => {},
    http01Port: http01?.port,
    http01Address: http01?.address,
    // The test's challenge server is on loopback.
    allowPrivateAddresses: Boolean(http01),
  });
  const root = (await ensureOrganizationRootCa(ctx))!;
  const ca = await createCa(ctx, testAdmin, {
    purpose: "Device and User Authentication",
    type: "INTERMEDIATE",
    parentId: root.id,
    generatedVia: "internal",
    commonName: "Kandji ACME CA",
    keyAlgorithm: "EC-P256",
    signatureAlgorithm: "SHA-256",
    validityYears: 5,
  });
  const tpl = await createTemplate(ctx, testAdmin, template);
  return {
    db,
    ctx,
    publicUrl,
    rootPem: root.certificatePem,
    caId: ca.id,
    templateId: tpl.id,
    close: async () => {
      server.close();
      await db.close();
    },
  };
}

/** The bearer token of the Kandji simulator in startKandjiPolicyBed. */
export const KANDJI_TOKEN = "kandji-api-token";

/**
 * The guide's policy flow on a test bed: the Kandji simulator holding `devices`, a Core Platform looking
 * the attested serial up there (500 ms timeout), a Security Signal Source with Revoke On Failure, a Role,
 * a Device Role attested by Apple (the simulated root as a test root) and the Enrollment Policy with the
 * bed's CA and template. Returns the bed, the simulator, the simulated Apple CA and the platform's profile.
 */
export async function startKandjiPolicyBed(devices: Record<string, unknown>[]) {
  // The simulator speaks plain http on loopback; production lookups are https only.
  setAllowHttp(true); // INTEGRATIONS_ALLOW_HTTP=1, as the server hands it over
  const bed = await startTestbed({
    name: "Kandji",
    subject: "CN=${/attestation/serialNumber},OU=${/device/deviceName}",
    validityDays: 365,
    sanRfc822: "${/device/email}",
    extendedKeyUsages: ["clientAuth"],
  });
  const kandji = await startKandjiSimulator({ token: KANDJI_TOKEN, seed: { devices: devices as never } });
  const db = bed.db.prisma;
  const simCa = await SimulatedAppleCa.create();
  const admin = testAdmin;
  const kap = await createKeyAttestationPlatform(db, admin, { name: "Apple", type: "apple" });
  await setTestTrustedRoots(db, admin, kap.id, { testTrustedRoots: simCa.rootPem });
  const core = await createCorePlatform(db, admin, { name: "Kandji", description: "", type: "generic-http" });
  await updateCorePlatform(db, admin, core.id, {
    authMethod: "bearer",
    secret: KANDJI_TOKEN,
    uri: `${kandji.url}/api/v1/devices?serial_number=\${identity}`,
    timeoutMs: 500,
    validationRules: [{ path: "data[0].serial_number", condition: "equals", expected: "${identity}" }],
    attributeMappings: [
      { path: "data[0].user.email", attribute: "email" },
      { path: "data[0].device_name", attribute: "deviceName" },
    ],
  });
  const sss = await createSignalSource(db, admin, { name: "Kandji lookup", lookupPurpose: "certificate-issuance" });
  await updateSignalSource(db, admin, sss.id, {
    corePlatformId: core.id,
    identityType: "csr",
    identityAttribute: "/attestation/serialNumber",
    revokeOnFailure: true,
  });
  const wf = await createWorkflow(db, admin, { name: "Kandji devices" });
  await updateWorkflow(db, admin, wf.id, { corePlatformId: core.id, attributeConditions: [] });
  const role = await createDeviceRole(db, admin, { name: "Apple attested" });
  await updateDeviceRole(db, admin, role.id, { keyAttestationPlatformId: kap.id });
  const policy = await createEnrollmentPolicy(db, admin, { name: "Kandji enrollment", priority: 100 });
  await updateEnrollmentPolicy(db, admin, policy.id, { policyWorkflowId: wf.id, deviceRoleId: role.id, caId: bed.caId, templateId: bed.templateId });
  const platform = await createPlatform(db, admin, { name: "Kandji ACME", type: "acme-enrollment-token", vendor: "kandji" });
  const profile = (await platformProfile(db, admin, platform.id, bed.publicUrl)).xml;
  return { bed, kandji, simCa, profile };
}
