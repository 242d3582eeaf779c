import { forgetCachedConfig, storableText, type Db, type Prisma } from "@attested/db";
import type { Actor, AuditEvent } from "./types";

/** What recordEvent takes: one of the typed audit events (see AuditEvent). */
export type EventInput = AuditEvent;

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

// Configuration changes are made by people, and each records an event: cached configuration goes once
// the change is visible to other connections, i.e. after it commits. Clearing it earlier (inside the
// transaction) let a concurrent enrollment load the old rows again and cache them as current.
const changesConfig = (actor: Actor) => actor.type === "user" || actor.type === "api-token";

// The transactions opened by inTransaction, and whether a person's change was recorded in each.
const openTransactions = new WeakMap<object, { changedConfig: boolean }>();

/**
 * Records one event. Pass the transaction client of the change it describes (opened with
 * inTransaction), so that the change and its event commit or roll back together.
 */
export async function recordEvent(tx: Tx, e: EventInput): Promise<void> {
  await tx.event.create({ data: eventData(e) as Prisma.EventUncheckedCreateInput });
  if (!changesConfig(e.actor)) return;
  const open = openTransactions.get(tx);
  if (open)
    open.changedConfig = true; // cleared by inTransaction once committed
  else forgetCachedConfig(tx); // a statement of its own: committed already
}

/**
 * `db.$transaction(change)`, and after it commits (never before), the configuration cache is cleared
 * here and in the host's other server processes if an event recorded in it was a person's change.
 * Every transaction that records events goes through here.
 */
export async function inTransaction<T>(db: Pick<Db, "$transaction">, change: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
  const state = { changedConfig: false };
  const result = await db.$transaction((tx) => {
    openTransactions.set(tx, state);
    return change(tx);
  });
  if (state.changedConfig) forgetCachedConfig(db);
  return result;
}

/**
 * The same as recordEvent, as one INSERT to run alone or inside a larger statement (a CTE) on the plain
 * SQL path: `INSERT INTO "Event" (...) SELECT $first, ...`, so a caller may append a WHERE clause. The
 * statement is the caller's to run; the events written this way are devices' (ACME, issuance), which
 * change no configuration.
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

const text = (s: string | null | undefined) => (s == null ? null : storableText(s));

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
