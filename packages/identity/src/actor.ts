import type { Db } from "@attested/db";
import { EventType, recordEvent, type Actor } from "@attested/events";
import { ForbiddenError } from "@attested/errors";

export type { Actor };

/**
 * The one check every server action and route makes before changing anything: admins write,
 * auditors read. A refused attempt is recorded, so an auditor's attempt shows in General Events.
 */
export async function assertCanWrite(db: Db, actor: Actor, action: string): Promise<void> {
  if (actor.role === "ADMIN" && (actor.type === "user" || actor.type === "api-token")) return;
  await recordEvent(db, {
    type: EventType.AccessDenied,
    outcome: "denied",
    actor,
    summary: `${actor.name ?? actor.type} may not ${action}`,
    details: { action, role: actor.role ?? null },
  });
  throw new ForbiddenError();
}

export function assertCanRead(actor: Actor): void {
  if (actor.role === "ADMIN" || actor.role === "AUDITOR") return;
  throw new ForbiddenError("Sign in to continue.");
}
