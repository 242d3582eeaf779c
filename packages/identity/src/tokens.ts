import { createHash, randomBytes } from "node:crypto";
import type { Db, Role } from "@attested/db";
import { EventType, inTransaction, recordEvent, type Actor } from "@attested/events";
import { assertCanWrite } from "./actor";
import { createApiTokenSchema } from "./schemas";
import { NotFoundError } from "@attested/errors";

const PREFIX = "apki_";
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

export interface ApiTokenInfo {
  id: string;
  name: string;
  prefix: string;
  role: Role;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date;
  revokedAt: Date | null;
}
const fields = { id: true, name: true, prefix: true, role: true, createdAt: true, lastUsedAt: true, expiresAt: true, revokedAt: true } as const;
const DAY_MS = 24 * 60 * 60_000;

export const listApiTokens = (db: Db): Promise<ApiTokenInfo[]> => db.apiToken.findMany({ select: fields, orderBy: { createdAt: "desc" } });

/** Creates a token; the returned `token` is shown once and only its hash is stored. */
export async function createApiToken(db: Db, actor: Actor, input: unknown): Promise<{ token: string; info: ApiTokenInfo }> {
  if (actor.type !== "system") await assertCanWrite(db, actor, "create API tokens");
  const data = createApiTokenSchema.parse(input);
  const token = PREFIX + randomBytes(32).toString("base64url");
  const info = await inTransaction(db, async (tx) => {
    const row = await tx.apiToken.create({
      data: {
        name: data.name,
        role: data.role,
        prefix: token.slice(0, PREFIX.length + 6),
        hash: sha256(token),
        expiresAt: new Date(Date.now() + data.expiresInDays * DAY_MS),
        createdById: actor.type === "user" ? actor.id : null,
      },
      select: fields,
    });
    await recordEvent(tx, {
      type: EventType.ApiTokenCreated,
      outcome: "success",
      actor,
      object: { type: "api-token", id: row.id, name: row.name },
      summary: `API token "${row.name}" created with ${row.role === "ADMIN" ? "Admin" : "Auditor"} scope`,
      details: { role: row.role, prefix: row.prefix, expiresAt: row.expiresAt.toISOString() },
    });
    return row;
  });
  return { token, info };
}

export async function revokeApiToken(db: Db, actor: Actor, id: string): Promise<void> {
  await assertCanWrite(db, actor, "revoke API tokens");
  const row = await db.apiToken.findUnique({ where: { id } });
  if (!row) throw new NotFoundError("API token");
  await inTransaction(db, async (tx) => {
    await tx.apiToken.update({ where: { id }, data: { revokedAt: new Date() } });
    await recordEvent(tx, {
      type: EventType.ApiTokenRevoked,
      outcome: "success",
      actor,
      object: { type: "api-token", id, name: row.name },
      summary: `API token "${row.name}" revoked`,
    });
  });
}

/**
 * The actor behind a bearer token, or null when unknown, revoked or expired, or when the user who made
 * it is disabled or no longer holds the role it grants (an Admin token of a demoted admin stops working).
 */
export async function actorForApiToken(db: Db, token: string): Promise<Actor | null> {
  if (!token.startsWith(PREFIX) || token.length > 200) return null;
  const row = await db.apiToken.findUnique({ where: { hash: sha256(token) }, include: { createdBy: { select: { role: true, disabled: true } } } });
  if (!row || row.revokedAt || row.expiresAt.getTime() <= Date.now()) return null;
  if (row.createdBy && (row.createdBy.disabled || (row.role === "ADMIN" && row.createdBy.role !== "ADMIN"))) return null;
  // Coarse last-used stamp: at most one write a minute per token.
  if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000) await db.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: new Date() } });
  return { type: "api-token", id: row.id, name: `token:${row.name}`, role: row.role };
}
