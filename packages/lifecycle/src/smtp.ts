import { z } from "zod";
import nodemailer, { type Mail } from "nodemailer";
import type { Db } from "@attested/db";
import { EventType, inTransaction, recordEvent, type Actor } from "@attested/events";
import { assertCanWrite } from "@attested/identity";
import { isEmail } from "@attested/pki";
import { openSecret, sealSecret } from "@attested/secrets";
import { nowOf, type LifecycleContext } from "./context";
import { DomainError } from "@attested/errors";

// Settings > Mail: the SMTP server that enrollment notices and expiry reminders go through.
// The password is sealed under the master key (context "smtp-password"), never returned, shown,
// logged or put in an event; the form can only replace or remove it.

export const SMTP_PASSWORD_CONTEXT = "smtp-password";

/** What the portal shows: everything but the password, of which only its presence is told. */
export interface MailSettingsView {
  host: string;
  port: number | null;
  secure: boolean;
  user: string;
  from: string;
  passwordSet: boolean;
  configured: boolean;
}

const checkbox = z.preprocess((v) => v === true || v === "on" || v === "true", z.boolean());
const HOST = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const IPV6 = /^\[?[0-9a-f:.]+\]?$/i;

export const mailSettingsSchema = z
  .object({
    host: z
      .string()
      .trim()
      .max(253, "Host is too long")
      .refine((v) => v === "" || HOST.test(v) || (v.includes(":") && IPV6.test(v)), "Enter a host name or IP address"),
    port: z.preprocess(
      (v) => (v === "" || v === null || v === undefined ? undefined : v),
      z.coerce
        .number({ message: "Enter a port from 1 to 65535" })
        .int("Enter a port from 1 to 65535")
        .min(1, "Enter a port from 1 to 65535")
        .max(65535, "Enter a port from 1 to 65535")
        .optional(),
    ),
    secure: checkbox.default(false),
    user: z.string().trim().max(254, "Username is too long").default(""),
    // Blank keeps the saved password; clearPassword removes it.
    password: z.string().max(1024, "Password is too long").default(""),
    clearPassword: checkbox.default(false),
    from: z
      .string()
      .trim()
      .max(254, "From address is too long")
      .refine((v) => v === "" || isEmail(v), "Enter a valid email address")
      .default(""),
  })
  .superRefine((v, ctx) => {
    if (v.host && !v.from) ctx.addIssue({ code: "custom", path: ["from"], message: "Enter the address mail is sent from" });
    if (!v.host && (v.from || v.user || v.password || v.port)) ctx.addIssue({ code: "custom", path: ["host"], message: "Enter the SMTP host" });
    if (v.password && !v.user) ctx.addIssue({ code: "custom", path: ["user"], message: "Enter the username the password belongs to" });
    if (v.password && v.clearPassword) ctx.addIssue({ code: "custom", path: ["password"], message: "Either enter a new password or remove the saved one" });
  });
export type MailSettingsInput = z.input<typeof mailSettingsSchema>;

export async function getMailSettings(db: Db): Promise<MailSettingsView> {
  const org = await db.organization.findFirst({
    orderBy: { createdAt: "asc" },
    select: { smtpHost: true, smtpPort: true, smtpSecure: true, smtpUser: true, smtpFrom: true, smtpPassword: true },
  });
  const host = org?.smtpHost ?? "";
  return {
    host,
    port: org?.smtpPort ?? null,
    secure: org?.smtpSecure ?? false,
    user: org?.smtpUser ?? "",
    from: org?.smtpFrom ?? "",
    passwordSet: !!org?.smtpPassword?.length,
    configured: !!host && !!org?.smtpFrom,
  };
}

/** Saves Settings > Mail (admins only) and records what changed, never the password itself. */
export async function updateMailSettings(ctx: LifecycleContext, actor: Actor, input: unknown): Promise<MailSettingsView> {
  await assertCanWrite(ctx.db, actor, "change mail settings");
  const v = mailSettingsSchema.parse(input);
  const org = await ctx.db.organization.findFirst({ orderBy: { createdAt: "asc" } });
  if (!org) throw new DomainError("The organization is not set up yet", 409);
  const data = {
    smtpHost: v.host || null,
    smtpPort: v.host ? (v.port ?? (v.secure ? 465 : 587)) : null,
    smtpSecure: v.secure,
    smtpUser: v.user || null,
    smtpFrom: v.from || null,
    ...(v.password ? { smtpPassword: sealSecret(v.password, SMTP_PASSWORD_CONTEXT, ctx.masterKey) } : {}),
    ...(v.clearPassword || !v.host || !v.user ? { smtpPassword: null } : {}),
  };
  // A saved password is only sent to the server it was saved for, over the same TLS setting: a new host, port or security needs it again.
  const keepsPassword = !!org.smtpPassword?.length && !("smtpPassword" in data);
  if (keepsPassword && (data.smtpHost !== org.smtpHost || data.smtpPort !== org.smtpPort || data.smtpSecure !== org.smtpSecure))
    throw new DomainError(`Enter the password again: the saved one is only sent to ${smtpDestination(org)}`, 400, "password");
  const before = { host: org.smtpHost, port: org.smtpPort, secure: org.smtpSecure, user: org.smtpUser, from: org.smtpFrom };
  const after = { host: data.smtpHost, port: data.smtpPort, secure: data.smtpSecure, user: data.smtpUser, from: data.smtpFrom };
  const changed = Object.keys(after).filter((k) => before[k as keyof typeof before] !== after[k as keyof typeof after]);
  const passwordChange = "smtpPassword" in data ? (data.smtpPassword ? "replaced" : org.smtpPassword ? "removed" : null) : null;
  await inTransaction(ctx.db, async (tx) => {
    await tx.organization.update({ where: { id: org.id }, data });
    await recordEvent(tx, {
      type: EventType.SettingsUpdated,
      outcome: "success",
      actor,
      object: { type: "settings", id: "mail", name: "Mail" },
      summary: `Mail settings updated${changed.length ? ` (${changed.join(", ")})` : ""}${passwordChange ? `; SMTP password ${passwordChange}` : ""}`,
      // `after` holds no password; the scrubber in recordEvent is a second line of defence.
      details: { settings: "mail", changed, ...after, authChange: passwordChange ?? "unchanged" },
    });
  });
  return getMailSettings(ctx.db);
}

