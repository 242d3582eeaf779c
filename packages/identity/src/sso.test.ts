import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "@attested/db/testing";
import { ForbiddenError } from "@attested/errors";
import type { Actor } from "@attested/events";
import { setMasterKey } from "@attested/secrets";
import {
  createUser,
  getSsoSettings,
  parseRoleMappings,
  roleForGroups,
  setSsoEnvironment,
  ssoProvider,
  ssoSignIn,
  updateSsoSettings,
  updateUser,
  verifySignIn,
} from "./index";

let db: Awaited<ReturnType<typeof createTestDatabase>>;
const system: Actor = { type: "system", name: "test" };
let admin: Actor;
const ISSUER = "https://login.example.com/tenant/v2.0";
const PASSWORD = "correct horse battery staple";
const settings = (over: Record<string, unknown> = {}) => ({
  issuer: ISSUER,
  clientId: "attested-pki",
  clientSecret: "client-secret-value-123",
  groupsClaim: "groups",
  mappings: "pki-admins = Admin\npki-auditors = auditor",
  ...over,
});
const who = (subject: string, groups: string[], email = `${subject}@example.com`) => ({ issuer: ISSUER, subject, email, name: subject, groups });

beforeAll(async () => {
  setMasterKey(randomBytes(32));
  db = await createTestDatabase();
  await db.prisma.organization.create({ data: { name: "Example" } });
  const a = await createUser(db.prisma, system, { email: "root-sso@example.com", name: "Root", role: "ADMIN", password: PASSWORD });
  admin = { type: "user", id: a.id, name: a.email, role: "ADMIN" };
});
afterAll(() => db.close());

