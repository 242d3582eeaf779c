import os from "node:os";
import path from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPGlite } from "pglite-prisma-adapter";
import type { SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { PrismaClient } from "./generated/prisma/client";
import { dataDir, ensurePrivateDir } from "./paths";
import { registerSql, sqlOverPglite, sqlOverPostgres, type Sql } from "./sql";

export type Db = PrismaClient;

export interface Database {
  prisma: PrismaClient;
  /** The driver adapter factory, also used by the migration runner. */
  adapter: SqlMigrationAwareDriverAdapterFactory;
  kind: "postgres" | "pglite";
  /** Plain SQL on the same database (see sql.ts). */
  sql: Sql;
  /**
   * Embedded PGlite only: a consistent copy of the database files (gzipped tar), made between two
   * statements. What `npm run admin -- backup` writes.
   */
  dump?: () => Promise<Uint8Array>;
  close(): Promise<void>;
}

/**
 * Connections for the plain SQL of the enrollment path: one per two cores, 1 to 4. Its statements are
 * pipelined, and the fewer the connections the more of them travel together: on a 2-core VM, 1
 * connection instead of 4 cost PostgreSQL about 2 ms less CPU per enrollment (4.8 against 6.9 ms,
 * median of interleaved runs).
 */
export function defaultSqlPoolSize(cores = os.availableParallelism()): number {
  return Math.max(1, Math.min(4, Math.floor(cores / 2)));
}

/**
 * Opens the database: PostgreSQL when a URL is given (DATABASE_URL), else embedded PGlite persisted
 * under the data folder. Both run the same migrations.
 */
export async function openDatabase(opts: { url?: string; pgliteDir?: string; poolSize?: number } = {}): Promise<Database> {
  const url = opts.url ?? process.env.DATABASE_URL;
  if (url) {
    // Prisma's pool, and a few pipelined connections for the plain SQL of the enrollment path.
    const pool = new pg.Pool({
      connectionString: url,
      max: opts.poolSize ?? Number(process.env.DATABASE_POOL_SIZE ?? 10),
      connectionTimeoutMillis: 5_000,
    });
    // An idle connection dropped by the server (restart) must not crash the process; the pool replaces it.
    pool.on("error", () => {});
    const adapter = new PrismaPg(pool);
    const prisma = new PrismaClient({ adapter });
    const sql = sqlOverPostgres(url, Number(process.env.DATABASE_SQL_POOL_SIZE ?? defaultSqlPoolSize()));
    registerSql(prisma, sql);
    return {
      prisma,
      adapter,
      kind: "postgres",
      sql,
      close: async () => {
        await prisma.$disconnect();
        await sql.end().catch(() => {});
        await pool.end().catch(() => {});
      },
    };
  }
  const dir = opts.pgliteDir ?? path.join(dataDir(), "pglite");
  if (!dir.startsWith("memory://")) ensurePrivateDir(dir);
  const pglite = new PGlite(dir);
  await pglite.waitReady;
  const adapter = new PrismaPGlite(pglite) as unknown as SqlMigrationAwareDriverAdapterFactory;
  const prisma = new PrismaClient({ adapter });
  const sql = sqlOverPglite(pglite);
  registerSql(prisma, sql);
  return {
    prisma,
    adapter,
    kind: "pglite",
    sql,
    dump: async () => new Uint8Array(await (await pglite.dumpDataDir("gzip")).arrayBuffer()),
    close: async () => {
      await prisma.$disconnect();
      await pglite.close();
    },
  };
}
