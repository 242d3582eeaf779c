import { revokeCertificate } from "@attested/ca";
import { storableText, type CorePlatform, type SecuritySignalSource } from "@attested/db";
import { EventType, recordEvent, systemActor } from "@attested/events";
import {
  listConfigFromRecord,
  listInventory,
  lookupConfigFromRecord,
  lookupDevice,
  type InventoryBudget,
  type ListConfig,
  type LookupConfig,
} from "@attested/integrations";
import { lookupsPerMinute, purgeOldBudgets, refundLookups, reserveLookups } from "./budget";
import { nowOf, type LifecycleContext } from "./context";
import { notePlatformAnswer } from "./platform-alerts";
import { DomainError } from "@attested/errors";

// Revoke On Failure (Security Signal Source > Settings): active certificates keep being checked
// against the MDM after issuance. Each certificate is tied to its signal source through the
// enrollment that issued it: Certificate.enrollmentPolicyId -> Enrollment Policy -> Policy Workflow
// (its Core Provider) -> the Security Signal Source for "Certificate Issuance" on that Core Platform,
// with Revoke On Failure ticked (and, when the source lists Device Roles, the policy's role among them).
//
// Only a definite "no" revokes: the lookup answered and the device is gone or fails a Response
// Validation rule (lookup outcome `notFound`). Errors (timeouts, 5xx, 429, bad credentials) never
// revoke; they are recorded and the device is tried again later.
//
// Pacing: each run takes at most this minute's share of the Core Platform's request budget
// (budget.ts), checks the devices that waited longest, and never re-checks a device sooner than
// LIFECYCLE_DEVICE_RECHECK_MINUTES (default 60).
//
// Fleet inventory: when the Core Platform has a List URI, its sources are not checked device by
// device. Once per recheck interval one run reads the whole inventory page by page (one request per
// page, drawn from the same budget, waiting for the next minute when this one's share is spent) and
// revokes the certificates of every device that is no longer listed. Only a complete inventory
// revokes: a failed, malformed or unfinished pass revokes nothing and is tried again in a few minutes.

const actor = systemActor("revoke-on-failure");
// RFC 5280 privilegeWithdrawn: the device lost what entitled it to the certificate.
const REASON = "privilegeWithdrawn";
// A failed lookup is simply tried again at a later run, so one retry is plenty here.
const SWEEP_RETRIES = 1;
const MAX_ERRORS_PER_RUN = 3;

export interface DeviceSweepOptions {
  /** Requests per minute per Core Platform (default LIFECYCLE_LOOKUPS_PER_HOUR / 61). */
  perMinute?: number;
  /** Minimum minutes between two checks of one device (default LIFECYCLE_DEVICE_RECHECK_MINUTES or 60). */
  recheckMinutes?: number;
  /** Longest an inventory pass may take, waits for the budget included (default 14: the job expires at 15). */
  maxPassMinutes?: number;
  /** How a pass waits for the next minute's budget (tests move their clock instead). */
  sleep?: (ms: number) => Promise<void>;
}

export interface InventoryPassResult {
  corePlatformId: string;
  outcome: "complete" | "error";
  reason: string;
  pages: number;
  requests: number;
  devicesListed: number;
  devicesMissing: number;
  revoked: number;
  durationMs: number;
  /** Of which reading the inventory. */
  listMs: number;
}

export interface DeviceSweepResult {
  checked: number;
  found: number;
  failed: { deviceSerial: string; signalSourceId: string; reason: string; revoked: string[] }[];
  errors: { deviceSerial: string; signalSourceId: string; reason: string }[];
  /** Signal sources whose run stopped early because this minute's budget was used up. */
  budgetExhausted: string[];
  /** Inventory passes run by this run (Core Platforms with a List URI). */
  inventory: InventoryPassResult[];
}

interface DeviceRow {
  deviceSerial: string;
  deviceUdid: string | null;
}

/** The certificates a signal source vouches for: joined through the enrollment that issued them. */
const CERTS_FROM = `
  FROM "Certificate" c
  JOIN "EnrollmentPolicy" p ON p.id = c."enrollmentPolicyId"
  JOIN "PolicyWorkflow" w ON w.id = p."policyWorkflowId"`;
