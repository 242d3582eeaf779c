import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "@attested/db/testing";
import {
  actorForApiToken,
  assertCanWrite,
  bootstrapOrganization,
  createApiToken,
  createUser,
  ForbiddenError,
  updateUser,
  verifySignIn,
} from "./index";
import { MAX_FAILURES } from "./throttle";

let db: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.close());

describe("identity", () => {
  it("bootstraps once, with a generated strong password when none is given", async () => {
    const first = await bootstrapOrganization(db.prisma, { ADMIN_EMAIL: "root@example.com" });
    expect(first.organizationCreated).toBe(true);
    expect(first.generatedPassword).toMatch(/^[A-Za-z0-9]{22}$/);
    const again = await bootstrapOrganization(db.prisma, { ADMIN_EMAIL: "other@example.com" });
    expect(again).toEqual({ organizationCreated: false });
    expect(await db.prisma.user.count()).toBe(1);
    const ok = await verifySignIn(db.prisma, "ROOT@example.com", first.generatedPassword!, "10.0.0.1");
    expect(ok.ok).toBe(true);
  });

  it("gives the same answer for unknown and known emails and rate limits", async () => {
    const admin = (await db.prisma.user.findFirstOrThrow()).id;
    const actor = { type: "user" as const, id: admin, name: "root@example.com", role: "ADMIN" as const };
    await createUser(db.prisma, actor, { email: "aud@example.com", name: "Aud", role: "AUDITOR", password: "correct horse battery" });
    const unknown = await verifySignIn(db.prisma, "nobody@example.com", "whatever-password", null);
    const known = await verifySignIn(db.prisma, "aud@example.com", "wrong-password-xx", null);
    expect(unknown).toEqual({ ok: false, reason: "invalid" });
    expect(known).toEqual(unknown);
    for (let i = 1; i < MAX_FAILURES; i++) await verifySignIn(db.prisma, "aud@example.com", "wrong-password-xx", null);
    // Locked now, even with the right password.
    expect(await verifySignIn(db.prisma, "aud@example.com", "correct horse battery", null)).toEqual({ ok: false, reason: "rate-limited" });
    expect(await db.prisma.event.count({ where: { type: "Sign-in Failed" } })).toBeGreaterThanOrEqual(MAX_FAILURES + 1);
  });

  it("lets auditors read but refuses and records their writes", async () => {
    const aud = await db.prisma.user.findUniqueOrThrow({ where: { email: "aud@example.com" } });
    const actor = { type: "user" as const, id: aud.id, name: aud.email, role: "AUDITOR" as const };
    await expect(assertCanWrite(db.prisma, actor, "create users")).rejects.toBeInstanceOf(ForbiddenError);
    await expect(updateUser(db.prisma, actor, aud.id, { role: "ADMIN" })).rejects.toBeInstanceOf(ForbiddenError);
    expect(await db.prisma.event.count({ where: { type: "Access Denied", actorName: aud.email } })).toBe(2);
    expect((await db.prisma.user.findUniqueOrThrow({ where: { id: aud.id } })).role).toBe("AUDITOR");
  });

  it("stores API tokens hashed and resolves them to their scope", async () => {
    const { token, info } = await createApiToken(db.prisma, { type: "system", name: "cli" }, { name: "ci", role: "AUDITOR" });
    const row = await db.prisma.apiToken.findUniqueOrThrow({ where: { id: info.id } });
    expect(row.hash).not.toContain(token);
    expect(JSON.stringify(row)).not.toContain(token);
    expect(await actorForApiToken(db.prisma, token)).toMatchObject({ type: "api-token", role: "AUDITOR" });
    expect(await actorForApiToken(db.prisma, token + "x")).toBeNull();
  });
});
