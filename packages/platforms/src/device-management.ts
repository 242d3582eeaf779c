import { createHash, randomBytes, X509Certificate } from "node:crypto";
import { invalidate, type Db, type InvalidationBus, type Prisma } from "@attested/db";
import { EventType, inTransaction, recordEvent, type Actor } from "@attested/events";
import { assertCanWrite } from "@attested/identity";
import { openSecret, sealSecret } from "@attested/secrets";
import { buildAcmeProfile } from "./mobileconfig";
import { networkPayloadsSchema, readNetworkPayloads, type NetworkPayloads } from "./network";
import type { Vendor } from "./options";
import { publishProfile, type PublishContext, type PublishResult } from "./publish";
import { dmpInputSchema, dmpSettingsSchema, rotateSecretSchema } from "./schemas";
import { DomainError, NotFoundError } from "@attested/errors";

// What a platform is shown and used with, named column by column: never the enrollment secret (sealed)
// nor its hash, which is as good as the secret for finding the platform.
const shown = {
  id: true,
  name: true,
  description: true,
  type: true,
  vendor: true,
  secretRotatedAt: true,
  allowServerNames: true,
  defaultCaId: true,
  defaultTemplateId: true,
  networkPayloads: true,
  createdAt: true,
  updatedAt: true,
} satisfies Prisma.DeviceManagementPlatformSelect;
export type PlatformRecord = Prisma.DeviceManagementPlatformGetPayload<{ select: typeof shown }>;

const secretContext = (id: string) => `dmp-enrollment-secret:${id}`;
export const hashEnrollmentSecret = (secret: string) => createHash("sha256").update(secret).digest("hex");
const newSecret = () => randomBytes(24).toString("base64url");

export const directoryUrl = (publicUrl: string, secret: string) => `${publicUrl}/acme/${secret}/directory`;

export const listPlatforms = (db: Db): Promise<PlatformRecord[]> => db.deviceManagementPlatform.findMany({ select: shown, orderBy: { name: "asc" } });

export async function getPlatform(db: Db, id: string): Promise<PlatformRecord> {
  const p = /^[0-9a-f-]{36}$/.test(id) ? await db.deviceManagementPlatform.findUnique({ where: { id }, select: shown }) : null;
  if (!p) throw new NotFoundError("Device Management Platform");
  return p;
}

/**
 * The platform an ACME request addresses, by the enrollment token in its URL; null when unknown or
 * rotated away. The previous token of a platform published to Kandji still answers until its new
 * profile is published and the grace period has passed (publish.ts).
 */
export async function platformByEnrollmentSecret(db: Db, secret: string, now = new Date()): Promise<PlatformRecord | null> {
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(secret)) return null;
  const hash = hashEnrollmentSecret(secret);
  return db.deviceManagementPlatform.findFirst({
    where: {
      OR: [{ enrollmentSecretHash: hash }, { previousSecretHash: hash, OR: [{ previousSecretValidUntil: null }, { previousSecretValidUntil: { gt: now } }] }],
    },
    select: shown,
  });
}

// ACME requests look their platform up on every request (~10 per enrollment). Positive lookups are
// kept for a short time. Within a process the cache is exact: rotating the secret or changing the
// platform announces {kind:"platforms"} on the database's invalidation bus, which the process's one cache
// (built in the server's services.ts) and those of the host's other server processes follow. Other
// instances of a deployment see such a change within SECRET_CACHE_MS. Unknown secrets are never cached.
const SECRET_CACHE_MS = 2_000;

/** Platforms by enrollment secret, for the ACME path (see above). */
export class PlatformCache {
  private readonly bySecret = new Map<string, { until: number; platform: PlatformRecord }>();

  /** platformByEnrollmentSecret, cached as described above. */
  async get(db: Db, secret: string, now = Date.now()): Promise<PlatformRecord | null> {
    const hit = this.bySecret.get(secret);
    if (hit && hit.until > now) return hit.platform;
    const platform = await platformByEnrollmentSecret(db, secret);
    if (platform) {
      if (this.bySecret.size > 1000) this.bySecret.clear();
      this.bySecret.set(secret, { until: now + SECRET_CACHE_MS, platform });
    } else this.bySecret.delete(secret);
    return platform;
  }

