import { cachedConfig, type Certificate, type Db, type Notification } from "@attested/db";
import { EventType, inTransaction, recordEvent, systemActor } from "@attested/events";
import { isEmail } from "@attested/pki";
import { DAY_MS, nowOf, type LifecycleContext } from "./context";
import { nudge } from "./registry";
import { describeSmtpError, mailTransport, NOT_CONFIGURED, type SendResult } from "./smtp";

// Mail to certificate holders (CA > Notifications): "Notify user on successful Enrollment" and
// expiry reminders every "Expiry Notification Frequency" days. A mail goes to the certificate's
// RFC822 SAN when it is a valid address, else nowhere (the guide: "If the RFC has a valid email
// address, the user will receive the ... notification; otherwise, they will not").
//
// Due mail is written to the Notification table first (with a dedupe key, so it is queued once),
// then delivered by the mail job with retries; each final outcome is a "Mail Sent" / "Mail Failed"
// event.

const mailActor = systemActor("mail");
const MAX_ATTEMPTS = 5;
const RETRY_AFTER_MS = [60_000, 5 * 60_000, 30 * 60_000, 2 * 3_600_000];
const LEASE_MS = 5 * 60_000;
const BATCH = 50;

/** The first RFC822 SAN of a certificate when it is a valid address; never the subject's E= field. */
export function notificationRecipient(cert: Pick<Certificate, "sans">): string | null {
  const sans = Array.isArray(cert.sans) ? (cert.sans as { type?: unknown; value?: unknown }[]) : [];
  const rfc822 = sans.find((s) => s && s.type === "rfc822");
  return rfc822 && typeof rfc822.value === "string" && isEmail(rfc822.value) ? rfc822.value : null;
}

const day = (d: Date) => d.toISOString().slice(0, 10);
const utc = (d: Date) => `${d.toISOString().replace("T", " ").slice(0, 16)} UTC`;

function certificateLines(cert: Certificate, caName: string): string {
  return [
    `Subject:        ${cert.subjectDn}`,
    `Serial number:  ${cert.serialNumber}`,
    ...(cert.deviceSerial ? [`Device serial:  ${cert.deviceSerial}`] : []),
    `Issued by:      ${caName}`,
    `Valid from:     ${utc(cert.notBefore)}`,
    `Valid until:    ${utc(cert.notAfter)}`,
  ].join("\n");
}

export function enrollmentMail(cert: Certificate, caName: string, orgName: string) {
  return {
    subject: `Certificate issued${cert.deviceSerial ? ` for device ${cert.deviceSerial}` : ""}`,
    body:
      `Hello,\n\n${orgName} issued a certificate to your device.\n\n${certificateLines(cert, caName)}\n\n` +
      `Your device installed it on its own; nothing needs to be done. If you did not expect this, contact your IT team.\n`,
  };
}

export function expiryMail(cert: Certificate, caName: string, orgName: string, now: Date) {
  const days = Math.max(0, Math.ceil((cert.notAfter.getTime() - now.getTime()) / DAY_MS));
  return {
    subject: `Certificate expires on ${day(cert.notAfter)}${cert.deviceSerial ? ` (device ${cert.deviceSerial})` : ""}`,
    body:
      `Hello,\n\nA certificate that ${orgName} issued to your device expires in ${days} day${days === 1 ? "" : "s"}, on ${utc(cert.notAfter)}.\n\n` +
      `${certificateLines(cert, caName)}\n\n` +
      `Your device renews it through device management. If it is not renewed before that date, contact your IT team.\n`,
  };
}

const orgName = async (db: Db) => (await db.organization.findFirst({ orderBy: { createdAt: "asc" }, select: { name: true } }))?.name ?? "Your organization";

export type ScheduleResult = { scheduled: true; notificationId: string } | { scheduled: false; reason: string };

/**
 * Queues the "successful enrollment" mail of a certificate just issued. Does nothing when its CA's
 * "Notify user on successful Enrollment" is off or the certificate has no valid RFC822 SAN. Safe to
 * call twice (one mail per certificate). Call it after the issuing transaction committed; it never
 * throws (a failure comes back as { scheduled: false, reason }).
 */
/** Queues the enrollment notice of a certificate (its id, or the row just recorded). */
export async function scheduleEnrollmentNotice(db: Db, certificate: string | Certificate, now = new Date()): Promise<ScheduleResult> {
  // The certificate is already issued: a notice that cannot be queued must not fail the enrollment.
  try {
    return await queueEnrollmentNotice(db, certificate, now);
  } catch (e) {
    return { scheduled: false, reason: `could not queue the notice: ${(e as Error).message}` };
  }
}

