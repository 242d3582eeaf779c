import os from "node:os";
import path from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPGlite } from "pglite-prisma-adapter";
import type { SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { PrismaClient } from "./generated/prisma/client";
import { ConfigCache } from "./config-cache";
import { InvalidationBus } from "./invalidation";
import { dataDir, ensurePrivateDir } from "./paths";
import { sqlOverPglite, sqlOverPostgres, type Sql } from "./sql";

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
  /** Where changes to what is cached from this database are announced (see invalidation.ts). */
  bus: InvalidationBus;
  /** Configuration rows read on every enrollment (see config-cache.ts). */
  configCache: ConfigCache;
  /** The lifecycle worker of this process listens here for "run that queue now" (see lifecycle's registry.ts). */
  jobs: { nudge: ((queue: string) => void) | null };
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL URL; embedded PGlite when unset. */
  url?: string;
  /** PGlite's folder ("memory://" for tests); by default under the data folder. */
  pgliteDir?: string;
  /** Connections of Prisma's pool (DATABASE_POOL_SIZE). */
  poolSize?: number;
  /** Connections for the plain SQL of the enrollment path (DATABASE_SQL_POOL_SIZE). */
  sqlPoolSize?: number;
  /** The process's invalidation bus; a bus of its own by default. */
  bus?: InvalidationBus;
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

export const DEFAULT_POOL_SIZE = 10;

// Code handed only a Prisma client (or one of its transaction clients, which read through to it) finds
// the Database it belongs to, for its plain SQL and its configuration cache. A property of the client
// object itself, under a registered symbol: the server's modules and Next.js's bundled copy of this one
// are handed the same client, so both find the same Database.
const DATABASE = Symbol.for("attested.database");

function attach(database: Database): Database {
  Object.defineProperty(database.prisma, DATABASE, { value: database });
  Object.defineProperty(database.sql, DATABASE, { value: database });
  return database;
}

/** The Database `handle` (its Prisma client, a transaction client of it, its Sql) belongs to. */
export function databaseOf(handle: object): Database {
  const d = (handle as { [DATABASE]?: Database })[DATABASE];
  if (!d) throw new Error("this Prisma client was not opened by openDatabase()");
  return d;
}

/**
 * Opens the database: PostgreSQL when a URL is given (DATABASE_URL), else embedded PGlite persisted
 * under the data folder. Both run the same migrations.
 */
export async function openDatabase(opts: DatabaseOptions = {}): Promise<Database> {
  const bus = opts.bus ?? new InvalidationBus();
  const configCache = new ConfigCache(bus);
  if (opts.url) {
    // Prisma's pool, and a few pipelined connections for the plain SQL of the enrollment path.
    const pool = new pg.Pool({ connectionString: opts.url, max: opts.poolSize ?? DEFAULT_POOL_SIZE, connectionTimeoutMillis: 5_000 });
    // An idle connection dropped by the server (restart) must not crash the process; the pool replaces it.
    pool.on("error", () => {});
    const adapter = new PrismaPg(pool);
    const prisma = new PrismaClient({ adapter });
    const sql = sqlOverPostgres(opts.url, opts.sqlPoolSize ?? defaultSqlPoolSize());
    return attach({
      prisma,
      adapter,
      kind: "postgres",
      sql,
      bus,
      configCache,
      jobs: { nudge: null },
      close: async () => {
        await prisma.$disconnect();
        await sql.end().catch(() => {});
        await pool.end().catch(() => {});
      },
    });
  }
  const dir = opts.pgliteDir ?? path.join(dataDir(), "pglite");
  if (!dir.startsWith("memory://")) ensurePrivateDir(dir);
  const pglite = new PGlite(dir);
  await pglite.waitReady;
  const adapter = new PrismaPGlite(pglite) as unknown as SqlMigrationAwareDriverAdapterFactory;
  const prisma = new PrismaClient({ adapter });
  return attach({
    prisma,
    adapter,
    kind: "pglite",
    sql: sqlOverPglite(pglite),
    dump: async () => new Uint8Array(await (await pglite.dumpDataDir("gzip")).arrayBuffer()),
    bus,
    configCache,
    jobs: { nudge: null },
    close: async () => {
      await prisma.$disconnect();
      await pglite.close();
    },
  });
}

/** Plain SQL on the same database as `prisma` (opened by openDatabase). */
export const sqlOf = (prisma: object): Sql => databaseOf(prisma).sql;

/** `load()`'s result, cached in the configuration cache of `db`'s database (see config-cache.ts). */
export const cachedConfig = <T>(db: object, key: string, load: () => Promise<T>, now?: number): Promise<T> => databaseOf(db).configCache.get(key, load, now);

/** After a configuration change made through `db` (a client or transaction client): cached configuration goes, on the whole host. */
export const forgetCachedConfig = (db: object): void => databaseOf(db).configCache.forget();

/** Announces an invalidation on the bus of `db`'s database (this process and its siblings). */
export const invalidate = (db: object, i: import("./invalidation").Invalidation): void => databaseOf(db).bus.publish(i);