const CERTS_WHERE = `
  WHERE w."corePlatformId" = $1
    AND c.status IN ('ACTIVE', 'ON_HOLD') AND c."notAfter" > $2 AND c."deviceSerial" IS NOT NULL
    AND (cardinality($3::text[]) = 0 OR p."deviceRoleId" = ANY($3::text[]))`;

/** The lookup key of a device, per the source's Identity: the attested UDID or serial number. */
const identityOf = (attribute: string, d: DeviceRow) => (/udid$/i.test(attribute) && d.deviceUdid ? d.deviceUdid : d.deviceSerial);

/** How long a device found in its Core Platform is not asked about again (LIFECYCLE_DEVICE_RECHECK_MINUTES). */
export const DEFAULT_RECHECK_MINUTES = 60;

export async function checkDevicesAgainstSignalSources(ctx: LifecycleContext, opts: DeviceSweepOptions = {}): Promise<DeviceSweepResult> {
  const perMinute = opts.perMinute ?? lookupsPerMinute(ctx.limits?.lookupsPerHour);
  const recheckMs = (opts.recheckMinutes ?? ctx.limits?.deviceRecheckMinutes ?? DEFAULT_RECHECK_MINUTES) * 60_000;
  const result: DeviceSweepResult = { checked: 0, found: 0, failed: [], errors: [], budgetExhausted: [], inventory: [] };
  const sources = await ctx.db.securitySignalSource.findMany({
    where: { revokeOnFailure: true, lookupPurpose: "certificate-issuance", corePlatformId: { not: null } },
    include: { corePlatform: true },
    orderBy: { createdAt: "asc" },
  });
  const started = nowOf(ctx);
  await purgeOldBudgets(ctx.db, started);

  const byInventory = new Map<string, SourceWithPlatform[]>();
  for (const source of sources) {
    const platform = source.corePlatform!;
    if (listConfigFromRecord(platform)) {
      byInventory.set(platform.id, [...(byInventory.get(platform.id) ?? []), { ...source, corePlatform: platform }]);
      continue;
    }
    const alert = { id: platform.id, name: platform.name, alertSince: platform.alertSince };
    let config: LookupConfig;
    try {
      config = lookupConfigFromRecord(platform, ctx.masterKey);
    } catch (e) {
      await recordRunProblem(ctx, source, platform, `cannot open the Core Platform's secret: ${(e as Error).message}`);
      continue;
    }
    const now = nowOf(ctx);
    const devices = await ctx.db.$queryRawUnsafe<DeviceRow[]>(
      // Devices not checked within the recheck interval, those never checked or waiting longest first.
      `SELECT c."deviceSerial" AS "deviceSerial", min(c."deviceUdid") AS "deviceUdid"
       ${CERTS_FROM}
       LEFT JOIN "DeviceCheck" d ON d."signalSourceId" = $4 AND d."deviceSerial" = c."deviceSerial"
       ${CERTS_WHERE}
         AND (d."checkedAt" IS NULL OR d."checkedAt" <= $5)
       GROUP BY c."deviceSerial", d."checkedAt"
       ORDER BY d."checkedAt" ASC NULLS FIRST, c."deviceSerial"
       LIMIT $6`,
      platform.id,
      now,
      source.deviceRoleIds,
      source.id,
      new Date(now.getTime() - recheckMs),
      perMinute,
    );
    let errorsThisSource = 0;
    for (const device of devices) {
      const maxRequests = 1 + SWEEP_RETRIES;
      const window = await reserveLookups(ctx.db, platform.id, maxRequests, perMinute, nowOf(ctx));
      if (!window) {
        result.budgetExhausted.push(source.id);
        break;
      }
      const identity = identityOf(source.identityAttribute, device);
      const lookup = await lookupDevice({
        config,
        identity,
        context: { attestation: { serialNumber: device.deviceSerial, udid: device.deviceUdid ?? undefined } },
        options: {
          allowHttp: ctx.allowHttp,
          http: { ...ctx.lookupHttp, retries: Math.min(ctx.lookupHttp?.retries ?? SWEEP_RETRIES, SWEEP_RETRIES) },
        },
      });
      await refundLookups(ctx.db, platform.id, maxRequests - Math.max(1, lookup.attempts), window);
      const checkedAt = nowOf(ctx);
      await notePlatformAnswer(ctx.db, alert, lookup, "a Revoke On Failure check got an answer", checkedAt);
      if (lookup.refused) alert.alertSince ??= checkedAt;
      else if (lookup.outcome !== "error") alert.alertSince = null;
      const reason = storableText(lookup.reason.slice(0, 500)); // the MDM's answer may hold NUL
      await ctx.db.deviceCheck.upsert({
        where: { signalSourceId_deviceSerial: { signalSourceId: source.id, deviceSerial: device.deviceSerial } },
        create: { signalSourceId: source.id, deviceSerial: device.deviceSerial, checkedAt, outcome: lookup.outcome, reason },
        update: { checkedAt, outcome: lookup.outcome, reason },
      });
      result.checked++;
      if (lookup.outcome === "found") {
        result.found++;
        continue;
      }
      if (lookup.outcome === "error") {
        result.errors.push({ deviceSerial: device.deviceSerial, signalSourceId: source.id, reason: lookup.reason });
        // Errors are usually the source's, not the device's (rate limit, credentials, outage).
        if (++errorsThisSource >= MAX_ERRORS_PER_RUN) break;
        continue;
      }
      const revoked = await revokeDevice(ctx, source, platform, device, identity, {
        reason: lookup.reason,
        failedRules: lookup.rules.filter((r) => !r.passed).map((r) => r.message),
        status: lookup.status ?? null,
        url: lookup.url ?? null,
      });
      result.failed.push({ deviceSerial: device.deviceSerial, signalSourceId: source.id, reason: lookup.reason, revoked });
    }
    if (errorsThisSource) {
      const last = result.errors.filter((e) => e.signalSourceId === source.id);
      await recordRunProblem(
        ctx,
        source,
        platform,
        `${last.length} lookup${last.length === 1 ? "" : "s"} failed (last: ${last.at(-1)!.reason}); nothing was revoked for them, they are retried later`,
        {
          devices: last.map((e) => ({ deviceSerial: e.deviceSerial, reason: e.reason })),
        },
      );
    }
  }
  for (const group of byInventory.values()) {
    const pass = await inventoryPass(ctx, group, { perMinute, recheckMs, ...opts });
    if (pass) result.inventory.push(pass);
  }
  return result;
}

