import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimulatedAppleCa, enroll } from "@attested/device-sim";
import { forgetCachedConfig } from "@attested/db";
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
import { startTestbed, testAdmin as admin } from "./testing";

// The enrollment path must not get slower: the database statements of one whole enrollment (account,
// order, device-attest-01, the Enrollment Policy with its Kandji lookup, finalize, download) are counted
// here, for an issuance and for a denial. Counted on PostgreSQL, where every statement of Prisma (through
// node-postgres) and of the plain SQL path (postgres.js) is a round trip the enrollment waits for. The
// numbers are those measured before finalize was split into named steps; a change must not raise them.

process.env.INTEGRATIONS_ALLOW_HTTP = "1";
const TOKEN = "kandji-api-token";
let bed: Awaited<ReturnType<typeof startTestbed>>;
let kandji: Awaited<ReturnType<typeof startKandjiSimulator>>;
let simCa: SimulatedAppleCa;
let profile = "";
const device = (serialNumber: string) => ({ serialNumber, udid: `00008112-${serialNumber.padStart(16, "0")}`, email: "ignored@example.com" });

const counted = { prisma: 0, sql: 0 };
const postgres = Boolean(process.env.DATABASE_URL);

beforeAll(async () => {
  if (!postgres) return;
  bed = await startTestbed({
    name: "Kandji",
    subject: "CN=${/attestation/serialNumber},OU=${/device/deviceName}",
    validityDays: 365,
    sanRfc822: "${/device/email}",
    extendedKeyUsages: ["clientAuth"],
  });
  kandji = await startKandjiSimulator({
    token: TOKEN,
    seed: { devices: [{ serial_number: "C02COUNT01", device_name: "Ada's MacBook Pro", user: { email: "ada@example.com", name: "Ada" } }] },
  });
  const db = bed.db.prisma;
  simCa = await SimulatedAppleCa.create();
  const kap = await createKeyAttestationPlatform(db, admin, { name: "Apple", type: "apple" });
  await setTestTrustedRoots(db, admin, kap.id, { testTrustedRoots: simCa.rootPem });
  const core = await createCorePlatform(db, admin, { name: "Kandji", description: "", type: "generic-http" });
  await updateCorePlatform(db, admin, core.id, {
    authMethod: "bearer",
    secret: TOKEN,
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
  profile = (await platformProfile(db, admin, platform.id, bed.publicUrl)).xml;

  // Every statement: Prisma's go through node-postgres clients, the plain SQL through bed.db.sql.
  const pgQuery = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    counted.prisma++;
    return (pgQuery as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof pgQuery;
  const sqlQuery = bed.db.sql.query.bind(bed.db.sql);
  bed.db.sql.query = ((...args: Parameters<typeof sqlQuery>) => {
    counted.sql++;
    return sqlQuery(...args);
  }) as typeof sqlQuery;
  // Warm: the CA's keys and chain, the platform by its secret.
  await enroll({ profile, device: device("C02COUNT01"), ca: simCa, allowHttp: true });
}, 120_000);
afterAll(async () => {
  await kandji?.close();
  await bed?.close();
});

/** The statements of one enrollment, with the configuration read afresh (as after a change). */
async function statementsOf(serial: string): Promise<{ prisma: number; sql: number }> {
  forgetCachedConfig(bed.db.prisma);
  counted.prisma = counted.sql = 0;
  await enroll({ profile, device: device(serial), ca: simCa, allowHttp: true }).catch(() => null);
  return { ...counted };
}

describe.skipIf(!postgres)("database round trips of one enrollment", () => {
  it("issuance through an Enrollment Policy and its lookup", async () => {
    expect(await statementsOf("C02COUNT01")).toEqual({ prisma: 11, sql: 12 });
  });

  it("a denial (device not found, Revoke On Failure) with its event", async () => {
    expect(await statementsOf("C02ABSENT01")).toEqual({ prisma: 13, sql: 11 });
  });
});
