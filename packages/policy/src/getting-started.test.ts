import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";

process.env.MASTER_KEY = randomBytes(32).toString("hex");

const { createTestDatabase } = await import("@attested/db/testing");
const { createTemplate, databaseKeyStore, ensureOrganizationRootCa } = await import("@attested/ca");
const { createKeyAttestationPlatform } = await import("@attested/platforms");
const { EventType, recordEvent } = await import("@attested/events");
const { createCorePlatform, gettingStarted } = await import("./index");

const admin = { type: "user" as const, id: "00000000-0000-0000-0000-000000000001", name: "admin@example.com", role: "ADMIN" as const };
let db: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  db = await createTestDatabase();
  await db.prisma.organization.create({ data: { name: "Acme Corp" } });
});
afterAll(() => db.close());

const state = async () => Object.fromEntries((await gettingStarted(db.prisma)).map((s) => [s.id, { done: s.done, href: s.href }]));

it("lists the guide's steps in order, each ticked only once the portal holds what it makes", async () => {
  // The default Root CA made at first start is not the guide's Intermediate CA.
  await ensureOrganizationRootCa({ db: db.prisma, keyStore: databaseKeyStore(db.prisma), publicUrl: "http://pki.test" });
  const fresh = await gettingStarted(db.prisma);
  expect(fresh.map((s) => s.label)).toEqual([
    "Create an Intermediate CA",
    "Create a Certificate Template",
    "Create an ACME Device Management Platform",
    "Create a Generic HTTP Signal Source",
    "Create a Key Attestation Platform",
    "Create a Security Signal Source",
    "Create a Policy Workflow",
    "Create a Device Role",
    "Create an Enrollment Policy",
    "Configure Kandji",
    "Certificate Issuance",
  ]);
  expect(fresh.filter((s) => s.done)).toEqual([]);
  expect((await state())["intermediate-ca"]).toEqual({ done: false, href: "/dynamic-pki/certificate-authorities/new" });

  await createTemplate({ db: db.prisma, keyStore: databaseKeyStore(db.prisma), publicUrl: "http://pki.test" }, admin, {
    name: "Kandji Template",
    subject: "CN=${/csr/subject/commonname}",
    validityDays: 365,
    signatureAlgorithm: "SHA-256",
    extendedKeyUsages: ["clientAuth"],
  });
  await createCorePlatform(db.prisma, admin, { name: "Kandji", description: "", type: "generic-http" });
  await createKeyAttestationPlatform(db.prisma, admin, { name: "Apple", type: "apple" });
  const after = await state();
  expect(after["certificate-template"]).toEqual({ done: true, href: "/dynamic-pki/certificate-authorities" });
  expect(after["core-platform"]).toEqual({ done: true, href: "/integration-hub/core-platforms" });
  expect(after["key-attestation-platform"]).toEqual({ done: true, href: "/integration-hub/key-attestation-platforms" });
  expect(after["security-signal-source"]).toEqual({ done: false, href: "/policy-management/security-signal-sources/new" });
  expect(after["configure-kandji"].done).toBe(false);

  // Configuring Kandji is ticked by the profile's download, the one thing the portal sees of it.
  await recordEvent(db.prisma, {
    type: EventType.ProfileDownloaded,
    outcome: "success",
    actor: admin,
    summary: "profile",
    details: { payloadIdentifier: "x" },
  });
  expect((await state())["configure-kandji"].done).toBe(true);
  expect((await state())["certificate-issuance"].done).toBe(false);
});
