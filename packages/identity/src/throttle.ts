import type { Db } from "@attested/db";

// Failed sign-ins are counted in the database, so every instance sees the same counts, under two keys:
// - the (email, client address) pair: after FREE_FAILURES, each failure makes that pair wait twice as
//   long (5 s, 10 s, 20 s … up to 15 minutes). Only that address waits: a stranger elsewhere cannot lock
//   the owner of the email out.
// - the client address alone: ADDRESS_LIMIT failures in 15 minutes, whatever the emails, lock the
//   address for 15 minutes, so one address cannot spray passwords over many emails.
export const FREE_FAILURES = 3;
export const ADDRESS_LIMIT = 20;
const MAX_DELAY_MS = 15 * 60_000;
const PAIR_WINDOW_MS = 24 * 60 * 60_000;
const ADDRESS_WINDOW_MS = 15 * 60_000;

const normalize = (email: string) => email.trim().toLowerCase();
// A newline never appears in a stored email, so a pair key cannot be forged to match another's prefix.
const pairPrefix = (email: string) => `pair:${normalize(email)}\n`;

export const throttleKeys = (email: string, ip: string | null) => [pairPrefix(email) + (ip ?? "-"), ...(ip ? [`ip:${ip}`] : [])];

export async function isLocked(db: Db, keys: string[], now = new Date()): Promise<boolean> {
  const rows = await db.signInThrottle.findMany({ where: { key: { in: keys }, lockedUntil: { gt: now } } });
  return rows.length > 0;
}

export async function recordFailure(db: Db, keys: string[], now = new Date()): Promise<void> {
  for (const key of keys) {
    const address = key.startsWith("ip:");
    const row = await db.signInThrottle.findUnique({ where: { key } });
    const fresh = !row || now.getTime() - row.windowStart.getTime() > (address ? ADDRESS_WINDOW_MS : PAIR_WINDOW_MS);
    const failures = fresh ? 1 : row.failures + 1;
    const delay = address
      ? failures >= ADDRESS_LIMIT ? ADDRESS_WINDOW_MS : 0
      : failures > FREE_FAILURES ? Math.min(5000 * 2 ** (failures - FREE_FAILURES - 1), MAX_DELAY_MS) : 0;
    const data = { failures, windowStart: fresh ? now : row.windowStart, lockedUntil: delay ? new Date(now.getTime() + delay) : null };
    await db.signInThrottle.upsert({ where: { key }, create: { key, ...data }, update: data });
  }
}

/** After a successful sign-in: that pair starts over. */
export async function clearFailures(db: Db, email: string, ip: string | null): Promise<void> {
  await db.signInThrottle.deleteMany({ where: { key: throttleKeys(email, ip)[0] } });
}

/** After a password reset: every pair of that email starts over. */
export async function clearAllFailures(db: Db, email: string): Promise<void> {
  await db.signInThrottle.deleteMany({ where: { key: { startsWith: pairPrefix(email) } } });
}
