import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { createRequire } from "node:module";
import type { SchemaEngine, MigrationList } from "@prisma/schema-engine-wasm";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { bindMigrationAwareSqlAdapterFactory, type SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { migrationsDir, schemaPath } from "./paths";

// Prisma's native schema engine cannot be downloaded here, so migrations run through the schema
// engine compiled to WebAssembly, talking to the database through the same driver adapter as the app.

const noFilter = { externalTables: [], externalEnums: [] };

export function loadMigrations(dir = migrationsDir()): MigrationList {
  const lockPath = path.join(dir, "migration_lock.toml");
  const dirs = existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort()
    : [];
  return {
    baseDir: dir,
    lockfile: { path: "migration_lock.toml", content: existsSync(lockPath) ? readFileSync(lockPath, "utf8") : null },
    shadowDbInitScript: "",
    migrationDirectories: dirs.map((name) => {
      const file = path.join(dir, name, "migration.sql");
      return {
        path: name,
        migrationFile: {
          path: "migration.sql",
          content: existsSync(file) ? { tag: "ok" as const, value: readFileSync(file, "utf8") } : { tag: "error" as const, value: "missing migration.sql" },
        },
      };
    }),
  };
}

// The package imports its .wasm the bundler way; Node needs it instantiated by hand, once.
let engineClass: Promise<typeof SchemaEngine> | undefined;
function loadEngineClass(): Promise<typeof SchemaEngine> {
  engineClass ??= (async () => {
    const require = createRequire(import.meta.url);
    const pkgDir = path.dirname(require.resolve("@prisma/schema-engine-wasm/schema_engine_bg"));
    const bg = await import(pathToFileURL(path.join(pkgDir, "schema_engine_bg.js")).href);
    const { instance } = await WebAssembly.instantiate(readFileSync(path.join(pkgDir, "schema_engine_bg.wasm")), {
      "./schema_engine_bg.js": bg,
    });
    bg.__wbg_set_wasm(instance.exports);
    (instance.exports as { __wbindgen_start?: () => void }).__wbindgen_start?.();
    return bg.SchemaEngine as typeof SchemaEngine;
  })();
  return engineClass;
}

async function engineFor(adapter: SqlMigrationAwareDriverAdapterFactory): Promise<SchemaEngine> {
  const Engine = await loadEngineClass();
  // The engine expects the factory in Prisma's bound form (results as {ok, value}).
  return Engine.new({ datamodels: undefined }, () => {}, bindMigrationAwareSqlAdapterFactory(adapter));
}

/**
 * Applies pending migrations; returns the names just applied.
 *
 * `oneSession`: every statement of `adapter` runs on one database session (embedded PGlite, or the
 * single connection migrateDatabase opens). Then each migration commits in one transaction with its
 * row in _prisma_migrations. Prisma's engine records a migration as started, runs its script, then
 * records it finished, each a transaction of its own: a process killed in between (kill -9 on the first
 * start) left a started-but-unfinished row, and every later start refused with P3009 "migrate found
 * failed migrations". In one transaction the migration is either applied and recorded, or not begun.
 */
export async function applyMigrations(adapter: SqlMigrationAwareDriverAdapterFactory, { oneSession = false } = {}): Promise<string[]> {
  const engine = await engineFor(adapter);
  try {
    const migrationsList = loadMigrations();
    if (!oneSession) return (await engine.applyMigrations({ migrationsList, filters: noFilter })).appliedMigrationNames;
    const session = await adapter.connect();
    const run = (sql: string) => session.executeRaw({ sql, args: [], argTypes: [] });
    const pending = new Set(await pendingMigrations((sql) => session.queryRaw({ sql, args: [], argTypes: [] }).then(namesOf)));
    const applied: string[] = [];
    const dirs = migrationsList.migrationDirectories;
    for (let i = 0; i < dirs.length; i++) {
      if (!pending.has(dirs[i]!.path)) continue;
      await run("BEGIN");
      try {
        // The list up to this migration: the engine applies it alone (those before it are applied).
        const out = await engine.applyMigrations({ migrationsList: { ...migrationsList, migrationDirectories: dirs.slice(0, i + 1) }, filters: noFilter });
        await run("COMMIT");
        applied.push(...out.appliedMigrationNames);
      } catch (e) {
        await run("ROLLBACK").catch(() => {});
        throw e;
      }
    }
    return applied;
  } finally {
    engine.free();
  }
}

/** migration_name of each row of a driver adapter's result set. */
function namesOf(rs: { columnNames: string[]; rows: unknown[][] }): { migration_name: string }[] {
  const col = rs.columnNames.indexOf("migration_name");
  return rs.rows.map((r) => ({ migration_name: String(r[col]) }));
}

/** How long an instance waits for another one's migrations before it gives up. */
const MIGRATION_WAIT_MS = 10 * 60_000;

// Prisma's engine serializes migrations with a session-level advisory lock and gives up after 10 s.
const lockTimedOut = (e: unknown) => /pg_advisory_lock/.test(String((e as Error)?.message ?? ""));

/**
 * Applies pending migrations as one instance of several would: on PostgreSQL over a connection of its
 * own, closed afterwards, because Prisma's advisory lock belongs to the session that took it (a pooled
 * connection would keep it, and every other instance would wait for it forever). While another
 * instance holds the lock this one waits (`onWait` says so once), then finds nothing left to apply.
 * `postgresUrl` is the database's URL on PostgreSQL (embedded PGlite has one process, its own adapter).
 */
export async function migrateDatabase(
  db: { kind: "postgres" | "pglite"; adapter: SqlMigrationAwareDriverAdapterFactory },
  postgresUrl: string | undefined,
  onWait?: () => void,
): Promise<string[]> {
  if (db.kind === "pglite" || !postgresUrl) return applyMigrations(db.adapter, { oneSession: db.kind === "pglite" });
  const deadline = Date.now() + MIGRATION_WAIT_MS;
  let waiting = false;
  for (;;) {
    const pool = new pg.Pool({ connectionString: postgresUrl, max: 1, connectionTimeoutMillis: 5_000 });
    pool.on("error", () => {});
    try {
      return await applyMigrations(new PrismaPg(pool), { oneSession: true });
    } catch (e) {
      if (!lockTimedOut(e) || Date.now() > deadline) throw e;
      if (!waiting) onWait?.();
      waiting = true;
    } finally {
      await pool.end().catch(() => {});
    }
  }
}

/** Names of migrations on disk that the database has not applied yet (for /readyz). */
export async function pendingMigrations(query: (sql: string) => Promise<{ migration_name: string }[]>): Promise<string[]> {
  const onDisk = loadMigrations().migrationDirectories.map((d) => d.path);
  let applied: string[] = [];
  try {
    const rows = await query(`SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`);
    applied = rows.map((r) => r.migration_name);
  } catch {
    return onDisk;
  }
  return onDisk.filter((m) => !applied.includes(m));
}

/**
 * Creates a migration from the difference between the migrations on disk (replayed in an in-memory
 * PGlite shadow database) and prisma/schema.prisma. Returns the new folder, or null if nothing changed.
 */
export async function createMigration(name: string): Promise<string | null> {
  const dir = migrationsDir();
  mkdirSync(dir, { recursive: true });
  const lock = path.join(dir, "migration_lock.toml");
  if (!existsSync(lock)) writeFileSync(lock, 'provider = "postgresql"\n');
  const shadowHost = new PGlite("memory://");
  const adapter = new PrismaPGlite(shadowHost) as unknown as SqlMigrationAwareDriverAdapterFactory;
  const engine = await engineFor(adapter);
  try {
    const schema = { files: [{ path: schemaPath(), content: readFileSync(schemaPath(), "utf8") }] };
    const diff = await engine.diff({
      from: { tag: "migrations", ...loadMigrations(dir) },
      to: { tag: "schemaDatamodel", ...schema },
      script: true,
      exitCode: null,
      filters: noFilter,
    });
    const sql = (diff.stdout ?? "").trim();
    if (!sql || /^-- This is an empty migration\.?$/.test(sql)) return null;
    const stamp = new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14);
    const folder = path.join(dir, `${stamp}_${name.replace(/[^a-z0-9_]+/gi, "_").toLowerCase()}`);
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, "migration.sql"), `${sql}\n`);
    return folder;
  } finally {
    engine.free();
    await shadowHost.close();
  }
}
