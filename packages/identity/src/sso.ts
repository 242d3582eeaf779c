import { z } from "zod";
import { cachedConfig, type Db, type Role } from "@attested/db";
import { DomainError, NotFoundError } from "@attested/errors";
import { EventType, inTransaction, recordEvent, type Actor } from "@attested/events";
import { masterKey, openSecret, sealSecret } from "@attested/secrets";
import { assertCanWrite } from "./actor";

// Single sign-on with any OpenID Connect provider (Entra ID, Okta, Google Workspace, Keycloak...).
// Settings > Single sign-on names the provider and maps its group claim to the portal's two roles. A
// user is created at their first sign-in with the mapped role and re-evaluated at every sign-in: a
// changed role is applied (and recorded), a user whose groups no longer map is refused and their
// sessions end. Local accounts remain for break-glass; with "Require single sign-on" only the users
// marked break-glass may still sign in with a password.

const SECRET_CONTEXT = "oidc-client-secret";

/** Single sign-on set by the environment (OIDC_*): it then wins over Settings, which shows it read-only. */
export interface SsoEnvironment {
  issuer: string;
  clientId: string;
  clientSecret: string;
  groupsClaim: string;
  mappings: RoleMapping[];
}
let environment: SsoEnvironment | null = null;

/** Hands over OIDC_* (the server's composition root does, for each copy of this module). */
export function setSsoEnvironment(e: SsoEnvironment | null): void {
  environment = e;
}
/** Users created by the provider have no password: no argon2 hash verifies against this. */
const NO_PASSWORD = "!single-sign-on";

export const roleMappingSchema = z.object({ group: z.string().trim().min(1).max(256), role: z.enum(["ADMIN", "AUDITOR"]) });
export type RoleMapping = z.infer<typeof roleMappingSchema>;

const loopback = (u: URL) => ["localhost", "127.0.0.1", "[::1]"].includes(u.hostname);

const ssoSettingsSchema = z.object({
  issuer: z
    .string()
    .trim()
    .max(2048)
    .refine((v) => {
      if (!v) return true;
      try {
        const u = new URL(v);
        return u.protocol === "https:" || (u.protocol === "http:" && loopback(u));
      } catch {
        return false;
      }
    }, "Enter the provider's issuer URL, e.g. https://login.microsoftonline.com/<tenant>/v2.0 (https)"),
  clientId: z.string().trim().max(512),
  clientSecret: z.string().max(4096).optional(),
  groupsClaim: z
    .string()
    .trim()
    .min(1, "Name the claim that lists the user's groups, e.g. groups")
    .max(128)
    .regex(/^[A-Za-z0-9_.:/-]+$/, "Letters, digits and _ . : / - only"),
  mappings: z.string().max(20_000),
  requireSso: z.preprocess((v) => v === true || v === "on" || v === "true", z.boolean()),
});

/** "group = Admin" lines, one per mapping (the settings form's text). */
export function parseRoleMappings(text: string): RoleMapping[] {
  const out: RoleMapping[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    const m = /^(.+?)\s*=\s*(admin|auditor)\s*$/i.exec(line.trim());
    if (!m) throw new DomainError(`Line ${i + 1}: write "group = Admin" or "group = Auditor"`, 400, "mappings");
    out.push({ group: m[1]!.trim(), role: m[2]!.toUpperCase() as Role });
  });
  return out;
}

export const formatRoleMappings = (m: RoleMapping[]) => m.map((x) => `${x.group} = ${x.role === "ADMIN" ? "Admin" : "Auditor"}`).join("\n");

/** The role the user's groups give: Admin if any Admin group matches, else Auditor, else none. */
export function roleForGroups(groups: readonly string[], mappings: readonly RoleMapping[]): Role | null {
  const has = (role: Role) => mappings.some((m) => m.role === role && groups.includes(m.group));
  return has("ADMIN") ? "ADMIN" : has("AUDITOR") ? "AUDITOR" : null;
}

export interface SsoSettingsView {
  issuer: string;
  clientId: string;
  hasClientSecret: boolean;
  groupsClaim: string;
  mappings: RoleMapping[];
  requireSso: boolean;
  /** Issuer, client id and secret are all set: the sign-in page offers single sign-on. */
  enabled: boolean;
  /** Set by OIDC_* in the environment: only "Require single sign-on" is changed here. */
  fromEnvironment: boolean;
}

async function org(db: Db) {
  const o = await db.organization.findFirst({ orderBy: { createdAt: "asc" } });
  if (!o) throw new NotFoundError("Organization");
  return o;
}

