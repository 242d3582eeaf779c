import type { Database } from "@attested/db";
import { pendingMigrations } from "@attested/db/migrate";

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms))]);

/** Ready when the database answers and every migration on disk is applied. */
export async function readiness(db: Database): Promise<{ ready: boolean; database: string; pendingMigrations?: string[]; error?: string }> {
  try {
    const pending = await withTimeout(
      pendingMigrations((sql) => db.prisma.$queryRawUnsafe(sql)),
      3000,
    );
    await withTimeout(db.prisma.$queryRawUnsafe("SELECT 1"), 3000);
    return pending.length ? { ready: false, database: "reachable", pendingMigrations: pending } : { ready: true, database: "reachable" };
  } catch (e) {
    return { ready: false, database: "unreachable", error: e instanceof Error ? e.message.split("\n")[0].slice(0, 200) : "error" };
  }
}