/** Where mail goes, as the trail names it: smtp(s)://host:port. */
export function smtpDestination(org: { smtpHost: string | null; smtpPort: number | null; smtpSecure: boolean }): string | null {
  if (!org.smtpHost) return null;
  const host = org.smtpHost.includes(":") ? `[${org.smtpHost.replace(/^\[|\]$/g, "")}]` : org.smtpHost;
  return `${org.smtpSecure ? "smtps" : "smtp"}://${host}:${org.smtpPort ?? (org.smtpSecure ? 465 : 587)}`;
}

/** A nodemailer transport from the saved settings, or null when mail is not configured. */
export async function mailTransport(ctx: LifecycleContext): Promise<{ transport: Mail; from: string } | null> {
  const org = await ctx.db.organization.findFirst({ orderBy: { createdAt: "asc" } });
  if (!org?.smtpHost || !org.smtpFrom) return null;
  const pass = org.smtpPassword?.length ? openSecret(org.smtpPassword, SMTP_PASSWORD_CONTEXT, ctx.masterKey) : undefined;
  const transport = nodemailer.createTransport({
    host: org.smtpHost,
    port: org.smtpPort ?? (org.smtpSecure ? 465 : 587),
    secure: org.smtpSecure,
    // Credentials never travel in clear: without implicit TLS, STARTTLS is required before AUTH.
    requireTLS: !org.smtpSecure && !!org.smtpUser,
    auth: org.smtpUser ? { user: org.smtpUser, pass: pass ?? "" } : undefined,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
    tls: { minVersion: "TLSv1.2", ...(ctx.smtpTls?.ca ? { ca: ctx.smtpTls.ca } : {}) },
  });
  return { transport, from: org.smtpFrom };
}

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
}

export type SendResult = { ok: true; messageId: string } | { ok: false; error: string; permanent: boolean };

/** A short, credential-free account of an SMTP failure; SMTP 5xx replies are permanent. */
export function describeSmtpError(e: unknown): { error: string; permanent: boolean } {
  const err = e as { code?: string; responseCode?: number; response?: string; message?: string };
  const text = (err.response ?? err.message ?? String(e)).replace(/\s+/g, " ").slice(0, 300);
  return {
    error: [err.code, err.responseCode, text].filter(Boolean).join(" "),
    permanent: typeof err.responseCode === "number" && err.responseCode >= 500,
  };
}

/** Sends one mail now; failures come back as a short message. */
export async function sendMail(ctx: LifecycleContext, mail: OutgoingMail): Promise<SendResult> {
  let t: Awaited<ReturnType<typeof mailTransport>>;
  try {
    t = await mailTransport(ctx);
  } catch (e) {
    return { ok: false, error: `cannot open the SMTP password: ${(e as Error).message}`, permanent: true };
  }
  if (!t) return { ok: false, error: NOT_CONFIGURED, permanent: true };
  try {
    const info = await t.transport.sendMail({ from: t.from, to: mail.to, subject: mail.subject, text: mail.text });
    return { ok: true, messageId: String(info.messageId ?? "") };
  } catch (e) {
    return { ok: false, ...describeSmtpError(e) };
  } finally {
    t.transport.close();
  }
}

export const NOT_CONFIGURED = "mail is not configured (Settings > Mail)";

export const testMailSchema = z.object({
  to: z.string().trim().min(1, "Enter the address to send the test mail to").refine(isEmail, "Enter a valid email address"),
});

/** "Send test mail": sends now (admins only) and records the outcome as an event. */
export async function sendTestMail(ctx: LifecycleContext, actor: Actor, input: unknown): Promise<SendResult> {
  await assertCanWrite(ctx.db, actor, "send test mail");
  const { to } = testMailSchema.parse(input);
  const org = await ctx.db.organization.findFirst({ orderBy: { createdAt: "asc" }, select: { name: true, smtpHost: true, smtpPort: true, smtpSecure: true } });
  const destination = org ? smtpDestination(org) : null;
  const result = await sendMail(ctx, {
    to,
    subject: `Attested PKI test mail`,
    text: `This is a test mail from the Attested PKI of ${org?.name ?? "your organization"}, sent by ${actor.name ?? "an admin"} at ${nowOf(ctx).toISOString()}.\n\nMail settings work: enrollment notices and expiry reminders can be delivered.\n`,
  });
  await recordEvent(ctx.db, {
    type: result.ok ? EventType.MailSent : EventType.MailFailed,
    outcome: result.ok ? "success" : "failure",
    actor,
    object: { type: "mail", name: to },
    summary: result.ok ? `Test mail sent to ${to} through ${destination}` : `Test mail to ${to} failed: ${result.error}`,
    details: { kind: "test", recipient: to, destination, ...(result.ok ? { messageId: result.messageId } : { error: result.error }) },
  });
  return result;
}