export async function getSsoSettings(db: Db): Promise<SsoSettingsView> {
  const o = await org(db);
  if (environment)
    return {
      issuer: environment.issuer,
      clientId: environment.clientId,
      hasClientSecret: true,
      groupsClaim: environment.groupsClaim,
      mappings: environment.mappings,
      requireSso: o.requireSso,
      enabled: true,
      fromEnvironment: true,
    };
  const mappings = z.array(roleMappingSchema).catch([]).parse(o.oidcRoleMappings);
  const hasClientSecret = !!o.oidcClientSecret?.length;
  return {
    fromEnvironment: false,
    issuer: o.oidcIssuer ?? "",
    clientId: o.oidcClientId ?? "",
    hasClientSecret,
    groupsClaim: o.oidcGroupsClaim,
    mappings,
    requireSso: o.requireSso,
    enabled: !!o.oidcIssuer && !!o.oidcClientId && hasClientSecret,
  };
}

export async function updateSsoSettings(db: Db, actor: Actor, input: unknown): Promise<SsoSettingsView> {
  await assertCanWrite(db, actor, "change single sign-on");
  if (environment) return requireSsoOnly(db, actor, input);
  const v = ssoSettingsSchema.parse(input);
  const mappings = parseRoleMappings(v.mappings);
  const o = await org(db);
  const secret = v.clientSecret?.trim();
  // The saved secret belongs to the saved provider: another issuer or client needs it typed again.
  // Both emptied: single sign-on is turned off, and the secret goes with them.
  const clearing = !v.issuer && !v.clientId;
  if (!clearing && !secret && o.oidcClientSecret?.length && (v.issuer !== (o.oidcIssuer ?? "") || v.clientId !== (o.oidcClientId ?? "")))
    throw new DomainError("Enter the client secret again: the saved one belongs to the saved issuer and client ID", 400, "clientSecret");
  if (v.requireSso && !(v.issuer && v.clientId && (secret || o.oidcClientSecret?.length)))
    throw new DomainError("Set up the provider before requiring single sign-on", 400, "requireSso");
  if (v.requireSso && !(await db.user.count({ where: { breakGlass: true, disabled: false, oidcSubject: null } })))
    throw new DomainError("Mark at least one local account as break-glass first (Settings > Users), in case the provider is down", 400, "requireSso");
  await inTransaction(db, async (tx) => {
    await tx.organization.update({
      where: { id: o.id },
      data: {
        oidcIssuer: v.issuer || null,
        oidcClientId: v.clientId || null,
        oidcGroupsClaim: v.groupsClaim,
        oidcRoleMappings: mappings,
        requireSso: v.requireSso,
        ...(clearing ? { oidcClientSecret: null } : secret ? { oidcClientSecret: sealSecret(secret, SECRET_CONTEXT, masterKey()) } : {}),
      },
    });
    await recordEvent(tx, {
      type: EventType.SettingsUpdated,
      outcome: "success",
      actor,
      object: { type: "settings", id: "sso", name: "Single sign-on" },
      summary: `Single sign-on settings updated${secret ? "; client secret replaced" : ""}`,
      details: { settings: "sso", issuer: v.issuer, clientId: v.clientId, groupsClaim: v.groupsClaim, mappings, requireSso: v.requireSso },
    });
  });
  return getSsoSettings(db);
}

/** With the provider set by the environment, the form changes "Require single sign-on" only. */
async function requireSsoOnly(db: Db, actor: Actor, input: unknown): Promise<SsoSettingsView> {
  const requireSso = ssoSettingsSchema.shape.requireSso.parse((input as Record<string, unknown> | null)?.requireSso);
  if (requireSso && !(await db.user.count({ where: { breakGlass: true, disabled: false, oidcSubject: null } })))
    throw new DomainError("Mark at least one local account as break-glass first (Settings > Users), in case the provider is down", 400, "requireSso");
  const o = await org(db);
  await inTransaction(db, async (tx) => {
    await tx.organization.update({ where: { id: o.id }, data: { requireSso } });
    await recordEvent(tx, {
      type: EventType.SettingsUpdated,
      outcome: "success",
      actor,
      object: { type: "settings", id: "sso", name: "Single sign-on" },
      summary: `Single sign-on ${requireSso ? "required" : "no longer required"} (the provider is set by the environment)`,
      details: { settings: "sso", requireSso, fromEnvironment: true },
    });
  });
  return getSsoSettings(db);
}

export interface SsoProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  groupsClaim: string;
}