type SourceWithPlatform = SecuritySignalSource & { corePlatform: CorePlatform };

/** A retry after a failed pass comes this long after it, not a whole recheck interval later. */
const RETRY_FAILED_PASS_MS = 5 * 60_000;
const MISSING_LISTED = 100;
const normalSerial = (s: string) => s.trim().toUpperCase();

/** One pass over a Core Platform's whole inventory for all its Revoke On Failure sources; null when not due. */
async function inventoryPass(
  ctx: LifecycleContext,
  sources: SourceWithPlatform[],
  opts: DeviceSweepOptions & { perMinute: number; recheckMs: number },
): Promise<InventoryPassResult | null> {
  const platform = sources[0]!.corePlatform;
  const list = listConfigFromRecord(platform) as ListConfig;
  const now = nowOf(ctx);
  const devicesOf = async (source: SourceWithPlatform) =>
    ctx.db.$queryRawUnsafe<DeviceRow[]>(
      `SELECT c."deviceSerial" AS "deviceSerial", min(c."deviceUdid") AS "deviceUdid" ${CERTS_FROM} ${CERTS_WHERE} GROUP BY c."deviceSerial"`,
      platform.id,
      nowOf(ctx),
      source.deviceRoleIds,
    );
  // Nothing to compare with: no request is spent.
  const [{ n } = { n: 0 }] = await ctx.db.$queryRawUnsafe<{ n: number }[]>(
    `SELECT count(DISTINCT c."deviceSerial")::int AS n ${CERTS_FROM} ${CERTS_WHERE}`,
    platform.id,
    now,
    [],
  );
  if (!n) return null;
  // Claimed in one statement: a single instance runs the pass, once per recheck interval.
  const claimed = await ctx.db.$executeRawUnsafe(
    `UPDATE "CorePlatform" SET "inventoryPassAt" = $2 WHERE id = $1 AND ("inventoryPassAt" IS NULL OR "inventoryPassAt" <= $3)`,
    platform.id,
    now,
    new Date(now.getTime() - opts.recheckMs),
  );
  if (claimed !== 1) return null;

  const named = { id: platform.id, name: platform.name };
  const sourcesNamed = sources.map((s) => ({ id: s.id, name: s.name }));
  const base = { corePlatform: named, signalSources: sourcesNamed, paging: list.paging, certificateDevices: n };
  const object = { type: "core-platform" as const, id: platform.id, name: platform.name };
  await recordEvent(ctx.db, {
    type: EventType.FleetSweepStarted,
    outcome: "success",
    actor,
    object,
    summary: `Revoke On Failure started reading the inventory of "${platform.name}" (${n} device${n === 1 ? "" : "s"} hold certificates)`,
    details: base,
  });
  const started = Date.now();
  const fail = async (reason: string, pages: number, requests: number, budgetExhausted = false): Promise<InventoryPassResult> => {
    const durationMs = Date.now() - started;
    // Tried again soon rather than after a whole recheck interval.
    await ctx.db.corePlatform.update({
      where: { id: platform.id },
      data: { inventoryPassAt: new Date(nowOf(ctx).getTime() - opts.recheckMs + RETRY_FAILED_PASS_MS) },
    });
    await recordEvent(ctx.db, {
      type: EventType.FleetSweepFailed,
      outcome: "failure",
      actor,
      object,
      summary: `Revoke On Failure could not read the whole inventory of "${platform.name}" (${reason}); nothing was revoked, the pass is tried again later`,
      details: { ...base, reason, budgetExhausted, pagesRead: pages, requests, durationMs },
    });
    return {
      corePlatformId: platform.id,
      outcome: "error",
      reason,
      pages,
      requests,
      devicesListed: 0,
      devicesMissing: 0,
      revoked: 0,
      durationMs,
      listMs: durationMs,
    };
  };

  let auth: LookupConfig;
  try {
    auth = lookupConfigFromRecord(platform, ctx.masterKey);
  } catch (e) {
    return fail(`cannot open the Core Platform's secret: ${(e as Error).message}`, 0, 0);
  }
  const inventory = await listInventory(list, auth, {
    allowHttp: ctx.allowHttp,
    http: { ...ctx.lookupHttp, retries: Math.min(ctx.lookupHttp?.retries ?? SWEEP_RETRIES, SWEEP_RETRIES) },
    budget: passBudget(ctx, platform.id, opts),
  });
  // A refused credential alerts the admins; a complete inventory proves the credential works again.
  const refused = inventory.status === 401 || inventory.status === 403;
  if (refused || (inventory.outcome === "complete" && platform.alertSince))
    await notePlatformAnswer(
      ctx.db,
      platform,
      { outcome: refused ? "error" : "found", reason: inventory.reason, status: inventory.status ?? null, refused },
      "a fleet inventory pass got an answer",
    );
  if (inventory.outcome === "error") return fail(inventory.reason, inventory.pages, inventory.requests, !!inventory.budgetExhausted);
  // An empty answer is far likelier a wrong filter or tenant than a fleet that left all at once.
  if (inventory.serials.size === 0) return fail("the inventory lists no device at all", inventory.pages, inventory.requests);

  const listed = new Set([...inventory.serials].map(normalSerial));
  const missing = new Set<string>();
  let revoked = 0;
  for (const source of sources) {
    for (const device of await devicesOf(source)) {
      if (listed.has(normalSerial(device.deviceSerial))) continue;
      missing.add(device.deviceSerial);
      const reason = `not listed in the inventory of ${platform.name}`;
      const certs = await revokeDevice(ctx, source, platform, device, device.deviceSerial, { reason, failedRules: [], status: null, url: null });
      revoked += certs.length;
    }
  }
  const durationMs = Date.now() - started;
  const missingList = [...missing].sort();
  await recordEvent(ctx.db, {
    type: EventType.FleetSweepCompleted,
    outcome: "success",
    actor,
    object,
    summary: `Revoke On Failure read the inventory of "${platform.name}": ${inventory.pages} page${inventory.pages === 1 ? "" : "s"}, ${listed.size} devices listed, ${missing.size} missing, ${revoked} certificate${revoked === 1 ? "" : "s"} revoked`,
    details: {
      ...base,
      pagesRead: inventory.pages,
      requests: inventory.requests,
      durationMs,
      devicesListed: listed.size,
      devicesMissing: missingList.slice(0, MISSING_LISTED),
      devicesMissingCount: missing.size,
      certificatesRevoked: revoked,
    },
  });
  return {
    corePlatformId: platform.id,
    outcome: "complete",
    reason: inventory.reason,
    pages: inventory.pages,
    requests: inventory.requests,
    devicesListed: listed.size,
    devicesMissing: missing.size,
    revoked,
    durationMs,
    listMs: inventory.timeMs,
  };
}

