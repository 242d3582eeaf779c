import type { Db } from "@attested/db";

// Failed sign-ins are counted per email and per client address in the database, so every app
// instance sees the same counts. After MAX failures in WINDOW, that key is locked for LOCK.
export const MAX_FAILURES = 5;
const WINDOW_MS = 15 * 60_000;
const LOCK_MS = 15 * 60_000;

export const throttleKeys = (email: string, ip: string | null) =>
  [`email:${email.trim().toLowerCase()}`, ...(ip ? [`ip:${ip}`] : [])];

export async function isLocked(db: Db, keys: string[], now = new Date()): Promise<boolean> {
  const rows = await db.signInThrottle.findMany({ where: { key: { in: keys }, lockedUntil: { gt: now } } });
  return rows.length > 0;
}

export async function recordFailure(db: Db, keys: string[], now = new Date()): Promise<void> {
  for (const key of keys) {
    const row = await db.signInThrottle.findUnique({ where: { key } });
    const fresh = !row || now.getTime() - row.windowStart.getTime() > WINDOW_MS;
    const failures = fresh ? 1 : row.failures + 1;
    // IP keys tolerate more failures: many people may share one address.
    const limit = key.startsWith("ip:") ? MAX_FAILURES * 4 : MAX_FAILURES;
    const data = {
      failures,
      windowStart: fresh ? now : row.windowStart,
      lockedUntil: failures >= limit ? new Date(now.getTime() + LOCK_MS) : null,
    };
    await db.signInThrottle.upsert({ where: { key }, create: { key, ...data }, update: data });
  }
}

export async function clearFailures(db: Db, email: string): Promise<void> {
  await db.signInThrottle.deleteMany({ where: { key: `email:${email.trim().toLowerCase()}` } });
}
