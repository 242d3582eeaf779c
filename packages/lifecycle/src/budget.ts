import type { Db } from "@attested/db";

// A request budget per Core Platform and minute, kept in the database so that every app instance
// draws from the same one. Kandji allows 10,000 requests an hour per tenant; background sweeps take
// LIFECYCLE_LOOKUPS_PER_HOUR (default 4,000) of them, spread evenly over the minutes, which leaves
// the rest for enrollments. Any rolling hour touches at most 61 one-minute windows, so the share per
// minute is the hourly figure divided by 61: the sweeps never exceed it in any hour.

export const DEFAULT_LOOKUPS_PER_HOUR = 4_000;
export const KANDJI_REQUESTS_PER_HOUR = 10_000;

export function lookupsPerMinute(perHour = DEFAULT_LOOKUPS_PER_HOUR): number {
  return Math.max(1, Math.floor((Number.isFinite(perHour) && perHour > 0 ? perHour : DEFAULT_LOOKUPS_PER_HOUR) / 61));
}

const minuteOf = (now: Date) => new Date(Math.floor(now.getTime() / 60_000) * 60_000);

/** Takes `n` requests from this minute's budget: the window taken from, or null when they do not fit. */
export async function reserveLookups(db: Db, corePlatformId: string, n: number, perMinute: number, now: Date): Promise<Date | null> {
  const windowStart = minuteOf(now);
  await db.$executeRawUnsafe(
    `INSERT INTO "LookupBudget" ("corePlatformId", "windowStart", used) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING`,
    corePlatformId,
    windowStart,
  );
  const taken = await db.$executeRawUnsafe(
    `UPDATE "LookupBudget" SET used = used + $3 WHERE "corePlatformId" = $1 AND "windowStart" = $2 AND used + $3 <= $4`,
    corePlatformId,
    windowStart,
    n,
    perMinute,
  );
  return taken === 1 ? windowStart : null;
}

/** Gives back requests reserved but not sent (a lookup that needed no retry). */
export async function refundLookups(db: Db, corePlatformId: string, n: number, windowStart: Date): Promise<void> {
  if (n <= 0) return;
  await db.$executeRawUnsafe(
    `UPDATE "LookupBudget" SET used = GREATEST(0, used - $3) WHERE "corePlatformId" = $1 AND "windowStart" = $2`,
    corePlatformId,
    windowStart,
    n,
  );
}

/** Requests counted in the rolling hour before `now` (for tests and the jobs page). */
export async function lookupsInLastHour(db: Db, corePlatformId: string, now: Date): Promise<number> {
  const [row] = await db.$queryRawUnsafe<{ n: bigint | number | null }[]>(
    `SELECT COALESCE(SUM(used), 0)::int AS n FROM "LookupBudget" WHERE "corePlatformId" = $1 AND "windowStart" > $2 AND "windowStart" <= $3`,
    corePlatformId,
    new Date(now.getTime() - 3_600_000),
    now,
  );
  return Number(row?.n ?? 0);
}

export async function purgeOldBudgets(db: Db, now: Date): Promise<void> {
  await db.lookupBudget.deleteMany({ where: { windowStart: { lt: new Date(now.getTime() - 86_400_000) } } });
}