/** The pass's requests come from the Core Platform's per-minute budget; when it is spent, wait for the next minute. */
function passBudget(ctx: LifecycleContext, corePlatformId: string, opts: DeviceSweepOptions & { perMinute: number }): InventoryBudget {
  const deadline = Date.now() + (opts.maxPassMinutes ?? 14) * 60_000;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let window: Date | null = null;
  let asked = 0;
  let need = 0;
  return {
    async take(n) {
      // A retry may then overdraw a tiny budget by a request; the page still has to fit somewhere.
      asked = n;
      need = Math.min(n, opts.perMinute);
      for (;;) {
        window = await reserveLookups(ctx.db, corePlatformId, need, opts.perMinute, nowOf(ctx));
        if (window) return true;
        const wait = 60_000 - (nowOf(ctx).getTime() % 60_000) + 50;
        if (Date.now() + wait > deadline) return false;
        await sleep(wait);
      }
    },
    async giveBack(n) {
      // Refund what was reserved beyond the requests actually sent (asked - n).
      if (window) await refundLookups(ctx.db, corePlatformId, need - (asked - n), window);
    },
  };
}

/** Why a device failed: a lookup's answer, or its absence from a complete inventory. */
interface DeviceFailure {
  reason: string;
  failedRules: string[];
  status: number | null;
  url: string | null;
}