  clear(): void {
    this.bySecret.clear();
  }

  /** Applies {kind:"platforms"} invalidations of `bus` (this process's and its siblings'). */
  follow(bus: InvalidationBus): this {
    bus.subscribe((i) => {
      if (i.kind === "platforms") this.clear();
    });
    return this;
  }
}

/** After a platform changes (secret, settings): later ACME requests read it again, in every server process of this host. */
const forgetCachedPlatforms = (db: Db) => invalidate(db, { kind: "platforms" });

async function assertNameFree(db: Db, name: string, exceptId?: string) {
  const other = await db.deviceManagementPlatform.findUnique({ where: { name }, select: { id: true } });
  if (other && other.id !== exceptId) throw new DomainError("A Device Management Platform with this name already exists", 409, "name");
}

/** "Add" then "Save": creates the platform with a fresh enrollment token. */
export async function createPlatform(db: Db, actor: Actor, input: unknown): Promise<PlatformRecord> {
  await assertCanWrite(db, actor, "create device management platforms");
  const data = dmpInputSchema.parse(input);
  await assertNameFree(db, data.name);
  const secret = newSecret();
  return inTransaction(db, async (tx) => {
    const created = await tx.deviceManagementPlatform.create({
      data: { ...data, enrollmentSecretHash: hashEnrollmentSecret(secret), enrollmentSecret: Buffer.alloc(0) },
      select: shown,
    });
    // The sealed token is bound to the row id, which exists only now.
    await tx.deviceManagementPlatform.update({ where: { id: created.id }, data: { enrollmentSecret: sealSecret(secret, secretContext(created.id)) } });
    await recordEvent(tx, {
      type: EventType.PlatformCreated,
      outcome: "success",
      actor,
      object: { type: "device-management-platform", id: created.id, name: created.name },
      summary: `Device Management Platform "${created.name}" (${data.vendor}) created`,
      details: { vendor: data.vendor, type: data.type },
    });
    return created;
  });
}

export async function updatePlatform(db: Db, actor: Actor, id: string, input: unknown): Promise<PlatformRecord> {
  await assertCanWrite(db, actor, "change device management platforms");
  const before = await getPlatform(db, id);
  const data = dmpSettingsSchema.parse(input);
  await assertNameFree(db, data.name, id);
  if (data.defaultCaId && !(await db.certificateAuthority.findUnique({ where: { id: data.defaultCaId }, select: { id: true } })))
    throw new DomainError("Choose an existing Certificate Authority", 400, "defaultCaId");
  if (data.defaultTemplateId && !(await db.certificateTemplate.findUnique({ where: { id: data.defaultTemplateId }, select: { id: true } })))
    throw new DomainError("Choose an existing Certificate Template", 400, "defaultTemplateId");
  const updated = await inTransaction(db, async (tx) => {
    const p = await tx.deviceManagementPlatform.update({
      where: { id },
      data: { ...data, defaultCaId: data.defaultCaId ?? null, defaultTemplateId: data.defaultTemplateId ?? null },
      select: shown,
    });
    await recordEvent(tx, {
      type: EventType.PlatformUpdated,
      outcome: "success",
      actor,
      object: { type: "device-management-platform", id, name: p.name },
      summary: `Device Management Platform "${p.name}" updated`,
      details: {
        before: { name: before.name, allowServerNames: before.allowServerNames, defaultCaId: before.defaultCaId, defaultTemplateId: before.defaultTemplateId },
        after: data,
      },
    });
    return p;
  });
  forgetCachedPlatforms(db);
  return updated;
}

/** What General Events show of the network payloads: the names and addresses, not the CA's PEM. */
function networkSummary(n: NetworkPayloads) {
  return {
    wifi: n.wifi,
    ethernet: n.ethernet,
    trustedServerNames: n.eap?.trustedServerNames ?? [],
    serverCa: n.eap ? new X509Certificate(n.eap.serverCaPem).subject : null,
    vpn: n.vpn,
  };
}

