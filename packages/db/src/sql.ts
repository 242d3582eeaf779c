import type { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import type { PrismaClient } from "./generated/prisma/client";

// Plain SQL beside Prisma, on the same connections, for the enrollment path (the ACME store, its events,
// the issued certificate) where the ORM's per-query CPU costs more than the query itself. One statement per call: anything that must be
// atomic is written as a single statement (CTEs), so no transaction API is needed.

export interface Sql {
  /**
   * The rows of one parameterized statement ($1, $2, ...). `name` makes it a prepared statement on
   * PostgreSQL (parsed and planned once per connection); use it only for constant text.
   */
  query<T = Record<string, unknown>>(text: string, params?: unknown[], name?: string): Promise<T[]>;
}

// Columns are `timestamp(3)` without zone holding UTC (Prisma's DateTime). Read them as UTC whatever the
// process's zone; write them with toISOString() (PostgreSQL ignores the zone suffix for such columns).
const TIMESTAMP = 1114;
const TIMESTAMPTZ = 1184;
const parseUtc = (s: string) => new Date(s.replace(" ", "T") + "Z");
const parseTz = (s: string) => new Date(s);

export function sqlOverPool(pool: pg.Pool): Sql {
  // Per query, so the Prisma adapter sharing the pool keeps its own parsing.
  const types = {
    getTypeParser: (oid: number, format?: "text" | "binary") =>
      oid === TIMESTAMP ? parseUtc : oid === TIMESTAMPTZ ? parseTz : pg.types.getTypeParser(oid, format ?? "text"),
  };
  return {
    async query<T>(text: string, params: unknown[] = [], name?: string) {
      const r = await pool.query({ text, values: params.map(toParam), types: types as never, ...(name ? { name } : {}) });
      return r.rows as T[];
    },
  };
}

export function sqlOverPglite(db: PGlite): Sql {
  const parsers = { [TIMESTAMP]: parseUtc, [TIMESTAMPTZ]: parseTz };
  return {
    async query<T>(text: string, params: unknown[] = []) {
      const r = await db.query<T>(text, params.map(toParam), { parsers });
      return r.rows;
    },
  };
}

const toParam = (v: unknown) => (v instanceof Date ? v.toISOString() : v);

// The Sql of each open database, found from its Prisma client (what most code is handed). On globalThis:
// the server opens the database with its copy of this module, Next.js's bundle has another.
const handles = ((globalThis as Record<symbol, unknown>)[Symbol.for("attested.sqlHandles")] ??= new WeakMap()) as WeakMap<PrismaClient, Sql>;

export function registerSql(prisma: PrismaClient, sql: Sql): void {
  handles.set(prisma, sql);
}

/** Plain SQL on the same database as `prisma` (opened by openDatabase). */
export function sqlOf(prisma: PrismaClient): Sql {
  const s = handles.get(prisma);
  if (!s) throw new Error("this Prisma client was not opened by openDatabase(): no SQL handle");
  return s;
}
