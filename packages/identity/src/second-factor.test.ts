import { randomBytes } from "node:crypto";
import { generate } from "otplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "@attested/db/testing";
import { ForbiddenError } from "@attested/errors";
import type { Actor } from "@attested/events";
import { setMasterKey } from "@attested/secrets";
import { beginSecondFactorSetup, confirmSecondFactorSetup, createUser, resetSecondFactor, sessionOf, setAdminsNeedSecondFactor, verifySignIn } from "./index";
import { FREE_FAILURES } from "./throttle";

let db: Awaited<ReturnType<typeof createTestDatabase>>;
const system: Actor = { type: "system", name: "test" };
let admin: Actor;
let auditor: Actor;
const PASSWORD = "correct horse battery staple";
// A code for a moment `s` seconds from now (TOTP steps are 30 s).
const codeAt = (secret: string, s = 0) => generate({ secret, epoch: Math.floor(Date.now() / 1000) + s });

beforeAll(async () => {
  setMasterKey(randomBytes(32));
  db = await createTestDatabase();
  await db.prisma.organization.create({ data: { name: "Example" } });
  const a = await createUser(db.prisma, system, { email: "admin2fa@example.com", name: "Admin", role: "ADMIN", password: PASSWORD });
  const b = await createUser(db.prisma, system, { email: "aud2fa@example.com", name: "Aud", role: "AUDITOR", password: PASSWORD });
  admin = { type: "user", id: a.id, name: a.email, role: "ADMIN" };
  auditor = { type: "user", id: b.id, name: b.email, role: "AUDITOR" };
});
afterAll(() => db.close());

async function turnOn(actor: Actor) {
  const { secret, uri } = await beginSecondFactorSetup(db.prisma, actor);
  expect(uri).toMatch(/^otpauth:\/\/totp\/Attested%20PKI:.*secret=/);
  const { recoveryCodes } = await confirmSecondFactorSetup(db.prisma, actor, await codeAt(secret, -30));
  return { secret, recoveryCodes };
}

