import { existsSync } from "node:fs";
import net from "node:net";
import { describe, expect, it } from "vitest";
import { defaultSqlPoolSize, openDatabase } from "./client";
import { createTestDatabase } from "./testing";
import { isDatabaseUnavailable } from "./unavailable";
import { applyMigrations, pendingMigrations } from "./migrate";

describe("database and migrations", () => {
  it("applies every migration once and reports none pending", async () => {
    const db = await createTestDatabase();
    try {
      expect(await applyMigrations(db.adapter)).toEqual([]);
      const pending = await pendingMigrations((sql) => db.prisma.$queryRawUnsafe(sql));
      expect(pending).toEqual([]);
      await db.prisma.organization.create({ data: { name: "Acme" } });
      expect(await db.prisma.organization.count()).toBe(1);
    } finally {
      await db.close();
    }
  });
});

describe("plain SQL (sqlOf)", () => {
  it("reads timestamps as UTC, takes JSON text and arrays as parameters, and prepares named statements", async () => {
    const db = await createTestDatabase();
    try {
      const at = new Date("2026-01-02T03:04:05.678Z");
      const [row] = await db.sql.query<{ t: Date; j: unknown; a: string[]; n: number }>(
        `SELECT $1::timestamp(3) AS t, $2::jsonb AS j, $3::text[] AS a, $4::int AS n`,
        [at, JSON.stringify({ k: ["v", 1] }), ["x", "y"], 7],
        "db_test_types",
      );
      expect(row).toEqual({ t: at, j: { k: ["v", 1] }, a: ["x", "y"], n: 7 });
      // A named statement runs again (prepared once per connection); unnamed text is fine too.
      expect((await db.sql.query<{ n: number }>(`SELECT $4::int AS n, $1::timestamp(3) AS t, $2::jsonb AS j, $3::text[] AS a`, [at, "{}", [], 8]))[0]!.n).toBe(
        8,
      );
      const again = await db.sql.query<{ t: Date }>(
        `SELECT $1::timestamp(3) AS t, $2::jsonb AS j, $3::text[] AS a, $4::int AS n`,
        [at, "null", [], 1],
        "db_test_types",
      );
      expect(again[0]!.t).toEqual(at);
    } finally {
      await db.close();
    }
  });

  it.skipIf(!process.env.DATABASE_URL || !existsSync("/var/run/postgresql"))("connects over a Unix socket given libpq's ?host=/dir", async () => {
    const base = new URL(process.env.DATABASE_URL!);
    const url = `postgresql://${base.username || "postgres"}@localhost${base.pathname}?host=/var/run/postgresql`;
    const db = await openDatabase({ url, poolSize: 1 });
    try {
      expect(await db.sql.query<{ one: number }>(`SELECT 1::int AS one`)).toEqual([{ one: 1 }]);
    } finally {
      await db.close();
    }
  });
});

describe("isDatabaseUnavailable", () => {
  it("is true for a database that refuses connections or drops them, false for a bad statement", async () => {
    // A port nothing listens on: both clients fail to connect.
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", () => r()));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const down = await openDatabase({ url: `postgresql://postgres@127.0.0.1:${port}/nothing` });
    try {
      const viaPrisma = await down.prisma.organization.count().catch((e: unknown) => e);
      const viaSql = await down.sql.query(`SELECT 1`).catch((e: unknown) => e);
      expect(viaPrisma).toBeInstanceOf(Error);
      expect(viaSql).toBeInstanceOf(Error);
      expect(isDatabaseUnavailable(viaPrisma)).toBe(true);
      expect(isDatabaseUnavailable(viaSql)).toBe(true);
    } finally {
      await down.close();
    }

    const db = await createTestDatabase();
    try {
      const bad = await db.sql.query(`SELEC 1`).catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(Error);
      expect(isDatabaseUnavailable(bad)).toBe(false);
      const dup = await db.prisma.$executeRawUnsafe(`SELECT 1/0`).catch((e: unknown) => e);
      expect(dup).toBeInstanceOf(Error);
      expect(isDatabaseUnavailable(dup)).toBe(false);
      if (db.kind === "postgres") {
        // The server ends the session (what a restart does to every open connection): 57P01.
        const killed = await db.sql.query(`SELECT pg_terminate_backend(pg_backend_pid())`).catch((e: unknown) => e);
        expect(killed).toBeInstanceOf(Error);
        expect(isDatabaseUnavailable(killed)).toBe(true);
        const killedPrisma = await db.prisma.$queryRawUnsafe(`SELECT pg_terminate_backend(pg_backend_pid())`).catch((e: unknown) => e);
        expect(killedPrisma).toBeInstanceOf(Error);
        expect(isDatabaseUnavailable(killedPrisma)).toBe(true);
      }
      expect(isDatabaseUnavailable(new Error("boom"))).toBe(false);
      expect(isDatabaseUnavailable(undefined)).toBe(false);
    } finally {
      await db.close();
    }
  });
});

describe("defaultSqlPoolSize", () => {
  it("is one connection per two cores, at least 1 and at most 4", () => {
    expect([1, 2, 3, 4, 6, 8, 64].map((cores) => defaultSqlPoolSize(cores))).toEqual([1, 1, 1, 2, 3, 4, 4]);
  });
});