/** The provider as Auth.js needs it (secret opened), or null when not set up. Cached configuration. */
export function ssoProvider(db: Db): Promise<SsoProvider | null> {
  if (environment) {
    const { issuer, clientId, clientSecret, groupsClaim } = environment;
    return Promise.resolve({ issuer, clientId, clientSecret, groupsClaim });
  }
  return cachedConfig(db, "sso.provider", async () => {
    const o = await db.organization.findFirst({ orderBy: { createdAt: "asc" } });
    if (!o?.oidcIssuer || !o.oidcClientId || !o.oidcClientSecret?.length) return null;
    return {
      issuer: o.oidcIssuer,
      clientId: o.oidcClientId,
      clientSecret: openSecret(o.oidcClientSecret, SECRET_CONTEXT, masterKey()),
      groupsClaim: o.oidcGroupsClaim,
    };
  });
}

export const ssoRequired = (db: Db): Promise<boolean> =>
  cachedConfig(
    db,
    "sso.required",
    async () => (await db.organization.findFirst({ orderBy: { createdAt: "asc" }, select: { requireSso: true } }))?.requireSso ?? false,
  );

/** The groups in an ID token / userinfo claim: an array of strings, or one string. */
export function groupsFromClaim(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((g): g is string => typeof g === "string");
  return typeof value === "string" ? [value] : [];
}

export type SsoSignInResult =
  | { ok: true; user: { id: string; email: string; name: string; role: Role; sessionVersion: number } }
  | { ok: false; reason: string };

/**
 * A sign-in the provider vouched for: creates the user at first sign-in, applies the role their groups
 * give now, or refuses (and ends the sessions of) a user whose groups map to no role.
 */
export async function ssoSignIn(
  db: Db,
  who: { issuer: string; subject: string; email: string; name: string; groups: string[] },
  ip: string | null,
): Promise<SsoSignInResult> {
  const mappings =
    environment?.mappings ??
    z
      .array(roleMappingSchema)
      .catch([])
      .parse((await org(db)).oidcRoleMappings);
  const role = roleForGroups(who.groups, mappings);
  const key = `${who.issuer}#${who.subject}`;
  const email = who.email.trim().toLowerCase();
  const refuse = async (reason: string, userId?: string) => {
    await inTransaction(db, async (tx) => {
      if (userId) await tx.user.update({ where: { id: userId }, data: { sessionVersion: { increment: 1 } } });
      await recordEvent(tx, {
        type: EventType.SignInFailed,
        outcome: "failure",
        actor: { type: "anonymous", name: email || who.subject },
        summary: `Single sign-on refused for ${email || who.subject}: ${reason}`,
        details: { reason, ip, method: "sso", issuer: who.issuer, groups: who.groups, ...(userId ? { sessionsEnded: true } : {}) },
      });
    });
    return { ok: false as const, reason };
  };
  const existing = await db.user.findUnique({ where: { oidcSubject: key } });
  if (!role) return refuse(`no group maps to a role (groups: ${who.groups.join(", ") || "none"})`, existing?.id);
  if (existing?.disabled) return refuse("the user is disabled in the portal");
  if (!existing) {
    if (!email) return refuse("the provider sent no email address");
    if (await db.user.findUnique({ where: { email } })) return refuse(`a local account already uses ${email}`);
  }
  const now = new Date();
  return inTransaction(db, async (tx) => {
    let user = existing;
    if (!user) {
      user = await tx.user.create({ data: { email, name: who.name || email, role, passwordHash: NO_PASSWORD, oidcSubject: key, lastSignInAt: now } });
      await recordEvent(tx, {
        type: EventType.UserCreated,
        outcome: "success",
        actor: { type: "system", name: "single-sign-on" },
        object: { type: "user", id: user.id, name: user.email },
        summary: `${user.email} created as ${role === "ADMIN" ? "Admin" : "Auditor"} at their first single sign-on`,
        details: { role },
      });
    } else {
      const changed = user.role !== role;
      user = await tx.user.update({
        where: { id: user.id },
        data: { lastSignInAt: now, ...(changed ? { role, sessionVersion: { increment: 1 } } : {}) },
      });
      if (changed)
        await recordEvent(tx, {
          type: EventType.UserUpdated,
          outcome: "success",
          actor: { type: "system", name: "single-sign-on" },
          object: { type: "user", id: user.id, name: user.email },
          summary: `${user.email} is now ${role === "ADMIN" ? "Admin" : "Auditor"}, from their groups at single sign-on`,
          details: { changed: ["role"], before: { role: existing!.role }, after: { role } },
        });
    }
    await recordEvent(tx, {
      type: EventType.SignIn,
      outcome: "success",
      actor: { type: "user", id: user.id, name: user.email, role: user.role },
      summary: `${user.email} signed in with single sign-on`,
      details: { ip, method: "sso", issuer: who.issuer, groups: who.groups },
    });
    return { ok: true as const, user: { id: user.id, email: user.email, name: user.name, role: user.role, sessionVersion: user.sessionVersion } };
  });
}
