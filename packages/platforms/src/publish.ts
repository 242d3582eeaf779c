// Publish to Kandji: the platform's .mobileconfig becomes a Kandji Library custom profile, created
// once and updated after, assigned to the chosen Blueprints, with a Core Platform's Kandji API token
// (docs/kandji.md, "Publishing the profile"). A rotation republishes; the previous enrollment token
// keeps enrolling until the new profile is published, then for the grace period.

import { z } from "zod";
import { invalidate, type Db } from "@attested/db";
import { DomainError, NotFoundError } from "@attested/errors";
import { EventType, inTransaction, recordEvent, type Actor } from "@attested/events";
import { assertCanWrite } from "@attested/identity";
import {
  assignLibraryItem,
  createCustomProfile,
  kandjiApiFromRecord,
  kandjiPublishProblem,
  listKandjiBlueprints,
  updateCustomProfile,
  KandjiApiError,
  type KandjiBlueprint,
} from "@attested/integrations";
import { buildPlatformProfile, getPlatform } from "./device-management";

/** What publishing needs from the server: the URL profiles point to and the grace period after a rotation. */
export interface PublishContext {
  publicUrl: string;
  graceSeconds: number;
}

export type PublishTrigger = "manual" | "rotation";

export type PublishResult =
  | { ok: true; action: "created" | "updated"; libraryItemId: string; previousSecretValidUntil: Date | null }
  | { ok: false; reason: string };

/** The platform's publishing settings and state, as its page shows them (no secret, no hash). */
export interface PublishStatus {
  corePlatformId: string | null;
  corePlatformName: string | null;
  blueprintIds: string[];
  libraryItemId: string | null;
  publishedAt: Date | null;
  error: string | null;
  errorAt: Date | null;
  /** The token of the profile published before the last rotation: valid until `validUntil` (null: until the new profile is published). */
  previousSecret: { validUntil: Date | null; expired: boolean } | null;
}

export async function publishStatus(db: Db, id: string, now = new Date()): Promise<PublishStatus> {
  await getPlatform(db, id);
  const r = await db.deviceManagementPlatform.findUniqueOrThrow({
    where: { id },
    select: {
      publishCorePlatform: { select: { id: true, name: true } },
      publishBlueprintIds: true,
      publishLibraryItemId: true,
      publishedAt: true,
      publishError: true,
      publishErrorAt: true,
      previousSecretHash: true,
      previousSecretValidUntil: true,
    },
  });
  const until = r.previousSecretValidUntil;
  return {
    corePlatformId: r.publishCorePlatform?.id ?? null,
    corePlatformName: r.publishCorePlatform?.name ?? null,
    blueprintIds: r.publishBlueprintIds,
    libraryItemId: r.publishLibraryItemId,
    publishedAt: r.publishedAt,
    error: r.publishError,
    errorAt: r.publishErrorAt,
    previousSecret: r.previousSecretHash ? { validUntil: until, expired: until !== null && until <= now } : null,
  };
}

/** Core Platforms that can publish (Bearer Token, a URL), for the form's choice. */
export async function publishingCorePlatforms(db: Db): Promise<{ id: string; name: string }[]> {
  const all = await db.corePlatform.findMany({ select: { id: true, name: true, authMethod: true, secret: true, uri: true }, orderBy: { name: "asc" } });
  return all.filter((c) => kandjiPublishProblem(c) === null).map((c) => ({ id: c.id, name: c.name }));
}

/** The tenant's Blueprints through a Core Platform, for the form; the reason when Kandji cannot be asked. */
export async function kandjiBlueprints(db: Db, corePlatformId: string): Promise<{ blueprints: KandjiBlueprint[] } | { error: string }> {
  const core = await db.corePlatform.findUnique({ where: { id: corePlatformId } });
  if (!core) return { error: "The Core Platform no longer exists." };
  try {
    return { blueprints: await listKandjiBlueprints(kandjiApiFromRecord(core)) };
  } catch (e) {
    if (e instanceof KandjiApiError) return { error: e.message };
    throw e;
  }
}

const lines = (v: unknown) => (typeof v === "string" ? v.split("\n").filter((s) => s.trim() !== "") : v);

export const publishInputSchema = z.object({
  corePlatformId: z.string({ error: "Choose a Core Platform" }).trim().min(1, "Choose a Core Platform"),
  blueprintIds: z.preprocess(
    lines,
    z
      .array(z.string().trim().min(1).max(100), { error: "Choose at least one Blueprint" })
      .min(1, "Choose at least one Blueprint")
      .max(50, "At most 50 Blueprints"),
  ),
});

/**
 * Publish to Kandji (the platform page's button): checks and saves the Core Platform and Blueprints,
 * then publishes. Bad input changes nothing; a refusal by Kandji is recorded and returned.
 */
