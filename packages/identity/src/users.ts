import { cachedConfig, type Db, type Role } from "@attested/db";
import { EventType, inTransaction, recordEvent, type Actor } from "@attested/events";
import { assertCanWrite } from "./actor";
import { assertStrongPassword, dummyHash, hashPassword, verifyPassword } from "./passwords";
import { changePasswordSchema, createUserSchema, passwordSchema, updateUserSchema, type CreateUserInput } from "./schemas";
import { adminsNeedSecondFactor, checkSecondFactor } from "./second-factor";
import { ssoRequired } from "./sso";
import { claimAttempt, clearAllFailures, signedIn, throttleKeys } from "./throttle";
import { ConflictError, DomainError, ForbiddenError, NotFoundError, TooManyRequestsError } from "@attested/errors";

export interface PublicUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  disabled: boolean;
  createdAt: Date;
  lastSignInAt: Date | null;
  /** When the user turned two-factor authentication on (null: off). */
  totpEnabledAt: Date | null;
  /** May sign in with a password while single sign-on is required. */
  breakGlass: boolean;
  /** Created by single sign-on (no password). */
  oidcSubject: string | null;
}

const publicFields = {
  id: true,
  email: true,
  name: true,
  role: true,
  disabled: true,
  createdAt: true,
  lastSignInAt: true,
  totpEnabledAt: true,
  breakGlass: true,
  oidcSubject: true,
} as const;

export const listUsers = (db: Db): Promise<PublicUser[]> => db.user.findMany({ select: publicFields, orderBy: { createdAt: "asc" } });

export async function getUser(db: Db, id: string): Promise<PublicUser> {
  const u = await db.user.findUnique({ where: { id }, select: publicFields });
  if (!u) throw new NotFoundError("User");
  return u;
}

/**
 * Creates a user. `actor` null means the bootstrap or the admin CLI (direct database access). `input`
 * is a CreateUserInput or what a form or the API submitted: createUserSchema checks it here.
 */
export async function createUser(db: Db, actor: Actor, input: CreateUserInput | unknown): Promise<PublicUser> {
  if (actor.type !== "system") await assertCanWrite(db, actor, "create users");
  const data = createUserSchema.parse(input);
  assertStrongPassword(data.password, data);
  if (await db.user.findUnique({ where: { email: data.email } })) throw new ConflictError("A user with this email already exists", "email");
  const passwordHash = await hashPassword(data.password);
  return inTransaction(db, async (tx) => {
    const user = await tx.user.create({
      data: { email: data.email, name: data.name, role: data.role, passwordHash },
      select: publicFields,
    });
    await recordEvent(tx, {
      type: EventType.UserCreated,
      outcome: "success",
      actor,
      object: { type: "user", id: user.id, name: user.email },
      summary: `${user.email} created as ${user.role === "ADMIN" ? "Admin" : "Auditor"}`,
      details: { role: user.role },
    });
    return user;
  });
}

export async function updateUser(db: Db, actor: Actor, id: string, input: unknown): Promise<PublicUser> {
  await assertCanWrite(db, actor, "change users");
  const data = updateUserSchema.parse(input);
  const before = await getUser(db, id);
  if (actor.type === "user" && actor.id === id && (data.disabled || data.role === "AUDITOR"))
    throw new DomainError("You cannot disable or demote yourself", 400, data.disabled ? "disabled" : "role");
  if (before.role === "ADMIN" && !before.disabled && (data.disabled || data.role === "AUDITOR")) {
    const admins = await db.user.count({ where: { role: "ADMIN", disabled: false } });
    if (admins <= 1) throw new DomainError("The last active admin cannot be disabled or demoted", 400, "role");
  }
  // A new role or a disabled account ends every session: the next request signs in again.
  const endSessions = (data.role !== undefined && data.role !== before.role) || (data.disabled === true && !before.disabled);
  return inTransaction(db, async (tx) => {
    const user = await tx.user.update({
      where: { id },
      data: { ...data, ...(endSessions ? { sessionVersion: { increment: 1 } } : {}) },
      select: publicFields,
    });
    await recordEvent(tx, {
      type: EventType.UserUpdated,
      outcome: "success",
      actor,
      object: { type: "user", id, name: user.email },
      summary: `${user.email} updated`,
      details: { before: { role: before.role, disabled: before.disabled }, after: data },
    });
    return user;
  });
}