/** Network payloads: Wi-Fi, Ethernet 802.1X and IKEv2 VPN using the ACME certificate (docs/protocol.md#network-payloads). */
export async function updateNetworkPayloads(db: Db, actor: Actor, id: string, input: unknown): Promise<NetworkPayloads> {
  await assertCanWrite(db, actor, "change device management platforms");
  const before = await getPlatform(db, id);
  const data = networkPayloadsSchema.parse(input);
  await inTransaction(db, async (tx) => {
    await tx.deviceManagementPlatform.update({ where: { id }, data: { networkPayloads: data as unknown as Prisma.InputJsonValue } });
    await recordEvent(tx, {
      type: EventType.PlatformUpdated,
      outcome: "success",
      actor,
      object: { type: "device-management-platform", id, name: before.name },
      summary: `Network payloads of "${before.name}" updated: ${describeNetwork(data)}`,
      details: { before: { networkPayloads: networkSummary(readNetworkPayloads(before.networkPayloads)) }, after: { networkPayloads: networkSummary(data) } },
    });
  });
  return data;
}

/** "Wi-Fi Corp, Ethernet 802.1X, VPN Office" or "none". */
export function describeNetwork(n: NetworkPayloads): string {
  const parts = [n.wifi && `Wi-Fi ${n.wifi.ssid}`, n.ethernet && "Ethernet 802.1X", n.vpn && `VPN ${n.vpn.name}`].filter(Boolean);
  return parts.length ? parts.join(", ") : "none";
}

/**
 * New enrollment token: the ACME directory URL changes, so profiles made before stop working. On a
 * platform published to Kandji (and given `publish`), the token of the published profile keeps
 * working while the new profile is published, which happens here, and for the grace period after,
 * unless `revokePrevious` (a leaked secret): then no earlier token enrolls from this moment on.
 */
export async function rotateEnrollmentSecret(
  db: Db,
  actor: Actor,
  id: string,
  publish?: PublishContext,
  /** z.input<typeof rotateSecretSchema>, checked here (REST bodies come as they are). */
  options: unknown = {},
): Promise<{ published: PublishResult | null }> {
  await assertCanWrite(db, actor, "rotate enrollment secrets");
  const { revokePrevious } = rotateSecretSchema.parse(options);
  const p = await getPlatform(db, id);
  const row = await db.deviceManagementPlatform.findUniqueOrThrow({
    where: { id },
    select: { enrollmentSecretHash: true, previousSecretHash: true, previousSecretValidUntil: true, publishCorePlatformId: true },
  });
  const published = Boolean(publish && row.publishCorePlatformId);
  const keep = published && !revokePrevious;
  // Rotating again before the new profile is published keeps the token devices actually have.
  const previous = keep ? (row.previousSecretHash && row.previousSecretValidUntil === null ? row.previousSecretHash : row.enrollmentSecretHash) : null;
  const secret = newSecret();
  await inTransaction(db, async (tx) => {
    await tx.deviceManagementPlatform.update({
      where: { id },
      data: {
        enrollmentSecretHash: hashEnrollmentSecret(secret),
        enrollmentSecret: sealSecret(secret, secretContext(id)),
        secretRotatedAt: new Date(),
        previousSecretHash: previous,
        previousSecretValidUntil: null,
      },
    });
    await recordEvent(tx, {
      type: EventType.PlatformSecretRotated,
      outcome: "success",
      actor,
      object: { type: "device-management-platform", id, name: p.name },
      summary: keep
        ? `Enrollment secret of "${p.name}" rotated: the published profile's secret works until the new profile is published to Kandji and the grace period ends`
        : revokePrevious
          ? `Enrollment secret of "${p.name}" rotated and the previous one revoked: no earlier profile enrolls from now on`
          : `Enrollment secret of "${p.name}" rotated: profiles downloaded before no longer enroll`,
      details: { previousSecretKept: keep, previousSecretRevoked: revokePrevious },
    });
  });
  forgetCachedPlatforms(db);
  return { published: published && publish ? await publishProfile(db, actor, id, publish, "rotation") : null };
}

