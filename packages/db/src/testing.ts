import { randomBytes } from "node:crypto";
import net from "node:net";
import pg from "pg";
import { openDatabase, type Database } from "./client";
import { applyMigrations } from "./migrate";

/** A new, empty database on the server of `base` (a PostgreSQL URL); `drop` removes it. */
export async function createPostgresDatabase(base: string, prefix = "t"): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

/**
 * A TCP relay to the PostgreSQL server of `databaseUrl` that a test can cut (as an outage does: every
 * connection drops, new ones are refused) and restore. `url` is `databaseUrl` through the relay.
 */
export async function postgresRelay(databaseUrl: string): Promise<{ url: string; cut: () => Promise<void>; restore: () => Promise<void> }> {
  const target = new URL(databaseUrl);
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  const restore = () =>
    new Promise<void>((resolve) => {
      server = net.createServer((client) => {
        const upstream = net.connect(Number(target.port || 5432), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on("close", () => sockets.delete(s));
          s.on("error", () => s.destroy());
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, "127.0.0.1", () => {
        port = (server!.address() as net.AddressInfo).port;
        resolve();
      });
    });
  const cut = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      if (!server?.listening) return resolve();
      server.close(() => resolve());
    });
  await restore();
  const url = new URL(databaseUrl);
  url.host = `127.0.0.1:${port}`;
  return { url: url.toString(), cut, restore };
}

/**
 * A fresh, migrated database for one test file: a new database on the server named by DATABASE_URL
 * (dropped on close), or an in-memory PGlite when DATABASE_URL is unset.
 */
export async function createTestDatabase(): Promise<Database & { url?: string }> {
  const base = process.env.DATABASE_URL;
  if (!base) {
    const db = await openDatabase({ url: undefined, pgliteDir: "memory://" });
    await applyMigrations(db.adapter);
    return db;
  }
  const fresh = await createPostgresDatabase(base);
  const db = await openDatabase({ url: fresh.url, poolSize: 5 });
  await applyMigrations(db.adapter);
  return {
    ...db,
    url: fresh.url,
    close: async () => {
      await db.close();
      await fresh.drop();
    },
  };
}