async function queueEnrollmentNotice(db: Db, certificate: string | Certificate, now: Date): Promise<ScheduleResult> {
  const cert = typeof certificate === "string" ? await db.certificate.findUnique({ where: { id: certificate } }) : certificate;
  if (!cert) return { scheduled: false, reason: "certificate not found" };
  // Read on every enrollment: the CA's setting is cached configuration.
  const ca = await cachedConfig(db, `ca.notify:${cert.caId}`, () =>
    db.certificateAuthority.findUnique({ where: { id: cert.caId }, select: { commonName: true, notifyOnEnrollment: true } }),
  );
  if (!ca?.notifyOnEnrollment) return { scheduled: false, reason: "the CA does not notify on enrollment" };
  const to = notificationRecipient(cert);
  if (!to) return { scheduled: false, reason: "the certificate has no valid RFC822 SAN" };
  const { subject, body } = enrollmentMail(cert, ca.commonName, await orgName(db));
  const dedupeKey = `enrollment:${cert.id}`;
  await db.notification.createMany({
    data: [{ kind: "enrollment", dedupeKey, certificateId: cert.id, recipient: to, subject, body, nextAttemptAt: now, createdAt: now }],
    skipDuplicates: true,
  });
  const row = await db.notification.findUniqueOrThrow({ where: { dedupeKey }, select: { id: true } });
  nudge(db, "mail");
  return { scheduled: true, notificationId: row.id };
}

/** Reminders start this many days before expiry, or the frequency when that is longer. */
export const EXPIRY_WINDOW_DAYS = 30;

/**
 * Expiry sweep. With an Expiry Notification Frequency of N days, an active certificate gets a
 * reminder when it enters its last max(30, N) days, then one every N days until it expires (N = 7:
 * at 30, 23, 16, 9 and 2 days left; N = 90: once, 90 days ahead). A certificate whose whole validity
 * fits in that window gets none: it was born inside it and is renewed by the device.
 * Certificates without a valid RFC822 SAN are marked handled without a mail.
 */
export async function scheduleExpiryReminders(ctx: LifecycleContext): Promise<{ queued: number; skippedNoAddress: number }> {
  const now = nowOf(ctx);
  const cas = await ctx.db.certificateAuthority.findMany({
    where: { expiryNotificationDays: { not: null } },
    select: { id: true, commonName: true, expiryNotificationDays: true },
  });
  const org = await orgName(ctx.db);
  let queued = 0;
  let skippedNoAddress = 0;
  for (const ca of cas) {
    const n = ca.expiryNotificationDays!;
    const windowDays = Math.max(EXPIRY_WINDOW_DAYS, n);
    for (;;) {
      const ids = await ctx.db.$queryRawUnsafe<{ id: string }[]>(
        `SELECT id FROM "Certificate"
          WHERE "caId" = $1 AND status = 'ACTIVE' AND "notAfter" > $2 AND "notAfter" <= $3
            AND ("expiryNotifiedAt" IS NULL OR "expiryNotifiedAt" <= $4)
            AND "notAfter" - "notBefore" > make_interval(days => $5::int)
          ORDER BY "notAfter" LIMIT 200`,
        ca.id,
        now,
        new Date(now.getTime() + windowDays * DAY_MS),
        new Date(now.getTime() - n * DAY_MS),
        windowDays,
      );
      if (!ids.length) break;
      for (const { id } of ids) {
        const outcome = await ctx.db.$transaction(async (tx) => {
          // Claims the reminder: a concurrent sweep that already did it updates nothing.
          const claimed = await tx.certificate.updateMany({
            where: { id, OR: [{ expiryNotifiedAt: null }, { expiryNotifiedAt: { lte: new Date(now.getTime() - n * DAY_MS) } }] },
            data: { expiryNotifiedAt: now },
          });
          if (!claimed.count) return "taken";
          const cert = await tx.certificate.findUniqueOrThrow({ where: { id } });
          const to = notificationRecipient(cert);
          if (!to) return "no-address";
          const { subject, body } = expiryMail(cert, ca.commonName, org, now);
          await tx.notification.createMany({
            data: [
              {
                kind: "expiry",
                dedupeKey: `expiry:${id}:${now.toISOString()}`,
                certificateId: id,
                recipient: to,
                subject,
                body,
                nextAttemptAt: now,
                createdAt: now,
              },
            ],
            skipDuplicates: true,
          });
          return "queued";
        });
        if (outcome === "queued") queued++;
        if (outcome === "no-address") skippedNoAddress++;
      }
    }
  }
  if (queued) nudge(ctx.db, "mail");
  return { queued, skippedNoAddress };
}

type NotificationRow = Notification;

