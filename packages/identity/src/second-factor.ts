import { createHash, randomBytes } from "node:crypto";
import { generateSecret, generateURI, verify } from "otplib";
import type { Db, Prisma } from "@attested/db";
import { DomainError, ForbiddenError, NotFoundError } from "@attested/errors";
import { EventType, inTransaction, recordEvent, type Actor } from "@attested/events";
import { masterKey, openSecret, sealSecret } from "@attested/secrets";
import { assertCanWrite } from "./actor";

// A second factor for local accounts: TOTP (RFC 6238: SHA-1, 6 digits, 30 s, as every authenticator
// app expects), set up by the user from Settings > Account with a QR code, confirmed by a first code,
// with ten one-time recovery codes. The TOTP secret is sealed under the master key and bound to the
// user; recovery codes are kept as SHA-256 hashes (they are 80 random bits: no slow hash needed).
// A code's time step is accepted once (replay), and codes are checked inside the password throttle.

export const TOTP_ISSUER = "Attested PKI";
const RECOVERY_CODES = 10;
/** One step either side: a phone clock 30 s off still works; a code lives at most ~90 s. */
const TOLERANCE_S = 30;

const secretContext = (userId: string) => `second-factor:${userId}`;
const hashCode = (code: string) => createHash("sha256").update(normalizeRecovery(code)).digest("hex");
const normalizeRecovery = (code: string) => code.replace(/[\s-]/g, "").toLowerCase();
const isTotpCode = (code: string) => /^\d{6}$/.test(code.replace(/\s/g, ""));

/** A recovery code as shown once: 20 base32 characters in four groups (xxxxx-xxxxx-xxxxx-xxxxx). */
function newRecoveryCode(): string {
  const alphabet = "abcdefghijkmnpqrstuvwxyz23456789"; // no 0/o, 1/l
  const bytes = randomBytes(20);
  const chars = [...bytes].map((b) => alphabet[b % 32]).join("");
  return chars.match(/.{5}/g)!.join("-");
}

function selfOnly(actor: Actor): string {
  if (actor.type !== "user" || !actor.id) throw new ForbiddenError("Only a signed-in user can set up their own second factor.");
  return actor.id;
}

export interface SecondFactorStatus {
  enabled: boolean;
  enabledAt: Date | null;
  recoveryCodesLeft: number;
  /** Admins must use one (Settings > Users), and this user is an admin. */
  required: boolean;
}

export async function secondFactorStatus(db: Db, userId: string): Promise<SecondFactorStatus> {
  const user = await db.user.findUnique({ where: { id: userId }, select: { role: true, totpEnabledAt: true } });
  if (!user) throw new NotFoundError("User");
  const left = user.totpEnabledAt ? await db.recoveryCode.count({ where: { userId, usedAt: null } }) : 0;
  return {
    enabled: !!user.totpEnabledAt,
    enabledAt: user.totpEnabledAt,
    recoveryCodesLeft: left,
    required: user.role === "ADMIN" && (await adminsNeedSecondFactor(db)),
  };
}

export async function adminsNeedSecondFactor(db: Db): Promise<boolean> {
  const org = await db.organization.findFirst({ orderBy: { createdAt: "asc" }, select: { requireSecondFactorForAdmins: true } });
  return org?.requireSecondFactorForAdmins ?? false;
}

/** Step 1 of the setup: a new secret (kept sealed, pending) and its otpauth:// URI for the QR code. */
export async function beginSecondFactorSetup(db: Db, actor: Actor): Promise<{ secret: string; uri: string }> {
  const userId = selfOnly(actor);
  const user = await db.user.findUnique({ where: { id: userId }, select: { email: true, totpEnabledAt: true } });
  if (!user) throw new NotFoundError("User");
  if (user.totpEnabledAt) throw new DomainError("Two-factor authentication is already on. Turn it off first to set up a new authenticator.", 409);
  const secret = generateSecret();
  await db.user.update({ where: { id: userId }, data: { totpPendingSecret: sealSecret(secret, secretContext(userId), masterKey()) } });
  return { secret, uri: generateURI({ issuer: TOTP_ISSUER, label: user.email, secret }) };
}

/** Step 2: the first code from the app confirms the pending secret; the recovery codes are shown once. */
export async function confirmSecondFactorSetup(db: Db, actor: Actor, code: string): Promise<{ recoveryCodes: string[] }> {
  const userId = selfOnly(actor);
  const user = await db.user.findUnique({ where: { id: userId }, select: { email: true, role: true, totpPendingSecret: true, totpEnabledAt: true } });
  if (!user) throw new NotFoundError("User");
  if (user.totpEnabledAt) throw new DomainError("Two-factor authentication is already on.", 409);
  if (!user.totpPendingSecret) throw new DomainError("Start the setup again: no authenticator is being set up.", 400, "code");
  const secret = openSecret(user.totpPendingSecret, secretContext(userId), masterKey());
  const step = await totpStep(secret, code, null);
  if (step === null) throw new DomainError("That code is not right. Enter the 6-digit code your app shows now.", 400, "code");
  const recoveryCodes = Array.from({ length: RECOVERY_CODES }, newRecoveryCode);
  await inTransaction(db, async (tx) => {
    await tx.user.update({
      where: { id: userId },
      data: { totpSecret: user.totpPendingSecret, totpPendingSecret: null, totpEnabledAt: new Date(), totpLastStep: step },
    });
    await tx.recoveryCode.deleteMany({ where: { userId } });
    await tx.recoveryCode.createMany({ data: recoveryCodes.map((c) => ({ userId, hash: hashCode(c) })) });
    await recordEvent(tx, {
      type: EventType.SecondFactorEnabled,
      outcome: "success",
      actor,
      object: { type: "user", id: userId, name: user.email },
      summary: `${user.email} turned on two-factor authentication (authenticator app)`,
      details: { method: "totp", recoveryCodes: RECOVERY_CODES },
    });
  });
  return { recoveryCodes };
}