/** Sets a new password (admin CLI recovery, or an admin for another user); ends the user's sessions. */
export async function resetPassword(db: Db, actor: Actor, who: { email: string } | { id: string }, password: string): Promise<void> {
  if (actor.type !== "system") await assertCanWrite(db, actor, "reset passwords");
  const pw = passwordSchema.parse(password);
  const user = await db.user.findUnique({ where: "id" in who ? { id: who.id } : { email: who.email.trim().toLowerCase() } });
  if (!user) throw new NotFoundError("User");
  assertStrongPassword(pw, user);
  await setPassword(db, actor, user, pw, EventType.PasswordReset, `Password reset for ${user.email}`);
  await clearAllFailures(db, user.email);
}

/**
 * A signed-in user changes their own password: the current one is required (wrong guesses count
 * towards sign-in throttling), and every session of the user ends.
 */
export async function changeOwnPassword(db: Db, actor: Actor, input: unknown, ip: string | null): Promise<void> {
  if (actor.type !== "user" || !actor.id) throw new ForbiddenError("Sign in to continue.");
  const data = changePasswordSchema.parse(input);
  const user = await db.user.findUnique({ where: { id: actor.id } });
  if (!user) throw new NotFoundError("User");
  const keys = throttleKeys(user.email, ip);
  if (!(await claimAttempt(db, keys))) throw new TooManyRequestsError("Too many failed attempts. Try again later.", "currentPassword");
  if (!(await verifyPassword(user.passwordHash, data.currentPassword))) throw new DomainError("The current password is not correct", 400, "currentPassword");
  await signedIn(db, keys);
  assertStrongPassword(data.newPassword, user, "newPassword");
  await setPassword(db, actor, user, data.newPassword, EventType.PasswordChanged, `${user.email} changed their password`);
}

/** Stores a new password and ends every session of the user, with its event. */
async function setPassword(
  db: Db,
  actor: Actor,
  user: { id: string; email: string },
  password: string,
  type: typeof EventType.PasswordReset | typeof EventType.PasswordChanged,
  summary: string,
) {
  const passwordHash = await hashPassword(password);
  await inTransaction(db, async (tx) => {
    await tx.user.update({ where: { id: user.id }, data: { passwordHash, sessionVersion: { increment: 1 } } });
    await recordEvent(tx, { type, outcome: "success", actor, object: { type: "user", id: user.id, name: user.email }, summary });
  });
}

/** Sign-out: ends every session of the user, unless this session was already ended. */
export async function endSessions(db: Db, userId: string, sessionVersion: number): Promise<void> {
  await inTransaction(db, async (tx) => {
    const { count } = await tx.user.updateMany({ where: { id: userId, sessionVersion }, data: { sessionVersion: { increment: 1 } } });
    if (!count) return;
    const user = await tx.user.findUnique({ where: { id: userId }, select: { email: true, role: true } });
    await recordEvent(tx, {
      type: EventType.SignOut,
      outcome: "success",
      actor: { type: "user", id: userId, name: user?.email, role: user?.role },
      summary: `${user?.email} signed out`,
    });
  });
}

export type SignInResult =
  | { ok: true; user: PublicUser & { sessionVersion: number } }
  /** "second-factor": the password was right and a code is needed; "invalid-code": the code was wrong. */
  | { ok: false; reason: "invalid" | "rate-limited" | "second-factor" | "invalid-code" | "sso-required" };

/**
 * Checks a sign-in. The caller shows one message for every "invalid" case, so nobody learns
 * whether an email exists; unknown emails cost the same argon2 verification as known ones.
 */
