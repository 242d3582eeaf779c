import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";

// Backups of the embedded database: PGlite's own dump of its files (a gzipped tar, made between two
// statements, so it is what a crash at that moment would have left: every committed transaction and
// nothing else), restored into an empty data folder after the caller has checked it (the master key).

/** Why `archive` is not a backup of the embedded database, or null when it looks like one. */
export function backupProblem(archive: Uint8Array): string | null {
  // gzip magic; PGlite's dump is a gzipped tar.
  return archive.length > 18 && archive[0] === 0x1f && archive[1] === 0x8b
    ? null
    : "not a backup made by `npm run admin -- backup` (expected a gzipped PGlite dump)";
}

/** A read-only look into a backup, in memory, before anything is written. */
export async function openBackup<T>(archive: Uint8Array, read: (query: <R>(sql: string) => Promise<R[]>) => Promise<T>): Promise<T> {
  const problem = backupProblem(archive);
  if (problem) throw new Error(problem);
  const db = new PGlite("memory://", { loadDataDir: new Blob([new Uint8Array(archive)]) });
  try {
    await db.waitReady;
    return await read(async <R>(sql: string) => (await db.query<R>(sql)).rows);
  } finally {
    await db.close();
  }
}

/** Whether `dir` holds no embedded database yet (a restore never overwrites one). */
export function isEmptyDatabaseDir(dir: string): boolean {
  return !existsSync(dir) || readdirSync(dir).length === 0;
}

/** Writes the backup's database files into `dir` (which must be empty) and checks they open. */
export async function restoreBackup(archive: Uint8Array, dir: string): Promise<void> {
  if (!isEmptyDatabaseDir(dir)) throw new Error(`${dir} already holds a database: restore into an empty data folder`);
  const db = new PGlite(path.resolve(dir), { loadDataDir: new Blob([new Uint8Array(archive)]) });
  await db.waitReady;
  await db.query("SELECT 1");
  await db.close();
}