describe("single sign-on (OpenID Connect)", () => {
  it("maps groups to a role: Admin before Auditor, else none", () => {
    const m = parseRoleMappings("pki-admins = Admin\n\n  pki-auditors=AUDITOR ");
    expect(m).toEqual([
      { group: "pki-admins", role: "ADMIN" },
      { group: "pki-auditors", role: "AUDITOR" },
    ]);
    expect(roleForGroups(["pki-auditors", "pki-admins"], m)).toBe("ADMIN");
    expect(roleForGroups(["pki-auditors"], m)).toBe("AUDITOR");
    expect(roleForGroups(["marketing"], m)).toBeNull();
    expect(() => parseRoleMappings("pki-admins => Owner")).toThrow(/Line 1/);
  });

  it("keeps the client secret sealed and write-only, admins only, https issuers only", async () => {
    const auditor: Actor = { type: "user", id: "x", name: "aud", role: "AUDITOR" };
    await expect(updateSsoSettings(db.prisma, auditor, settings())).rejects.toBeInstanceOf(ForbiddenError);
    await expect(updateSsoSettings(db.prisma, admin, settings({ issuer: "http://idp.example.com" }))).rejects.toMatchObject({
      issues: [expect.objectContaining({ path: ["issuer"] })],
    });
    const view = await updateSsoSettings(db.prisma, admin, settings());
    expect(view).toMatchObject({ enabled: true, hasClientSecret: true });
    expect(JSON.stringify(view)).not.toContain("client-secret-value-123");
    const row = await db.prisma.organization.findFirstOrThrow();
    expect(Buffer.from(row.oidcClientSecret!).toString("latin1")).not.toContain("client-secret-value-123");
    expect((await ssoProvider(db.prisma))?.clientSecret).toBe("client-secret-value-123");
    // Another client: the saved secret must be typed again.
    await expect(updateSsoSettings(db.prisma, admin, settings({ clientId: "other", clientSecret: "" }))).rejects.toMatchObject({ field: "clientSecret" });
    const event = await db.prisma.event.findFirstOrThrow({ where: { type: "Settings Updated", objectId: "sso" }, orderBy: { id: "desc" } });
    expect(JSON.stringify(event.details) + event.summary).not.toContain("client-secret-value-123");
  });

  it("creates the user at first sign-in, re-evaluates the role each time, and refuses (ending sessions) when no group maps", async () => {
    await updateSsoSettings(db.prisma, admin, settings());
    const first = await ssoSignIn(db.prisma, who("ada", ["pki-admins"]), "10.1.1.1");
    expect(first).toMatchObject({ ok: true, user: { email: "ada@example.com", role: "ADMIN" } });
    const created = await db.prisma.user.findUniqueOrThrow({ where: { email: "ada@example.com" } });
    expect(created.oidcSubject).toBe(`${ISSUER}#ada`);
    // No password works for a user the provider created.
    expect((await verifySignIn(db.prisma, "ada@example.com", "!single-sign-on", "10.1.1.2")).ok).toBe(false);

    const demoted = await ssoSignIn(db.prisma, who("ada", ["pki-auditors"]), null);
    expect(demoted).toMatchObject({ ok: true, user: { role: "AUDITOR" } });
    expect((demoted as { user: { sessionVersion: number } }).user.sessionVersion).toBe(created.sessionVersion + 1);
    expect(await db.prisma.event.count({ where: { type: "User Updated", objectId: created.id } })).toBe(1);

    const before = (await db.prisma.user.findUniqueOrThrow({ where: { id: created.id } })).sessionVersion;
    expect(await ssoSignIn(db.prisma, who("ada", ["marketing"]), null)).toMatchObject({ ok: false });
    expect((await db.prisma.user.findUniqueOrThrow({ where: { id: created.id } })).sessionVersion).toBe(before + 1);
    const refused = await db.prisma.event.findFirstOrThrow({ where: { type: "Sign-in Failed" }, orderBy: { id: "desc" } });
    expect(refused.details).toMatchObject({ method: "sso", sessionsEnded: true, groups: ["marketing"] });
  });

  it("never takes over a local account with the same email, nor signs a disabled user in", async () => {
    expect(await ssoSignIn(db.prisma, who("mallory", ["pki-admins"], "root-sso@example.com"), null)).toEqual({
      ok: false,
      reason: "a local account already uses root-sso@example.com",
    });
    const bob = await ssoSignIn(db.prisma, who("bob", ["pki-auditors"]), null);
    expect(bob.ok).toBe(true);
    await updateUser(db.prisma, admin, (bob as { user: { id: string } }).user.id, { disabled: true });
    expect(await ssoSignIn(db.prisma, who("bob", ["pki-auditors"]), null)).toMatchObject({ ok: false, reason: "the user is disabled in the portal" });
  });

  it("when required, keeps password sign-in for break-glass accounts only", async () => {
    const local = await createUser(db.prisma, system, { email: "local-sso@example.com", name: "Local", role: "AUDITOR", password: PASSWORD });
    await expect(updateSsoSettings(db.prisma, admin, settings({ requireSso: "on" }))).rejects.toMatchObject({ field: "requireSso" });
    await updateUser(db.prisma, admin, admin.id!, { breakGlass: true });
    await updateSsoSettings(db.prisma, admin, settings({ requireSso: "on" }));
    expect((await getSsoSettings(db.prisma)).requireSso).toBe(true);
    expect(await verifySignIn(db.prisma, local.email, PASSWORD, "10.2.0.1")).toEqual({ ok: false, reason: "sso-required" });
    expect((await verifySignIn(db.prisma, "root-sso@example.com", PASSWORD, "10.2.0.2")).ok).toBe(true);
    await updateSsoSettings(db.prisma, admin, settings({ requireSso: "" }));
    expect((await verifySignIn(db.prisma, local.email, PASSWORD, "10.2.0.3")).ok).toBe(true);
  });

  it("set by the environment (OIDC_*), the provider wins over Settings, which then changes only the requirement", async () => {
    setSsoEnvironment({
      issuer: "https://idp.env.example",
      clientId: "from-env",
      clientSecret: "env-secret-value",
      groupsClaim: "roles",
      mappings: [{ group: "env-admins", role: "ADMIN" }],
    });
    try {
      expect(await ssoProvider(db.prisma)).toEqual({
        issuer: "https://idp.env.example",
        clientId: "from-env",
        clientSecret: "env-secret-value",
        groupsClaim: "roles",
      });
      const view = await getSsoSettings(db.prisma);
      expect(view).toMatchObject({ fromEnvironment: true, issuer: "https://idp.env.example", hasClientSecret: true });
      expect(JSON.stringify(view)).not.toContain("env-secret-value");
      // The form's provider fields are ignored; the requirement is kept.
      await updateSsoSettings(db.prisma, admin, settings({ issuer: "https://evil.example", requireSso: "" }));
      expect((await db.prisma.organization.findFirstOrThrow()).oidcIssuer).toBe(ISSUER);
      expect(await ssoSignIn(db.prisma, { ...who("erin", ["env-admins"]), issuer: "https://idp.env.example" }, null)).toMatchObject({
        ok: true,
        user: { role: "ADMIN" },
      });
      expect(await ssoSignIn(db.prisma, { ...who("fred", ["pki-admins"]), issuer: "https://idp.env.example" }, null)).toMatchObject({ ok: false });
    } finally {
      setSsoEnvironment(null);
    }
  });
});
