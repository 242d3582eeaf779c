import { randomBytes } from "node:crypto";
import { listConfigFromRecord, listInventory, lookupConfigFromRecord, setAllowHttp } from "@attested/integrations";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ZodError } from "zod";

process.env.MASTER_KEY = randomBytes(32).toString("hex");
setAllowHttp(true); // INTEGRATIONS_ALLOW_HTTP=1, as the server hands it over

const { createTestDatabase } = await import("@attested/db/testing");
const { startJamfSimulator } = await import("@attested/jamf-sim");
const { ForbiddenError } = await import("@attested/errors");
const policy = await import("./index");

// A Core Platform made from the Jamf Pro preset through the service the form and REST call: the
// client secret is sealed, never returned or written to the trail; Validate names the failed step;
// the abuse cases change nothing.

const SECRET = "jamf-client-secret-0123456789";
const admin = { type: "user" as const, id: "00000000-0000-0000-0000-000000000001", name: "admin@example.com", role: "ADMIN" as const };
const auditor = { type: "user" as const, id: "00000000-0000-0000-0000-000000000002", name: "auditor@example.com", role: "AUDITOR" as const };
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let jamf: Awaited<ReturnType<typeof startJamfSimulator>>;

async function errorsOf(p: Promise<unknown>): Promise<Record<string, string>> {
  const e = (await p.then(
    () => null,
    (x: unknown) => x,
  )) as ZodError | null;
  if (!e || !("issues" in e)) throw new Error(`expected a validation error, got ${String(e)}`);
  return Object.fromEntries(e.issues.map((i) => [i.path.join("."), i.message]));
}

beforeAll(async () => {
  db = await createTestDatabase();
  jamf = await startJamfSimulator({
    clientId: "jamf-client",
    clientSecret: SECRET,
    devices: [{ serialNumber: "C02JAMF0001", name: "Grace's Mac", email: "grace@example.com" }],
  });
});
afterAll(async () => {
  await jamf?.close();
  await db?.close();
});

const jamfInput = (over: Record<string, unknown> = {}) => ({
  name: "Jamf Pro",
  type: "generic-http",
  preset: "jamf-computers",
  tenantUrl: jamf.url,
  oauthClientId: "jamf-client",
  secret: SECRET,
  ...over,
});

describe("Core Platform presets and OAuth 2.0 client credentials", () => {
  it("refuses an auditor, an unknown preset and a bad tenant URL, creating nothing", async () => {
    await expect(policy.createCorePlatform(db.prisma, auditor, jamfInput())).rejects.toBeInstanceOf(ForbiddenError);
    expect(await errorsOf(policy.createCorePlatform(db.prisma, admin, jamfInput({ preset: "airwatch" })))).toMatchObject({
      preset: expect.stringContaining("Preset must be one of Kandji, Jamf Pro (computers)"),
    });
    expect(await errorsOf(policy.createCorePlatform(db.prisma, admin, jamfInput({ tenantUrl: "ftp://jamf.example" })))).toEqual({
      tenantUrl: "Jamf Pro URL must start with https://",
    });
    expect(await errorsOf(policy.createCorePlatform(db.prisma, admin, jamfInput({ oauthClientId: "" })))).toEqual({ oauthClientId: "Client ID is required" });
    expect(await db.prisma.corePlatform.count()).toBe(0);
  });

  it("fills the tabs from the preset, seals the client secret and never shows it", async () => {
    const cp = await policy.createCorePlatform(db.prisma, admin, jamfInput());
    expect(cp).toMatchObject({
      authMethod: "oauth2",
      hasSecret: true,
      oauthClientId: "jamf-client",
      oauthTokenUrl: `${jamf.url}/api/oauth/token`,
      uri: expect.stringContaining("/api/v1/computers-inventory?"),
    });
    expect(JSON.stringify(cp)).not.toContain(SECRET);
    const row = await db.prisma.corePlatform.findUniqueOrThrow({ where: { id: cp.id } });
    expect(Buffer.from(row.secret!).toString("latin1")).not.toContain(SECRET);
    const events = await db.prisma.event.findMany({ where: { objectId: cp.id } });
    expect(events.map((e) => e.summary)).toEqual([`Core Platform "Jamf Pro" (Generic HTTP, Jamf Pro (computers) preset) created`]);
    expect(JSON.stringify(events.map((e) => e.details))).not.toContain(SECRET);

    const found = await policy.validateCorePlatform(db.prisma, admin, cp.id, { identity: "C02JAMF0001" });
    expect(found).toMatchObject({ outcome: "found", attributes: { deviceName: "Grace's Mac", email: "grace@example.com" } });
    // A typed wrong secret: the token step fails, and says so.
    const wrong = await policy.validateCorePlatform(db.prisma, admin, cp.id, { identity: "C02JAMF0001", secret: "not-the-secret" });
    expect(wrong).toMatchObject({ outcome: "error", failedStep: "token", reason: "token request failed: HTTP 401 (invalid_client)" });

    // The preset also fills the Fleet Inventory, which reads Jamf page by page with the same OAuth token.
    expect(cp).toMatchObject({ listPaging: "page-size", listItemsPath: "data.results", listSerialPath: "data.hardware.serialNumber" });
    const list = listConfigFromRecord(row)!;
    const inventory = await listInventory(list, lookupConfigFromRecord(row), { allowHttp: true });
    expect(inventory).toMatchObject({ outcome: "complete" });
    expect([...inventory.serials]).toContain("C02JAMF0001");
    await expect(policy.validateCorePlatform(db.prisma, auditor, cp.id, { identity: "C02JAMF0001" })).rejects.toBeInstanceOf(ForbiddenError);
  });

  it("asks for the client secret again before sending it to another token origin", async () => {
    const cp = (await policy.listCorePlatforms(db.prisma))[0]!;
    expect(await errorsOf(policy.updateCorePlatform(db.prisma, admin, cp.id, { oauthTokenUrl: "http://127.0.0.2:9/api/oauth/token" }))).toEqual({
      secret: `Client Secret is required again: the saved one is only sent to ${jamf.url}`,
    });
    expect(await errorsOf(policy.validateCorePlatform(db.prisma, admin, cp.id, { identity: "x", oauthTokenUrl: "http://127.0.0.2:9/t" }))).toHaveProperty(
      "secret",
    );
    const row = await db.prisma.corePlatform.findUniqueOrThrow({ where: { id: cp.id } });
    expect(row.oauthTokenUrl).toBe(`${jamf.url}/api/oauth/token`);
  });
});
