import { z } from "zod";
import type { Db, Prisma } from "@attested/db";

// The portal shows times in UTC, so a time without a zone (a datetime-local field) is UTC too.
const utcDate = z.preprocess(
  (v) => (typeof v === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/.test(v.trim()) ? `${v.trim()}Z` : v),
  z.coerce.date(),
);

export const eventsQuerySchema = z.object({
  type: z.string().trim().min(1).optional(),
  outcome: z.enum(["success", "failure", "denied"]).optional(),
  // Who: the exact actor name (an email, a device serial, a system job such as "revoke-on-failure").
  actor: z.string().trim().min(1).max(254).optional(),
  actorType: z.enum(["user", "api-token", "device", "system", "anonymous"]).optional(),
  // What: an object's type, and its id or exact name.
  objectType: z
    .string()
    .trim()
    .regex(/^[a-z0-9-]{1,64}$/, "Unknown object type")
    .optional(),
  object: z.string().trim().min(1).max(254).optional(),
  objectId: z.string().trim().min(1).optional(),
  deviceSerial: z.string().trim().min(1).max(128).optional(),
  certificateSerial: z.string().trim().min(1).max(128).optional(),
  from: utcDate.optional(),
  to: utcDate.optional(),
  q: z.string().trim().min(1).max(200).optional(),
  // Why an enrollment was denied: the Enrollment Denied event's code (e.g. deviceNotFound).
  reason: z
    .string()
    .trim()
    .regex(/^[A-Za-z]{1,64}$/, "reason must be a denial code such as deviceNotFound")
    .optional(),
  // Event ids are PostgreSQL bigints: 18 digits always fit.
  cursor: z
    .string()
    .regex(/^\d{1,18}$/, "cursor must be an event id")
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
export type EventsQuery = z.input<typeof eventsQuerySchema>;

export interface EventRow {
  id: string;
  time: Date;
  type: string;
  outcome: string;
  actorType: string;
  actorId: string | null;
  actorName: string | null;
  objectType: string | null;
  objectId: string | null;
  objectName: string | null;
  certificateSerial: string | null;
  deviceSerial: string | null;
  summary: string;
  details: unknown;
}
export interface EventPage {
  events: EventRow[];
  nextCursor: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const normalSerial = (v: string) => v.toLowerCase().replace(/[:\s]/g, "").replace(/^0x/, "");
// Emails are stored lower-case; other names (device serials, jobs) as they are.
const actorKey = (v: string) => (v.includes("@") ? v.toLowerCase() : v);

/**
 * Every filter is an equality on a column that leads an index ending with id (see the Event model),
 * so with millions of rows a filtered page is an index range scan read newest first, never a scan
 * of the table or a sort of every match.
 */
export function eventsWhere(q: z.output<typeof eventsQuerySchema>): Prisma.EventWhereInput {
  const and: Prisma.EventWhereInput[] = [];
  if (q.type) and.push({ type: q.type });
  if (q.outcome) and.push({ outcome: q.outcome });
  if (q.actor) and.push({ actorName: actorKey(q.actor) });
  if (q.actorType) and.push({ actorType: q.actorType });
  if (q.objectType) and.push({ objectType: q.objectType });
  if (q.object) and.push(UUID.test(q.object) ? { objectId: q.object.toLowerCase() } : { objectName: q.object });
  if (q.objectId) and.push({ objectId: q.objectId });
  if (q.deviceSerial) and.push({ deviceSerial: q.deviceSerial });
  if (q.certificateSerial) and.push({ certificateSerial: normalSerial(q.certificateSerial) });
  if (q.reason) and.push({ details: { path: ["code"], equals: q.reason } });
  if (q.from || q.to) and.push({ time: { gte: q.from, lte: q.to } });
  if (q.q) {
    // Free text: a certificate serial, a device serial, an actor, or an object's name or id. Exact
    // matches only (case-insensitive where the stored form is known), so each arm uses an index.
    const or: Prisma.EventWhereInput[] = [
      { certificateSerial: normalSerial(q.q) },
      { deviceSerial: q.q.toUpperCase() },
      { actorName: actorKey(q.q) },
      { objectName: q.q },
    ];
    if (q.q !== q.q.toUpperCase()) or.push({ deviceSerial: q.q });
    if (UUID.test(q.q)) or.push({ objectId: q.q.toLowerCase() });
    and.push({ OR: or });
  }
  return and.length ? { AND: and } : {};
}

const toRow = (e: { id: bigint } & Omit<EventRow, "id">): EventRow => ({ ...e, id: e.id.toString() });

/** Newest first, keyset-paginated by id (ids grow with time). */
export async function listEvents(db: Db, input: EventsQuery): Promise<EventPage> {
  const q = eventsQuerySchema.parse(input);
  const where = eventsWhere(q);
  const rows = await db.event.findMany({
    where: q.cursor ? { AND: [where, { id: { lt: BigInt(q.cursor) } }] } : where,
    orderBy: { id: "desc" },
    take: q.limit + 1,
  });
  const more = rows.length > q.limit;
  const page = rows.slice(0, q.limit).map(toRow);
  return { events: page, nextCursor: more ? page[page.length - 1].id : null };
}

export async function getEvent(db: Db, id: string): Promise<EventRow | null> {
  if (!/^\d+$/.test(id)) return null;
  const e = await db.event.findUnique({ where: { id: BigInt(id) } });
  return e ? toRow(e) : null;
}
