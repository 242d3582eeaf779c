import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "@attested/db/testing";
import { ForbiddenError } from "@attested/errors";
import { actorForApiToken, assertCanWrite, bootstrapOrganization, createApiToken, createUser, updateUser, verifySignIn } from "./index";
import { ADDRESS_LIMIT, EMAIL_LIMIT, FREE_FAILURES } from "./throttle";

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
    const known = await verifySignIn(db.prisma, "aud@example.com", "wrong-password-xx", "10.0.0.2");
    expect(unknown).toEqual({ ok: false, reason: "invalid" });
    expect(known).toEqual(unknown);
    for (let i = 1; i < FREE_FAILURES + 1; i++) await verifySignIn(db.prisma, "aud@example.com", "wrong-password-xx", "10.0.0.2");
    // That address waits now, even with the right password; another address does not.
    expect(await verifySignIn(db.prisma, "aud@example.com", "correct horse battery", "10.0.0.2")).toEqual({ ok: false, reason: "rate-limited" });
    expect((await verifySignIn(db.prisma, "aud@example.com", "correct horse battery", "10.0.0.3")).ok).toBe(true);
    expect(await db.prisma.event.count({ where: { type: "Sign-in Failed" } })).toBeGreaterThanOrEqual(FREE_FAILURES + 2);
  });

  it("refuses common and guessable passwords, and passwords made of the user's own email or name", async () => {
    const admin = await db.prisma.user.findFirstOrThrow();
    const actor = { type: "user" as const, id: admin.id, name: admin.email, role: "ADMIN" as const };
    for (const password of ["Password123456", "qwertyuiop123", "grace.hopper@example.com", "GraceHopper2024"])
      await expect(createUser(db.prisma, actor, { email: "grace.hopper@example.com", name: "Grace Hopper", role: "AUDITOR", password })).rejects.toMatchObject({
        field: "password",
        message: expect.stringMatching(/too easy to guess/),
      });
    expect(await db.prisma.user.count({ where: { email: "grace.hopper@example.com" } })).toBe(0);
  });

  it("locks an address that sprays many emails", async () => {
    for (let i = 0; i < ADDRESS_LIMIT; i++) await verifySignIn(db.prisma, `spray${i}@example.com`, "wrong-password-xx", "10.0.0.9");
    expect(await verifySignIn(db.prisma, "root@example.com", "anything-at-all", "10.0.0.9")).toEqual({ ok: false, reason: "rate-limited" });
  });

  it("counts a burst of parallel guesses one by one: only the free ones are checked, the right password among them is refused", async () => {
    const guesses = Array.from({ length: 40 }, (_, i) =>
      verifySignIn(db.prisma, "aud@example.com", i === 39 ? "correct horse battery" : `burst-guess-${i}`, "10.0.1.1"),
    );
    const results = await Promise.all(guesses);
    const checked = await db.prisma.event.count({
      where: {
        type: "Sign-in Failed",
        details: { path: ["ip"], equals: "10.0.1.1" },
        NOT: { details: { path: ["reason"], equals: "too many failed attempts" } },
      },
    });
    // The first FREE_FAILURES + 1 attempts are counted before any is checked; the rest wait, unchecked.
    expect(checked).toBeLessThanOrEqual(FREE_FAILURES + 1);
    expect(results.filter((r) => !r.ok && r.reason === "rate-limited").length).toBeGreaterThanOrEqual(40 - FREE_FAILURES - 1);
    expect(results.some((r) => r.ok)).toBe(false);
    expect((await db.prisma.signInThrottle.findUniqueOrThrow({ where: { key: "ip:10.0.1.1" } })).failures).toBe(checked);
  });

  it("counts an IPv6 client by its /64", async () => {
    for (let i = 1; i <= FREE_FAILURES + 1; i++) await verifySignIn(db.prisma, "aud@example.com", "wrong-password-xx", `2001:db8:5:6::${i}`);
    expect(await verifySignIn(db.prisma, "aud@example.com", "correct horse battery", "2001:db8:5:6:ffff::9")).toEqual({ ok: false, reason: "rate-limited" });
    expect((await verifySignIn(db.prisma, "aud@example.com", "correct horse battery", "2001:db8:5:7::1")).ok).toBe(true);
  });

  it("slows many addresses guessing one email, but not the addresses its user signed in from", async () => {
    const admin = (await db.prisma.user.findFirstOrThrow()).id;
    const actor = { type: "user" as const, id: admin, name: "root@example.com", role: "ADMIN" as const };
    await createUser(db.prisma, actor, { email: "target@example.com", name: "Tara Get", role: "ADMIN", password: "staple violet anchor 77" });
    expect((await verifySignIn(db.prisma, "target@example.com", "staple violet anchor 77", "192.0.2.1")).ok).toBe(true);
    // EMAIL_LIMIT guesses from as many addresses, one each: no address or pair limit applies.
    for (let i = 0; i < EMAIL_LIMIT + 1; i++) await verifySignIn(db.prisma, "target@example.com", `spray-${i}-guess`, `198.51.100.${i + 1}`);
    expect(await verifySignIn(db.prisma, "target@example.com", "staple violet anchor 77", "203.0.113.7")).toEqual({ ok: false, reason: "rate-limited" });
    expect((await verifySignIn(db.prisma, "target@example.com", "staple violet anchor 77", "192.0.2.1")).ok).toBe(true);
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
    expect(await actorForApiToken(db.prisma, `${token}x`)).toBeNull();
  });
});
