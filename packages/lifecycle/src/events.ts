import { z } from "zod";
import type { Db } from "@attested/db";
import { EventType, eventsQuerySchema, listEvents, inTransaction, recordEvent, systemActor, type Actor, type EventsQuery } from "@attested/events";
import { assertCanWrite } from "@attested/identity";
import { DAY_MS, nowOf, type LifecycleContext } from "./context";
import { DomainError } from "@attested/errors";

// General Events for auditors at scale: CSV export of the filtered view (streamed, page by page, so
// a large export holds one page in memory) and the retention setting with its purge job.

/** Event types this package adds to the trail. */
export const LifecycleEventType = {
  EventsExported: "Events Exported",
  EventsPurged: "Events Purged",
} as const;

export const CSV_COLUMNS = [
  "id",
  "time",
  "type",
  "outcome",
  "actorType",
  "actorName",
  "actorId",
  "objectType",
  "objectId",
  "objectName",
  "certificateSerial",
  "deviceSerial",
  "summary",
  "details",
] as const;

/** The default cap of one CSV export (LIFECYCLE_EXPORT_MAX_ROWS sets another; see the server's config). */
export const MAX_EXPORT_ROWS = 1_000_000;
const PAGE = 500;

/**
 * One CSV field, always quoted. A value that a spreadsheet would run as a formula (= + - @, tab or CR
 * first) gets a leading apostrophe (OWASP "CSV injection"): event text comes from devices and users.
 */
export function csvField(value: unknown): string {
  let s =
    value === null || value === undefined
      ? ""
      : value instanceof Date
        ? value.toISOString()
        : typeof value === "object"
          ? JSON.stringify(value)
          : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

/** The filters of an export, as General Events reads them from the query string. */
export function exportQuery(params: URLSearchParams | Record<string, string | undefined>): z.output<typeof eventsQuerySchema> {
  const raw = params instanceof URLSearchParams ? Object.fromEntries(params) : params;
  const { cursor: _c, limit: _l, ...filters } = raw;
  return eventsQuerySchema.parse({ ...filters, limit: PAGE });
}

/**
 * The filtered events as a CSV stream, newest first, read in keyset pages. Records who exported
 * what (an auditor's read is part of the trail too).
 */
export async function exportEventsCsv(db: Db, actor: Actor, query: EventsQuery, opts: { maxRows?: number } = {}): Promise<ReadableStream<Uint8Array>> {
  const filters = eventsQuerySchema.parse({ ...query, cursor: undefined, limit: PAGE });
  const maxRows = opts.maxRows ?? MAX_EXPORT_ROWS;
  const shown = Object.fromEntries(Object.entries(filters).filter(([k, v]) => v !== undefined && k !== "limit" && k !== "cursor"));
  await recordEvent(db, {
    type: LifecycleEventType.EventsExported,
    outcome: "success",
    actor,
    object: { type: "events", name: "General Events" },
    summary: `General Events exported as CSV${
      Object.keys(shown).length
        ? ` (${Object.entries(shown)
            .map(([k, v]) => `${k}: ${v instanceof Date ? v.toISOString() : v}`)
            .join(", ")})`
        : ""
    }`,
    details: { filters: shown, maxRows },
  });
  const encoder = new TextEncoder();
  let cursor: string | null | undefined;
  let rows = 0;
  let started = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!started) {
          started = true;
          controller.enqueue(encoder.encode(`${CSV_COLUMNS.join(",")}\r\n`));
          return;
        }
        if (cursor === null || rows >= maxRows) return controller.close();
        const page = await listEvents(db, { ...filters, cursor: cursor ?? undefined, limit: Math.min(PAGE, maxRows - rows) });
        rows += page.events.length;
        cursor = page.nextCursor;
        const text = page.events.map((e) => `${CSV_COLUMNS.map((c) => csvField(e[c as keyof typeof e])).join(",")}\r\n`).join("");
        if (text) controller.enqueue(encoder.encode(text));
        if (!page.events.length) controller.close();
      },
    },
    { highWaterMark: 2 },
  );
}

const retentionSchema = z.object({
  eventRetentionDays: z.preprocess(
    (v) => (v === "" || v === null || v === undefined ? undefined : v),
    z.coerce
      .number({ message: "Enter a number of days from 30 to 3650, or leave it empty to keep every event" })
      .int("Enter whole days")
      .min(30, "Keep events at least 30 days")
      .max(3650, "Enter at most 3650 days (10 years)")
      .optional(),
  ),
});

export async function getEventRetention(db: Db): Promise<number | null> {
  const org = await db.organization.findFirst({ orderBy: { createdAt: "asc" }, select: { eventRetentionDays: true } });
  return org?.eventRetentionDays ?? null;
}

/** Settings > Events: how long events are kept (empty: forever). Admins only. */
export async function updateEventRetention(db: Db, actor: Actor, input: unknown): Promise<number | null> {
  await assertCanWrite(db, actor, "change event retention");
  const { eventRetentionDays } = retentionSchema.parse(input);
  const org = await db.organization.findFirst({ orderBy: { createdAt: "asc" } });
  if (!org) throw new DomainError("The organization is not set up yet", 409);
  const days = eventRetentionDays ?? null;
  await inTransaction(db, async (tx) => {
    await tx.organization.update({ where: { id: org.id }, data: { eventRetentionDays: days } });
    await recordEvent(tx, {
      type: EventType.SettingsUpdated,
      outcome: "success",
      actor,
      object: { type: "settings", id: "events", name: "Event retention" },
      summary: days ? `Events are now kept for ${days} days` : "Events are now kept forever",
      details: { settings: "events", eventRetentionDays: days, before: org.eventRetentionDays },
    });
  });
  return days;
}

/** The retention job: deletes events older than the retention period, in batches. */
export async function purgeExpiredEvents(
  ctx: LifecycleContext,
  opts: { batch?: number; maxRows?: number } = {},
): Promise<{ deleted: number; before: Date | null }> {
  const days = await getEventRetention(ctx.db);
  if (!days) return { deleted: 0, before: null };
  const before = new Date(nowOf(ctx).getTime() - days * DAY_MS);
  const batch = opts.batch ?? 10_000;
  const maxRows = opts.maxRows ?? 2_000_000;
  let deleted = 0;
  while (deleted < maxRows) {
    const n = await ctx.db.$executeRawUnsafe(
      `DELETE FROM "Event" WHERE id IN (SELECT id FROM "Event" WHERE time < $1 ORDER BY id LIMIT $2)`,
      before,
      Math.min(batch, maxRows - deleted),
    );
    deleted += n;
    if (n < batch) break;
  }
  // One event for the whole run, after its batches: each batch commits alone (a single transaction over
  // millions of rows would hold its locks and its WAL for minutes), so no statement holds them all.
  if (deleted) {
    await recordEvent(ctx.db, {
      type: LifecycleEventType.EventsPurged,
      outcome: "success",
      actor: systemActor("event-retention"),
      object: { type: "events", name: "General Events" },
      summary: `${deleted} event${deleted === 1 ? "" : "s"} older than ${days} days (before ${before.toISOString().slice(0, 10)}) deleted per the retention setting`,
      details: { deleted, before, retentionDays: days },
    });
  }
  return { deleted, before };
}