async function revokeDevice(
  ctx: LifecycleContext,
  source: { id: string; name: string; deviceRoleIds: string[] },
  platform: { id: string; name: string },
  device: DeviceRow,
  identity: string,
  failure: DeviceFailure,
): Promise<string[]> {
  const now = nowOf(ctx);
  const certs = await ctx.db.$queryRawUnsafe<{ id: string; serialNumber: string }[]>(
    `SELECT c.id, c."serialNumber" ${CERTS_FROM} ${CERTS_WHERE} AND c."deviceSerial" = $4 ORDER BY c."issuedAt"`,
    platform.id,
    now,
    source.deviceRoleIds,
    device.deviceSerial,
  );
  const why = {
    revokeOnFailure: true,
    signalSource: { id: source.id, name: source.name },
    corePlatform: { id: platform.id, name: platform.name },
    identity,
    failedCheck: failure.reason,
    failedRules: failure.failedRules,
    httpStatus: failure.status,
    url: failure.url,
  };
  await recordEvent(ctx.db, {
    type: EventType.DeviceLookupFailed,
    outcome: "failure",
    actor,
    object: { type: "security-signal-source", id: source.id, name: source.name },
    deviceSerial: device.deviceSerial,
    summary: `Device ${device.deviceSerial} failed its check by "${source.name}" (${platform.name}): ${failure.reason}; Revoke On Failure revokes ${certs.length} certificate${certs.length === 1 ? "" : "s"}`,
    details: { ...why, certificates: certs.map((c) => c.serialNumber) },
  });
  const revoked: string[] = [];
  for (const c of certs) {
    try {
      await revokeCertificate(ctx, actor, c.id, { reason: REASON }, why);
      revoked.push(c.serialNumber);
    } catch (e) {
      if (!(e instanceof DomainError && e.status === 409)) throw e;
    }
  }
  return revoked;
}

async function recordRunProblem(
  ctx: LifecycleContext,
  source: { id: string; name: string },
  platform: { id: string; name: string },
  reason: string,
  details: Record<string, unknown> = {},
) {
  // The sweep runs every minute: an outage or a bad token is reported once an hour, not 60 times.
  // (Event times are the database's clock, so this compares with real time.)
  const recent = await ctx.db.event.findFirst({
    where: { objectId: source.id, type: EventType.DeviceLookupFailed, deviceSerial: null, time: { gte: new Date(Date.now() - 3_600_000) } },
    select: { id: true },
  });
  if (recent) return;
  await recordEvent(ctx.db, {
    type: EventType.DeviceLookupFailed,
    outcome: "failure",
    actor,
    object: { type: "security-signal-source", id: source.id, name: source.name },
    summary: `Revoke On Failure could not check devices through "${source.name}" (${platform.name}): ${reason}`,
    details: { corePlatform: { id: platform.id, name: platform.name }, reason, ...details },
  });
}