/**
 * The CAs a platform's devices must trust, roots first: the chains (up to the root, still valid) of the
 * CAs that can issue to them. Those are the platform's default CA and the CA of every Enrollment
 * Policy whose Device Role names a Key Attestation Platform, as an attested device on any platform may
 * match any such policy. Nothing else of the organization's PKI goes on the device.
 */
export async function issuingChains(db: Db, defaultCaId: string | null) {
  const [policies, valid] = await Promise.all([
    db.enrollmentPolicy.findMany({ where: { caId: { not: null }, deviceRole: { keyAttestationPlatformId: { not: null } } }, select: { caId: true } }),
    db.certificateAuthority.findMany({
      where: { notAfter: { gt: new Date() } },
      select: { id: true, parentId: true, certificatePem: true, commonName: true, type: true },
      orderBy: [{ type: "asc" }, { createdAt: "asc" }],
    }),
  ]);
  const byId = new Map(valid.map((c) => [c.id, c]));
  const needed = new Set<string>();
  for (const id of [defaultCaId, ...policies.map((p) => p.caId)]) {
    for (let c = id ? byId.get(id) : undefined; c && !needed.has(c.id); c = c.parentId ? byId.get(c.parentId) : undefined) needed.add(c.id);
  }
  return valid.filter((c) => needed.has(c.id));
}

/** The .mobileconfig of a platform row, built fresh (new payload UUIDs) with its current enrollment token. */
export async function buildPlatformProfile(
  db: Db,
  row: { id: string; name: string; vendor: string; enrollmentSecret: Uint8Array; defaultCaId: string | null; networkPayloads: unknown },
  publicUrl: string,
) {
  const secret = openSecret(row.enrollmentSecret, secretContext(row.id));
  const org = await db.organization.findFirst();
  const cas = await issuingChains(db, row.defaultCaId);
  return buildAcmeProfile({
    platform: { id: row.id, name: row.name, vendor: row.vendor as Vendor },
    organizationName: org?.name ?? "Attested PKI",
    directoryUrl: directoryUrl(publicUrl, secret),
    caCertificates: cas.map((c) => ({ pem: c.certificatePem, commonName: c.commonName, isRoot: c.type === "ROOT" })),
    network: readNetworkPayloads(row.networkPayloads),
  });
}

/** The platform's .mobileconfig for download, built fresh with the current enrollment token. */
export async function platformProfile(db: Db, actor: Actor, id: string, publicUrl: string) {
  const row = await db.deviceManagementPlatform.findUnique({ where: { id } });
  if (!row) throw new NotFoundError("Device Management Platform");
  const profile = await buildPlatformProfile(db, row, publicUrl);
  await recordEvent(db, {
    type: EventType.ProfileDownloaded,
    outcome: "success",
    actor,
    object: { type: "device-management-platform", id, name: row.name },
    summary: `Profile ${profile.filename} downloaded`,
    details: { payloadIdentifier: profile.payloadIdentifier, payloads: profile.contents.map((c) => c.displayName) },
  });
  return profile;
}

/** What the platform's profile installs, payload by payload, built as the download is (without its secret). */
export async function platformProfileContents(db: Db, p: Pick<PlatformRecord, "id" | "name" | "vendor" | "defaultCaId" | "networkPayloads">) {
  const [org, cas] = await Promise.all([db.organization.findFirst(), issuingChains(db, p.defaultCaId)]);
  return buildAcmeProfile({
    platform: { id: p.id, name: p.name, vendor: p.vendor as Vendor },
    organizationName: org?.name ?? "Attested PKI",
    directoryUrl: "https://preview.invalid/acme/directory",
    caCertificates: cas.map((c) => ({ pem: c.certificatePem, commonName: c.commonName, isRoot: c.type === "ROOT" })),
    network: readNetworkPayloads(p.networkPayloads),
  }).contents;
}
