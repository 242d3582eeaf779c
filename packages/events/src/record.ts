import { forgetCachedConfig, storableText, type Db, type Prisma, type Sql } from "@attested/db";
import type { Actor, Outcome } from "./types";

export interface EventInput {
  type: string;
  outcome: Outcome;
  actor: Actor;
  object?: { type: string; id?: string; name?: string };
  certificateSerial?: string | null;
  deviceSerial?: string | null;
  summary: string;
  details?: Record<string, unknown>;
}

type Tx = Pick<Db, "event"> | Prisma.TransactionClient;

// Keys that must never reach the trail, whatever a caller passes in details.
const SECRET_KEY = /(password|secret|token|private|key(?!Id|Size|Algorithm|Usage)|authorization)/i;

function scrub(value: unknown, depth = 0): unknown {
  if (depth > 8) return "[depth]";
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  if (value && typeof value === "object") {
    if (value instanceof Date) return value.toISOString();
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[storableText(k)] = SECRET_KEY.test(k) ? "[redacted]" : scrub(v, depth + 1);
    return out;
  }
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "string") return storableText(value);
  return value;
}

/**
 * Records one event. Pass the transaction client of the change it describes, so that the change and
 * its event commit or roll back together.
 */
export async function recordEvent(tx: Tx, e: EventInput): Promise<void> {
  await tx.event.create({ data: eventData(e) as Prisma.EventUncheckedCreateInput });
  if (changesConfig(e.actor)) forgetCachedConfig(tx);
}

/**
 * The same as recordEvent, as one INSERT to run alone or inside a larger statement (a CTE) on the plain
 * SQL path: `INSERT INTO "Event" (...) SELECT $first, ...`, so a caller may append a WHERE clause.
 */
export function eventInsert(e: EventInput, first = 1, time = new Date()): { text: string; values: unknown[] } {
  const data: Record<string, unknown> = { time, ...eventData(e) };
  const columns = Object.keys(data);
  const values = columns.map((c) => (c === "details" ? JSON.stringify(data[c]) : data[c]));
  // Typed parameters: INSERT ... SELECT does not take them from the target columns as VALUES does.
  const cast = (c: string) => (c === "time" ? "timestamp(3)" : c === "details" ? "jsonb" : "text");
  const text = `INSERT INTO "Event" (${columns.map((c) => `"${c}"`).join(", ")}) SELECT ${columns.map((c, i) => `$${first + i}::${cast(c)}`).join(", ")}`;
  return { text, values };
}

/** recordEvent outside a transaction, through plain SQL (the enrollment path). */
export async function recordEventSql(sql: Sql, e: EventInput): Promise<void> {
  const { text, values } = eventInsert(e);
  await sql.query(text, values);
  if (changesConfig(e.actor)) forgetCachedConfig(sql);
}

const text = (s: string | null | undefined) => (s == null ? null : storableText(s));

// Configuration changes are made by people, and each records an event: cached configuration goes (the
// events written by eventInsert are devices', which change no configuration).
const changesConfig = (actor: Actor) => actor.type === "user" || actor.type === "api-token";

function eventData(e: EventInput) {
  return {
    type: e.type,
    outcome: e.outcome,
    actorType: e.actor.type,
    actorId: text(e.actor.id),
    actorName: text(e.actor.name),
    objectType: text(e.object?.type),
    objectId: text(e.object?.id),
    objectName: text(e.object?.name),
    certificateSerial: text(e.certificateSerial),
    deviceSerial: text(e.deviceSerial),
    summary: storableText(e.summary),
    details: scrub(e.details ?? {}),
  };
}
