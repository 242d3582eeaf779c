import type { Db } from "@attested/db";
import ipaddr from "ipaddr.js";

// Sign-in attempts are counted in the database, so every instance sees the same counts, under three
// keys. An attempt is counted before its password is checked, under a row lock, so a burst of parallel
// attempts is counted one by one and refused as soon as a key is locked; a successful one is handed back.
// - the (email, client address) pair: after FREE_FAILURES, each attempt makes that pair wait twice as
//   long (5 s, 10 s, 20 s … up to 15 minutes). Only that address waits: a stranger elsewhere cannot lock
//   the owner of the email out.
// - the client address alone: ADDRESS_LIMIT attempts in 15 minutes, whatever the emails, lock the
//   address for 15 minutes, so one address cannot spray passwords over many emails. An IPv6 client
//   counts by its /64, the block one subscriber gets.
// - the email alone, over every address: past EMAIL_LIMIT attempts in an hour, the email takes one
//   attempt per EMAIL_DELAY_MS from anywhere, so many addresses together cannot guess at full speed.
//   Addresses the user signed in from before (for 30 days) are not slowed by it, so an attack does not
//   lock the owner out of their usual places.
export const FREE_FAILURES = 3;
export const ADDRESS_LIMIT = 20;
export const EMAIL_LIMIT = 50;
export const EMAIL_DELAY_MS = 30_000;
const MAX_DELAY_MS = 15 * 60_000;
const KNOWN_ADDRESS_MS = 30 * 24 * 3600_000;

interface Rule {
  windowMs: number;
  /** How long the key is locked once it has counted `attempts` attempts in its window. */
  delayMs(attempts: number): number;
}
const RULES: Record<"pair" | "ip" | "email", Rule> = {
  pair: { windowMs: 24 * 3600_000, delayMs: (n) => (n > FREE_FAILURES ? Math.min(5000 * 2 ** (n - FREE_FAILURES - 1), MAX_DELAY_MS) : 0) },
  ip: { windowMs: 15 * 60_000, delayMs: (n) => (n >= ADDRESS_LIMIT ? 15 * 60_000 : 0) },
  email: { windowMs: 3600_000, delayMs: (n) => (n > EMAIL_LIMIT ? EMAIL_DELAY_MS : 0) },
};
const ruleOf = (key: string) => RULES[key.slice(0, key.indexOf(":")) as keyof typeof RULES];

const normalize = (email: string) => email.trim().toLowerCase();
// A newline never appears in a stored email, so a pair key cannot be forged to match another's prefix.
const pairPrefix = (email: string) => `pair:${normalize(email)}\n`;

/** The client as the throttle counts it: an IPv4 address, or an IPv6 address's /64. */
export function addressBucket(ip: string): string {
  if (!ipaddr.isValid(ip)) return ip;
  const addr = ipaddr.process(ip); // IPv4-mapped IPv6 counts as its IPv4 address
  if (addr.kind() === "ipv4") return addr.toString();
  return `${(addr as ipaddr.IPv6).parts
    .slice(0, 4)
    .map((p) => p.toString(16))
    .join(":")}::/64`;
}

export interface ThrottleKeys {
  pair: string;
  address: string | null;
  email: string;
  /** Present while the user has signed in from this address in the last 30 days. */
  known: string;
}

export function throttleKeys(email: string, ip: string | null): ThrottleKeys {
  const bucket = ip ? addressBucket(ip) : "-";
  return {
    pair: pairPrefix(email) + bucket,
    address: ip ? `ip:${bucket}` : null,
    email: `email:${normalize(email)}`,
    known: `known:${normalize(email)}\n${bucket}`,
  };
}

/**
 * Counts one attempt under each key before its password is checked. Returns false, counting nothing,
 * when any key is locked. The rows are locked in one order, so parallel attempts queue here.
 */
export async function claimAttempt(db: Db, keys: ThrottleKeys, now = new Date()): Promise<boolean> {
  const known = await db.signInThrottle.findUnique({ where: { key: keys.known }, select: { windowStart: true } });
  const recentlyKnown = known && now.getTime() - known.windowStart.getTime() < KNOWN_ADDRESS_MS;
  const counted = [keys.pair, keys.address, recentlyKnown ? null : keys.email].filter((k): k is string => k !== null).sort();
  return db.$transaction(async (tx) => {
    for (const key of counted)
      await tx.$executeRaw`INSERT INTO "SignInThrottle" ("key", "failures", "windowStart") VALUES (${key}, 0, ${now}) ON CONFLICT ("key") DO NOTHING`;
    const rows = await tx.$queryRaw<{ key: string; failures: number; windowStart: Date; lockedUntil: Date | null }[]>`
      SELECT "key", "failures", "windowStart", "lockedUntil" FROM "SignInThrottle" WHERE "key" = ANY(${counted}) ORDER BY "key" FOR UPDATE`;
    if (rows.some((r) => r.lockedUntil && r.lockedUntil > now)) return false;
    for (const row of rows) {
      const rule = ruleOf(row.key);
      const fresh = now.getTime() - row.windowStart.getTime() > rule.windowMs;
      const attempts = fresh ? 1 : row.failures + 1;
      const delay = rule.delayMs(attempts);
      await tx.signInThrottle.update({
        where: { key: row.key },
        data: { failures: attempts, windowStart: fresh ? now : row.windowStart, lockedUntil: delay ? new Date(now.getTime() + delay) : null },
      });
    }
    return true;
  });
}

/** After a successful sign-in: that pair starts over, the attempt is handed back, and the address is known. */
export async function signedIn(db: Db, keys: ThrottleKeys, now = new Date()): Promise<void> {
  await db.$transaction([
    db.signInThrottle.deleteMany({ where: { key: keys.pair } }),
    db.signInThrottle.updateMany({ where: { key: { in: [keys.address ?? "", keys.email] }, failures: { gt: 0 } }, data: { failures: { decrement: 1 } } }),
    db.signInThrottle.upsert({ where: { key: keys.known }, create: { key: keys.known, windowStart: now }, update: { windowStart: now } }),
  ]);
}

/** After a password reset: every pair of that email starts over. */
export async function clearAllFailures(db: Db, email: string): Promise<void> {
  await db.signInThrottle.deleteMany({ where: { key: { startsWith: pairPrefix(email) } } });
}