/** Takes due mail (pending, or stuck in "sending" past its lease) so no other runner sends it too. */
async function claimDue(ctx: LifecycleContext, now: Date): Promise<NotificationRow[]> {
  return ctx.db.$queryRawUnsafe<NotificationRow[]>(
    `UPDATE "Notification" SET status = 'sending', "lockedUntil" = $2, attempts = attempts + 1
      WHERE id IN (
        SELECT id FROM "Notification"
         WHERE (status = 'pending' AND "nextAttemptAt" <= $1) OR (status = 'sending' AND "lockedUntil" <= $1)
         ORDER BY "nextAttemptAt" LIMIT $3
         FOR UPDATE SKIP LOCKED)
      RETURNING *`,
    now,
    new Date(now.getTime() + LEASE_MS),
    BATCH,
  );
}

async function finish(ctx: LifecycleContext, n: NotificationRow, now: Date, result: SendResult) {
  const cert = n.certificateId
    ? await ctx.db.certificate.findUnique({ where: { id: n.certificateId }, select: { serialNumber: true, deviceSerial: true, subjectDn: true } })
    : null;
  const what =
    n.kind === "enrollment" ? "Enrollment notice" : n.kind === "expiry" ? "Expiry reminder" : n.kind === "platformAlert" ? "Core Platform alert" : "Mail";
  const base = {
    actor: mailActor,
    object: cert ? { type: "certificate" as const, id: n.certificateId!, name: cert.subjectDn } : { type: "mail" as const, name: n.recipient },
    certificateSerial: cert?.serialNumber ?? null,
    deviceSerial: cert?.deviceSerial ?? null,
  };
  if (result.ok) {
    await inTransaction(ctx.db, async (tx) => {
      await tx.notification.update({ where: { id: n.id }, data: { status: "sent", sentAt: now, lockedUntil: null, lastError: null } });
      await recordEvent(tx, {
        ...base,
        type: EventType.MailSent,
        outcome: "success",
        summary: `${what} sent to ${n.recipient}`,
        details: { kind: n.kind, recipient: n.recipient, subject: n.subject, attempts: n.attempts, messageId: result.messageId, notificationId: n.id },
      });
    });
    return;
  }
  const final = result.permanent || n.attempts >= MAX_ATTEMPTS;
  if (!final) {
    await ctx.db.notification.update({
      where: { id: n.id },
      data: {
        status: "pending",
        lockedUntil: null,
        lastError: result.error,
        nextAttemptAt: new Date(now.getTime() + RETRY_AFTER_MS[Math.min(n.attempts, RETRY_AFTER_MS.length) - 1]),
      },
    });
    return;
  }
  await inTransaction(ctx.db, async (tx) => {
    await tx.notification.update({ where: { id: n.id }, data: { status: "failed", lockedUntil: null, lastError: result.error } });
    await recordEvent(tx, {
      ...base,
      type: EventType.MailFailed,
      outcome: "failure",
      summary: `${what} to ${n.recipient} failed after ${n.attempts} attempt${n.attempts === 1 ? "" : "s"}: ${result.error}`,
      details: { kind: n.kind, recipient: n.recipient, subject: n.subject, attempts: n.attempts, error: result.error, notificationId: n.id },
    });
  });
}

/**
 * The mail job: delivers due notifications through Settings > Mail. Temporary failures (network,
 * SMTP 4xx) are retried with growing delays, up to 5 attempts; permanent ones (SMTP 5xx, mail not
 * configured) fail at once. Returns how many were sent and failed for good in this run.
 */
export async function deliverPendingMail(
  ctx: LifecycleContext,
  opts: { maxBatches?: number } = {},
): Promise<{ sent: number; failed: number; retrying: number }> {
  const counts = { sent: 0, failed: 0, retrying: 0 };
  for (let batch = 0; batch < (opts.maxBatches ?? 20); batch++) {
    const now = nowOf(ctx);
    const due = await claimDue(ctx, now);
    if (!due.length) break;
    let t: Awaited<ReturnType<typeof mailTransport>> = null;
    let configError: string | null = null;
    try {
      t = await mailTransport(ctx);
      if (!t) configError = NOT_CONFIGURED;
    } catch (e) {
      configError = `cannot open the SMTP password: ${(e as Error).message}`;
    }
    try {
      for (const n of due) {
        let result: SendResult;
        if (!t) result = { ok: false, error: configError!, permanent: true };
        else {
          try {
            const info = await t.transport.sendMail({ from: t.from, to: n.recipient, subject: n.subject, text: n.body });
            result = { ok: true, messageId: String(info.messageId ?? "") };
          } catch (e) {
            result = { ok: false, ...describeSmtpError(e) };
          }
        }
        await finish(ctx, n, nowOf(ctx), result);
        if (result.ok) counts.sent++;
        else if (result.permanent || n.attempts >= MAX_ATTEMPTS) counts.failed++;
        else counts.retrying++;
      }
    } finally {
      t?.transport.close();
    }
  }
  return counts;
}