export async function verifySignIn(db: Db, email: string, password: string, ip: string | null, code?: string): Promise<SignInResult> {
  const normalized = String(email ?? "")
    .trim()
    .toLowerCase()
    .slice(0, 254);
  const keys = throttleKeys(normalized, ip);
  const fail = async (reason: "invalid" | "rate-limited" | "invalid-code" | "sso-required", why: string) => {
    await recordEvent(db, {
      type: EventType.SignInFailed,
      outcome: "failure",
      actor: { type: "anonymous", name: normalized || "(empty)" },
      summary: `Sign-in failed for ${normalized || "(empty)"}`,
      details: { reason: why, ip },
    });
    return { ok: false as const, reason };
  };
  // Counted before the password is checked: parallel guesses cannot all slip past the limits.
  if (!(await claimAttempt(db, keys))) return fail("rate-limited", "too many failed attempts");
  const user = await db.user.findUnique({ where: { email: normalized } });
  const valid = await verifyPassword(user?.passwordHash ?? (await dummyHash()), String(password ?? ""));
  if (!user) return fail("invalid", "unknown email");
  if (!valid) return fail("invalid", "wrong password");
  if (user.disabled) return fail("invalid", "user disabled");
  if (!user.breakGlass && (await ssoRequired(db))) return fail("sso-required", "single sign-on is required and the account is not break-glass");
  let secondFactor: string | undefined;
  if (user.totpEnabledAt) {
    // The attempt stays counted until the code is right: guessing codes meets the password throttle.
    if (!code?.trim()) return { ok: false, reason: "second-factor" };
    const check = await checkSecondFactor(db, user, code);
    if (!check.ok) return fail("invalid-code", check.reason);
    secondFactor = check.method;
  }
  await signedIn(db, keys);
  const now = new Date();
  await inTransaction(db, async (tx) => {
    await tx.user.update({ where: { id: user.id }, data: { lastSignInAt: now } });
    await recordEvent(tx, {
      type: EventType.SignIn,
      outcome: "success",
      actor: { type: "user", id: user.id, name: user.email, role: user.role },
      summary: `${user.email} signed in${secondFactor ? (secondFactor === "totp" ? " with an authentication code" : " with a recovery code") : ""}`,
      details: { ip, ...(secondFactor ? { secondFactor } : {}) },
    });
  });
  return {
    ok: true,
    user: {
      id: user.id,
      email: user.email,
      name: user.name,
      role: user.role,
      disabled: user.disabled,
      createdAt: user.createdAt,
      lastSignInAt: now,
      totpEnabledAt: user.totpEnabledAt,
      breakGlass: user.breakGlass,
      oidcSubject: user.oidcSubject,
      sessionVersion: user.sessionVersion,
    },
  };
}

/**
 * The actor for a session, or null if the user is gone or disabled or the session was ended
 * (its version is no longer the user's). One indexed read per request.
 */
export async function actorForUser(db: Db, userId: string, sessionVersion: unknown): Promise<Actor | null> {
  return (await sessionOf(db, userId, sessionVersion))?.actor ?? null;
}

/**
 * A session's actor, and whether it may use the portal yet: an admin who must have a second factor
 * (Settings > Users) and has none may only set one up (Settings > Account).
 */
export async function sessionOf(db: Db, userId: string, sessionVersion: unknown): Promise<{ actor: Actor; secondFactorMissing: boolean } | null> {
  const u = await db.user.findUnique({
    where: { id: userId },
    select: { id: true, email: true, role: true, disabled: true, sessionVersion: true, totpEnabledAt: true },
  });
  if (!u || u.disabled || u.sessionVersion !== sessionVersion) return null;
  const secondFactorMissing = u.role === "ADMIN" && !u.totpEnabledAt && (await cachedConfig(db, "org.requireSecondFactor", () => adminsNeedSecondFactor(db)));
  return { actor: { type: "user", id: u.id, name: u.email, role: u.role }, secondFactorMissing };
}