describe("two-factor authentication (TOTP)", () => {
  it("is set up by a first code; the secret is sealed and the recovery codes are kept only as hashes", async () => {
    const { secret: pending } = await beginSecondFactorSetup(db.prisma, auditor);
    await expect(confirmSecondFactorSetup(db.prisma, auditor, "000000")).rejects.toMatchObject({ field: "code" });
    const { recoveryCodes } = await confirmSecondFactorSetup(db.prisma, auditor, await codeAt(pending));
    expect(recoveryCodes).toHaveLength(10);
    const row = await db.prisma.user.findUniqueOrThrow({ where: { id: auditor.id }, include: { recoveryCodes: true } });
    expect(Buffer.from(row.totpSecret!).toString("latin1")).not.toContain(pending);
    expect(row.totpPendingSecret).toBeNull();
    for (const c of recoveryCodes) expect(row.recoveryCodes.map((r) => r.hash)).not.toContain(c);
    expect(await db.prisma.event.count({ where: { type: "Two-Factor Enabled", objectId: auditor.id } })).toBe(1);
    await resetSecondFactor(db.prisma, system, auditor.id!);
  });

  it("asks for the code after the right password, takes each code once, and counts wrong codes with failed passwords", async () => {
    const { secret } = await turnOn(admin);
    const ip = "10.9.0.1";
    expect(await verifySignIn(db.prisma, admin.name!, "wrong password!!", ip, await codeAt(secret))).toEqual({ ok: false, reason: "invalid" });
    expect(await verifySignIn(db.prisma, admin.name!, PASSWORD, "10.9.0.2")).toEqual({ ok: false, reason: "second-factor" });
    expect(await verifySignIn(db.prisma, admin.name!, PASSWORD, "10.9.0.2", "123456")).toEqual({ ok: false, reason: "invalid-code" });
    const failed = await db.prisma.event.findFirstOrThrow({ where: { type: "Sign-in Failed" }, orderBy: { id: "desc" } });
    expect(failed.details).toMatchObject({ reason: "wrong or reused authentication code" });

    const code = await codeAt(secret, 30);
    const ok = await verifySignIn(db.prisma, admin.name!, PASSWORD, "10.9.0.3", code);
    expect(ok.ok).toBe(true);
    const signIn = await db.prisma.event.findFirstOrThrow({ where: { type: "Sign In" }, orderBy: { id: "desc" } });
    expect(signIn.details).toMatchObject({ secondFactor: "totp" });
    // The same code again (a replay), or an older one: refused.
    expect(await verifySignIn(db.prisma, admin.name!, PASSWORD, "10.9.0.3", code)).toEqual({ ok: false, reason: "invalid-code" });
    expect(await verifySignIn(db.prisma, admin.name!, PASSWORD, "10.9.0.3", await codeAt(secret))).toEqual({ ok: false, reason: "invalid-code" });

    // Guessing codes meets the same throttle as guessing passwords.
    const guesser = "10.9.0.4";
    for (let i = 0; i <= FREE_FAILURES; i++) await verifySignIn(db.prisma, admin.name!, PASSWORD, guesser, String(100000 + i));
    expect(await verifySignIn(db.prisma, admin.name!, PASSWORD, guesser, "999999")).toEqual({ ok: false, reason: "rate-limited" });
    await resetSecondFactor(db.prisma, system, admin.id!);
  });

  it("takes a recovery code once, in any spelling", async () => {
    const { recoveryCodes } = await turnOn(admin);
    const code = recoveryCodes[3]!;
    const spelled = ` ${code.toUpperCase().replaceAll("-", " ")} `;
    const ok = await verifySignIn(db.prisma, admin.name!, PASSWORD, "10.9.1.1", spelled);
    expect(ok.ok).toBe(true);
    expect(await verifySignIn(db.prisma, admin.name!, PASSWORD, "10.9.1.2", code)).toEqual({ ok: false, reason: "invalid-code" });
    await resetSecondFactor(db.prisma, system, admin.id!);
  });

  it("is reset by an admin (not an auditor), or turned off by the user with a current code", async () => {
    const { secret } = await turnOn(auditor);
    await expect(resetSecondFactor(db.prisma, auditor, auditor.id!, "000000")).rejects.toMatchObject({ field: "code" });
    const other = await turnOn(admin);
    await expect(resetSecondFactor(db.prisma, auditor, admin.id!)).rejects.toBeInstanceOf(ForbiddenError);
    await resetSecondFactor(db.prisma, admin, auditor.id!);
    expect((await db.prisma.user.findUniqueOrThrow({ where: { id: auditor.id } })).totpEnabledAt).toBeNull();
    expect(await db.prisma.recoveryCode.count({ where: { userId: auditor.id } })).toBe(0);
    const reset = await db.prisma.event.findFirstOrThrow({ where: { type: "Two-Factor Reset", objectId: auditor.id }, orderBy: { id: "desc" } });
    expect(reset.details).toMatchObject({ by: "admin" });
    // Without it, the password alone signs in again.
    expect((await verifySignIn(db.prisma, auditor.name!, PASSWORD, "10.9.2.1")).ok).toBe(true);
    expect(secret).toBeTruthy();
    await resetSecondFactor(db.prisma, admin, admin.id!, await codeAt(other.secret, 30));
  });

  it("when required, keeps an admin without it out of everything but setting it up; auditors are not held", async () => {
    await expect(setAdminsNeedSecondFactor(db.prisma, auditor, true)).rejects.toBeInstanceOf(ForbiddenError);
    await setAdminsNeedSecondFactor(db.prisma, admin, true);
    const sv = (id: string) => db.prisma.user.findUniqueOrThrow({ where: { id } }).then((u) => u.sessionVersion);
    expect(await sessionOf(db.prisma, admin.id!, await sv(admin.id!))).toMatchObject({ secondFactorMissing: true });
    expect(await sessionOf(db.prisma, auditor.id!, await sv(auditor.id!))).toMatchObject({ secondFactorMissing: false });
    await turnOn(admin);
    expect(await sessionOf(db.prisma, admin.id!, await sv(admin.id!))).toMatchObject({ secondFactorMissing: false });
    await setAdminsNeedSecondFactor(db.prisma, admin, false);
    await resetSecondFactor(db.prisma, system, admin.id!);
  });
});
