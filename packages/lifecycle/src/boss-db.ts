import type { Database } from "@attested/db";

// pg-boss talks to the database through `executeSql(text, values)`. We hand it the connection the
// app already has, so the jobs work on both of our databases:
// - PostgreSQL: the pg.Pool under the Prisma driver adapter (pg-boss's own driver is pg too);
// - embedded PGlite (one in-process Postgres 17): its client directly. PGlite runs pg-boss's SQL
//   as is (FOR UPDATE SKIP LOCKED, advisory locks, partitioned tables, plpgsql); scripts of several
//   statements (pg-boss's install and migrations) go through exec(), as pg's simple protocol would.
//   PGlite queues every query behind an open transaction, so a job never interleaves with Prisma's.

export interface BossDb {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
  close(): Promise<void>;
}

interface PgPoolLike {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] } | { rows: unknown[] }[]>;
}
interface PgliteLike {
  query(text: string, values?: unknown[], opts?: { parsers?: Record<number, (v: string) => unknown> }): Promise<{ rows: unknown[] }>;
  exec(text: string, opts?: { parsers?: Record<number, (v: string) => unknown> }): Promise<{ rows: unknown[] }[]>;
}

// pg returns bigint (int8) as text; pg-boss expects that, so PGlite must not turn it into a number.
const INT8 = 20;
const pgliteParsers = { [INT8]: (v: string) => v };

export async function bossDatabase(db: Database): Promise<BossDb> {
  if (db.kind === "pglite") {
    const client = (db.adapter as unknown as { client?: PgliteLike }).client;
    if (!client?.exec) throw new Error("the PGlite client is not reachable from the driver adapter");
    return {
      async executeSql(text, values) {
        if (values?.length) return client.query(text, values, { parsers: pgliteParsers });
        try {
          const results = await client.exec(text, { parsers: pgliteParsers });
          return results.at(-1) ?? { rows: [] };
        } catch (e) {
          // A failed script must not leave the single shared session inside an aborted transaction.
          await client.exec("ROLLBACK").catch(() => {});
          throw e;
        }
      },
      close: async () => {},
    };
  }
  const conn = await db.adapter.connect();
  const pool = (conn as unknown as { underlyingDriver?: () => PgPoolLike }).underlyingDriver?.();
  if (!pool?.query) throw new Error("the pg pool is not reachable from the driver adapter");
  return {
    async executeSql(text, values) {
      const r = await pool.query(text, values);
      return Array.isArray(r) ? (r.at(-1) ?? { rows: [] }) : r;
    },
    close: () => conn.dispose(),
  };
}
