import { z } from "zod";
import type { Db, Prisma } from "@attested/db";

export const eventsQuerySchema = z.object({
  type: z.string().trim().min(1).optional(),
  outcome: z.enum(["success", "failure", "denied"]).optional(),
  actor: z.string().trim().min(1).optional(),
  objectId: z.string().trim().min(1).optional(),
  from: z.coerce.date().optional(),
  to: z.coerce.date().optional(),
  q: z.string().trim().min(1).max(200).optional(),
  cursor: z.string().regex(/^\d+$/, "cursor must be an event id").optional(),
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

export function eventsWhere(q: z.output<typeof eventsQuerySchema>): Prisma.EventWhereInput {
  const and: Prisma.EventWhereInput[] = [];
  if (q.type) and.push({ type: q.type });
  if (q.outcome) and.push({ outcome: q.outcome });
  if (q.actor) and.push({ actorName: { contains: q.actor, mode: "insensitive" } });
  if (q.objectId) and.push({ objectId: q.objectId });
  if (q.from || q.to) and.push({ time: { gte: q.from, lte: q.to } });
  if (q.q) {
    // Free text: a certificate serial, a device serial, a user or object name.
    const serial = q.q.toLowerCase().replace(/[:\s]/g, "");
    and.push({
      OR: [
        { certificateSerial: serial },
        { deviceSerial: q.q.toUpperCase() },
        { deviceSerial: q.q },
        { actorName: { startsWith: q.q, mode: "insensitive" } },
        { objectName: { startsWith: q.q, mode: "insensitive" } },
      ],
    });
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
