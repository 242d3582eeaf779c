import { revokeCertificate } from "@attested/ca";
import { storableText } from "@attested/db";
import { EventType, recordEvent, systemActor } from "@attested/events";
import { lookupConfigFromRecord, lookupDevice, type LookupConfig, type LookupResult } from "@attested/integrations";
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
}

export interface DeviceSweepResult {
  checked: number;
  found: number;
  failed: { deviceSerial: string; signalSourceId: string; reason: string; revoked: string[] }[];
  errors: { deviceSerial: string; signalSourceId: string; reason: string }[];
  /** Signal sources whose run stopped early because this minute's budget was used up. */
  budgetExhausted: string[];
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
  const result: DeviceSweepResult = { checked: 0, found: 0, failed: [], errors: [], budgetExhausted: [] };
  const sources = await ctx.db.securitySignalSource.findMany({
    where: { revokeOnFailure: true, lookupPurpose: "certificate-issuance", corePlatformId: { not: null } },
    include: { corePlatform: true },
    orderBy: { createdAt: "asc" },
  });
  const started = nowOf(ctx);
  await purgeOldBudgets(ctx.db, started);

  for (const source of sources) {
    const platform = source.corePlatform!;
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
      const revoked = await revokeDevice(ctx, source, platform, device, identity, lookup);
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
  return result;
}

const failedChecks = (lookup: LookupResult) => lookup.rules.filter((r) => !r.passed).map((r) => r.message);

async function revokeDevice(
  ctx: LifecycleContext,
  source: { id: string; name: string; deviceRoleIds: string[] },
  platform: { id: string; name: string },
  device: DeviceRow,
  identity: string,
  lookup: LookupResult,
): Promise<string[]> {
  const now = nowOf(ctx);
  const certs = await ctx.db.$queryRawUnsafe<{ id: string; serialNumber: string }[]>(
    `SELECT c.id, c."serialNumber" ${CERTS_FROM} ${CERTS_WHERE} AND c."deviceSerial" = $4 ORDER BY c."issuedAt"`,
    platform.id,
    now,
    source.deviceRoleIds,
    device.deviceSerial,
  );
  const check = failedChecks(lookup);
  const why = {
    revokeOnFailure: true,
    signalSource: { id: source.id, name: source.name },
    corePlatform: { id: platform.id, name: platform.name },
    identity,
    failedCheck: lookup.reason,
    failedRules: check,
    httpStatus: lookup.status ?? null,
    url: lookup.url ?? null,
  };
  await recordEvent(ctx.db, {
    type: EventType.DeviceLookupFailed,
    outcome: "failure",
    actor,
    object: { type: "security-signal-source", id: source.id, name: source.name },
    deviceSerial: device.deviceSerial,
    summary: `Device ${device.deviceSerial} failed its check by "${source.name}" (${platform.name}): ${lookup.reason}; Revoke On Failure revokes ${certs.length} certificate${certs.length === 1 ? "" : "s"}`,
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
