import { forgetCachedConfig, type CorePlatform, type Db } from "@attested/db";
import { EventType, inTransaction, recordEvent, systemActor } from "@attested/events";
import { nudge } from "./registry";
import { getMailSettings } from "./smtp";

// An MDM that refuses a Core Platform's credentials (HTTP 401 or 403) will not change its mind on a
// retry: every enrollment and RADIUS check through that platform is denied until an admin fixes the
// token. So the first refusal raises an alert on the platform (shown on its page and on the Core
// Platforms list) and mails every admin once; the alert clears, with an event, as soon as a lookup or a
// Validate through the platform gets an answer again. Outages (timeouts, 5xx, 429) are not alerts:
// the devices are told to come back, and Device Lookup Failed events record them.

const alertActor = systemActor("core-platform-alert");

/** What a lookup through a platform said, as far as its alert is concerned. */
export interface PlatformAnswer {
  outcome: "found" | "notFound" | "error";
  reason: string;
  status?: number | null;
  refused?: boolean;
}

type AlertedPlatform = Pick<CorePlatform, "id" | "name" | "alertSince">;

/**
 * Raises or clears the platform's alert after a lookup through it. No database work unless the answer
 * changes the alert: a refusal on a platform without one, or an answer on a platform that has one.
 * Never throws: a lookup's caller must not fail because its alert could not be written.
 */
export async function notePlatformAnswer(db: Db, platform: AlertedPlatform, answer: PlatformAnswer, clearedBy: string, now = new Date()): Promise<void> {
  try {
    if (answer.refused) {
      if (!platform.alertSince) await raisePlatformAlert(db, platform, answer, now);
    } else if (answer.outcome !== "error" && platform.alertSince) {
      await clearPlatformAlert(db, platform, clearedBy);
    }
  } catch {
    // The lookup's own events record what happened; the alert is retried at the next lookup.
  }
}

export function platformAlertMail(platform: Pick<CorePlatform, "name">, reason: string, orgName: string) {
  return {
    subject: `Action needed: the MDM refused Core Platform "${platform.name}"`,
    body:
      `Hello,\n\nThe MDM refused the credentials of Core Platform "${platform.name}" in ${orgName}'s Attested PKI: ${reason}.\n\n` +
      "Until this is fixed, devices that enroll or authenticate through this Core Platform are denied.\n" +
      "Update the API token on the Core Platform's Configuration tab (Integration Hub > Core Platforms) and press Validate.\n\n" +
      "You get this mail once; the portal shows the alert on the Core Platform until a lookup succeeds again.\n",
  };
}

/** Raises the alert once (concurrent refusals race for it; one wins), with its event and the admins' mail. */
export async function raisePlatformAlert(db: Db, platform: Pick<CorePlatform, "id" | "name">, answer: PlatformAnswer, now = new Date()): Promise<boolean> {
  const reason = answer.reason.slice(0, 500);
  const mail = await getMailSettings(db).catch(() => null);
  const raised = await inTransaction(db, async (tx) => {
    const won = await tx.corePlatform.updateMany({ where: { id: platform.id, alertSince: null }, data: { alertSince: now, alertReason: reason } });
    if (!won.count) return false;
    const admins = mail?.configured
      ? await tx.user.findMany({ where: { role: "ADMIN", disabled: false }, select: { email: true }, orderBy: { email: "asc" } })
      : [];
    const org = (await tx.organization.findFirst({ orderBy: { createdAt: "asc" }, select: { name: true } }))?.name ?? "Your organization";
    const { subject, body } = platformAlertMail(platform, reason, org);
    if (admins.length)
      await tx.notification.createMany({
        data: admins.map((a) => ({
          kind: "platformAlert",
          dedupeKey: `platform-alert:${platform.id}:${now.toISOString()}:${a.email}`,
          recipient: a.email,
          subject,
          body,
          nextAttemptAt: now,
          createdAt: now,
        })),
        skipDuplicates: true,
      });
    await recordEvent(tx, {
      type: EventType.CorePlatformAlert,
      outcome: "failure",
      actor: alertActor,
      object: { type: "core-platform", id: platform.id, name: platform.name },
      summary: `The MDM refused the credentials of Core Platform "${platform.name}" (${reason}): lookups through it fail until an admin fixes them${admins.length ? `; ${admins.length} admin${admins.length === 1 ? "" : "s"} mailed` : ""}`,
      details: {
        corePlatform: { id: platform.id, name: platform.name },
        httpStatus: answer.status ?? null,
        reason,
        since: now,
        mailedTo: admins.map((a) => a.email),
        ...(mail?.configured ? {} : { mailSkipped: "mail is not configured (Settings > Mail)" }),
      },
    });
    return true;
  });
  if (raised) {
    forgetCachedConfig(db); // enrollments read the platform from the configuration cache
    nudge(db, "mail");
  }
  return raised;
}

/** Clears the alert once, recording how long it lasted and what cleared it. */
export async function clearPlatformAlert(db: Db, platform: AlertedPlatform, clearedBy: string): Promise<boolean> {
  const row = await db.corePlatform.findUnique({ where: { id: platform.id }, select: { alertSince: true, alertReason: true } });
  if (!row?.alertSince) return false;
  const since = row.alertSince;
  const cleared = await inTransaction(db, async (tx) => {
    const won = await tx.corePlatform.updateMany({ where: { id: platform.id, alertSince: since }, data: { alertSince: null, alertReason: null } });
    if (!won.count) return false;
    await recordEvent(tx, {
      type: EventType.CorePlatformAlertCleared,
      outcome: "success",
      actor: alertActor,
      object: { type: "core-platform", id: platform.id, name: platform.name },
      summary: `Core Platform "${platform.name}" answers again (${clearedBy}); its alert since ${since.toISOString()} is cleared`,
      details: { corePlatform: { id: platform.id, name: platform.name }, since, reason: row.alertReason ?? "", clearedBy },
    });
    return true;
  });
  if (cleared) forgetCachedConfig(db);
  return cleared;
}