/**
 * Turns a user's second factor off: the user themselves (with a current code), or an admin resetting
 * another user's (the user lost their phone), or the admin CLI (actor type "system").
 */
export async function resetSecondFactor(db: Db, actor: Actor, userId: string, code?: string): Promise<void> {
  const self = actor.type === "user" && actor.id === userId;
  if (!self && actor.type !== "system") await assertCanWrite(db, actor, "reset another user's two-factor authentication");
  const user = await db.user.findUnique({ where: { id: userId }, select: { email: true, totpSecret: true, totpEnabledAt: true, totpLastStep: true } });
  if (!user) throw new NotFoundError("User");
  if (!user.totpEnabledAt) throw new DomainError(`Two-factor authentication is not on for ${user.email}.`, 409);
  if (self) {
    const ok = user.totpSecret && (await totpStep(openSecret(user.totpSecret, secretContext(userId), masterKey()), code ?? "", user.totpLastStep)) !== null;
    if (!ok) throw new DomainError("That code is not right. Enter the 6-digit code your app shows now.", 400, "code");
  }
  await inTransaction(db, async (tx) => {
    await tx.user.update({ where: { id: userId }, data: { totpSecret: null, totpPendingSecret: null, totpEnabledAt: null, totpLastStep: null } });
    await tx.recoveryCode.deleteMany({ where: { userId } });
    await recordEvent(tx, {
      type: EventType.SecondFactorReset,
      outcome: "success",
      actor,
      object: { type: "user", id: userId, name: user.email },
      summary: self ? `${user.email} turned off two-factor authentication` : `Two-factor authentication of ${user.email} reset by ${actor.name ?? actor.type}`,
      details: { by: self ? "self" : actor.type === "system" ? "admin CLI" : "admin" },
    });
  });
}

/** The code's time step if it is valid now and newer than the last one accepted, else null. */
async function totpStep(secret: string, code: string, after: number | null): Promise<number | null> {
  const token = String(code ?? "").replace(/\s/g, "");
  if (!isTotpCode(token)) return null;
  const r = await verify({ secret, token, epochTolerance: TOLERANCE_S, ...(after !== null ? { afterTimeStep: after } : {}) }).catch(() => null);
  return r?.valid && "timeStep" in r ? r.timeStep : null;
}

export type SecondFactorCheck = { ok: true; method: "totp" | "recovery code" } | { ok: false; reason: string };

/**
 * Checks the second factor of a sign-in whose password was right: a current TOTP code (each time step
 * once) or an unused recovery code (then used up). Claims are conditional updates, so two requests
 * racing with the same code cannot both pass.
 */
export async function checkSecondFactor(
  tx: Db | Prisma.TransactionClient,
  user: { id: string; totpSecret: Uint8Array | null; totpLastStep: number | null },
  code: string,
): Promise<SecondFactorCheck> {
  const given = String(code ?? "").trim();
  if (!given) return { ok: false, reason: "no authentication code" };
  if (isTotpCode(given)) {
    if (!user.totpSecret) return { ok: false, reason: "no authenticator set up" };
    const step = await totpStep(openSecret(user.totpSecret, secretContext(user.id), masterKey()), given, user.totpLastStep);
    if (step === null) return { ok: false, reason: "wrong or reused authentication code" };
    const claimed = await tx.user.updateMany({
      where: { id: user.id, OR: [{ totpLastStep: null }, { totpLastStep: { lt: step } }] },
      data: { totpLastStep: step },
    });
    return claimed.count ? { ok: true, method: "totp" } : { ok: false, reason: "wrong or reused authentication code" };
  }
  const used = await tx.recoveryCode.updateMany({ where: { userId: user.id, hash: hashCode(given), usedAt: null }, data: { usedAt: new Date() } });
  return used.count ? { ok: true, method: "recovery code" } : { ok: false, reason: "wrong or used recovery code" };
}

/** Settings > Users: whether admins must sign in with a second factor. */
export async function setAdminsNeedSecondFactor(db: Db, actor: Actor, required: boolean): Promise<void> {
  await assertCanWrite(db, actor, "change the sign-in requirements");
  const org = await db.organization.findFirst({ orderBy: { createdAt: "asc" }, select: { id: true, requireSecondFactorForAdmins: true } });
  if (!org) throw new NotFoundError("Organization");
  if (org.requireSecondFactorForAdmins === required) return;
  await inTransaction(db, async (tx) => {
    await tx.organization.update({ where: { id: org.id }, data: { requireSecondFactorForAdmins: required } });
    await recordEvent(tx, {
      type: EventType.SettingsUpdated,
      outcome: "success",
      actor,
      object: { type: "settings", id: "sign-in", name: "Sign-in" },
      summary: required ? "Admins must now sign in with two-factor authentication" : "Two-factor authentication is no longer required for admins",
      details: { settings: "sign-in", requireSecondFactorForAdmins: required },
    });
  });
}