export async function publishToKandji(db: Db, actor: Actor, id: string, input: unknown, ctx: PublishContext): Promise<PublishResult> {
  await assertCanWrite(db, actor, "publish profiles to Kandji");
  const p = await getPlatform(db, id);
  if (p.vendor !== "kandji") throw new DomainError("Only a Kandji platform's profile is published to Kandji", 400, "vendor");
  const data = publishInputSchema.parse(input);
  const core = await db.corePlatform.findUnique({ where: { id: data.corePlatformId } });
  if (!core) throw new DomainError("Choose an existing Core Platform", 400, "corePlatformId");
  const problem = kandjiPublishProblem(core);
  if (problem) throw new DomainError(`Core Platform "${core.name}" cannot publish to Kandji: ${problem}`, 400, "corePlatformId");
  let known: KandjiBlueprint[];
  try {
    known = await listKandjiBlueprints(kandjiApiFromRecord(core));
  } catch (e) {
    if (e instanceof KandjiApiError) throw new DomainError(`Could not list the Blueprints: ${e.message}`, 422, "corePlatformId");
    throw e;
  }
  const unknown = data.blueprintIds.filter((b) => !known.some((k) => k.id === b));
  if (unknown.length > 0) throw new DomainError(`Kandji has no Blueprint ${unknown.join(", ")}`, 400, "blueprintIds");
  await db.deviceManagementPlatform.update({ where: { id }, data: { publishCorePlatformId: core.id, publishBlueprintIds: [...new Set(data.blueprintIds)] } });
  return publishProfile(db, actor, id, ctx, "manual");
}

/**
 * Publishes the platform's current profile with its saved settings and records the outcome (event,
 * and the warning its page shows). After a rotation, success starts the previous token's grace period.
 */
export async function publishProfile(db: Db, actor: Actor, id: string, ctx: PublishContext, trigger: PublishTrigger): Promise<PublishResult> {
  const row = await db.deviceManagementPlatform.findUnique({ where: { id }, include: { publishCorePlatform: true } });
  if (!row) throw new NotFoundError("Device Management Platform");
  const core = row.publishCorePlatform;
  const object = { type: "device-management-platform" as const, id, name: row.name };
  const common = { corePlatform: core ? { id: core.id, name: core.name } : null, blueprintIds: row.publishBlueprintIds, trigger };
  let libraryItemId = row.publishLibraryItemId;
  try {
    if (!core) throw new KandjiApiError("No Core Platform is chosen to publish with", null);
    const api = kandjiApiFromRecord(core);
    const profile = await buildPlatformProfile(db, row, ctx.publicUrl);
    const input = { name: `Attested PKI: ${row.name}`, profile: profile.xml, filename: profile.filename, active: true };
    let item = libraryItemId ? await updateCustomProfile(api, libraryItemId, input) : null;
    const action = item ? "updated" : "created";
    // Kandji no longer has the item (deleted in its console): create it again.
    item ??= await createCustomProfile(api, input);
    libraryItemId = item.id;
    for (const blueprintId of row.publishBlueprintIds) await assignLibraryItem(api, blueprintId, item.id);
    const now = new Date();
    // A grace period already running is not extended by publishing again.
    const previousSecretValidUntil = row.previousSecretHash ? (row.previousSecretValidUntil ?? new Date(now.getTime() + ctx.graceSeconds * 1000)) : null;
    await inTransaction(db, async (tx) => {
      await tx.deviceManagementPlatform.update({
        where: { id },
        data: { publishLibraryItemId: item.id, publishedAt: now, publishError: null, publishErrorAt: null, previousSecretValidUntil },
      });
      await recordEvent(tx, {
        type: EventType.ProfilePublished,
        outcome: "success",
        actor,
        object,
        summary: `Profile of "${row.name}" published to Kandji (${action})${previousSecretValidUntil ? `; the previous enrollment secret works until ${previousSecretValidUntil.toISOString()}` : ""}`,
        details: { ...common, libraryItemId: item.id, action, payloadIdentifier: profile.payloadIdentifier, previousSecretValidUntil },
      });
    });
    invalidate(db, { kind: "platforms" });
    return { ok: true, action, libraryItemId: item.id, previousSecretValidUntil };
  } catch (e) {
    if (!(e instanceof KandjiApiError)) throw e;
    const reason = e.message;
    await inTransaction(db, async (tx) => {
      // A profile created before the failure is kept, so the next publish updates it instead of adding another.
      await tx.deviceManagementPlatform.update({
        where: { id },
        data: { publishError: reason, publishErrorAt: new Date(), publishLibraryItemId: libraryItemId },
      });
      await recordEvent(tx, {
        type: EventType.ProfilePublishFailed,
        outcome: "failure",
        actor,
        object,
        summary: `Publishing the profile of "${row.name}" to Kandji failed: ${reason}`,
        details: { ...common, reason, status: e.status },
      });
    });
    return { ok: false, reason };
  }
}
