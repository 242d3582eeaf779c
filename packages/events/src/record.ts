import { forgetCachedConfig, type Db, type Prisma } from "@attested/db";
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
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? "[redacted]" : scrub(v, depth + 1);
    return out;
  }
  if (typeof value === "bigint") return value.toString();
  return value;
}

/**
 * Records one event. Pass the transaction client of the change it describes, so that the change and
 * its event commit or roll back together.
 */
export async function recordEvent(tx: Tx, e: EventInput): Promise<void> {
  // Configuration changes are made by people, and each records an event: cached configuration goes.
  if (e.actor.type === "user" || e.actor.type === "api-token") forgetCachedConfig();
  await tx.event.create({
    data: {
      type: e.type,
      outcome: e.outcome,
      actorType: e.actor.type,
      actorId: e.actor.id ?? null,
      actorName: e.actor.name ?? null,
      objectType: e.object?.type ?? null,
      objectId: e.object?.id ?? null,
      objectName: e.object?.name ?? null,
      certificateSerial: e.certificateSerial ?? null,
      deviceSerial: e.deviceSerial ?? null,
      summary: e.summary,
      details: scrub(e.details ?? {}) as Prisma.InputJsonValue,
    },
  });
}
