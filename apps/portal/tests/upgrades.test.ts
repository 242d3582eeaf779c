import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { adminCli, freePort, freshPostgres, spawnPortal, tempDir } from "./harness";

// An upgrade with several instances: they start together on one PostgreSQL with migrations pending.
// One applies them under the migration lock, the other waits for it, then both serve; nothing is
// applied twice or left half-applied, and the admin CLI can migrate next to a running instance.
describe.skipIf(!process.env.DATABASE_URL)("several instances starting at once with pending migrations", () => {
  const stops: (() => void)[] = [];
  afterAll(() => {
    for (const stop of stops) stop();
  });

  async function ready(url: string, output: () => string, exited: () => boolean, ms = 90_000) {
    const deadline = Date.now() + ms;
    for (;;) {
      if (exited()) throw new Error(`instance exited: ${output().slice(-3000)}`);
      try {
        const r = await fetch(`${url}/readyz`);
        if (r.status === 200) return;
      } catch {}
      if (Date.now() > deadline) throw new Error(`instance not ready after ${ms} ms: ${output().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  it("one applies the migrations, the other waits and then serves; each migration is applied once", async () => {
    const fresh = await freshPostgres();
    try {
      const common = { DATABASE_URL: fresh.url, ADMIN_EMAIL: "upgrade@example.com", ADMIN_PASSWORD: "upgrade-admin-pass-38" };
      // Both instances share the master key, as instances of one deployment do.
      const dataA = tempDir();
      const dataB = tempDir();
      const key = "ab".repeat(32);
      const instances = await Promise.all(
        [dataA, dataB].map(async (dir) => {
          const port = await freePort();
          const url = `http://127.0.0.1:${port}`;
          const p = spawnPortal({ ...common, DATA_DIR: dir, MASTER_KEY: key, PORT: String(port), PUBLIC_URL: url, LIFECYCLE_WORKER: "off" });
          stops.push(() => p.child.kill("SIGTERM"));
          return { url, ...p };
        }),
      );
      await Promise.all(instances.map((i) => ready(i.url, i.output, () => i.child.exitCode !== null)));

      const db = new pg.Client({ connectionString: fresh.url });
      await db.connect();
      try {
        const rows = (await db.query(`SELECT migration_name, finished_at, rolled_back_at, applied_steps_count FROM _prisma_migrations`)).rows;
        const names = rows.map((r) => r.migration_name as string);
        expect(names.length).toBeGreaterThan(0);
        expect(new Set(names).size).toBe(names.length);
        expect(rows.every((r) => r.finished_at !== null && r.rolled_back_at === null)).toBe(true);
        // One organization, one first admin: the bootstrap ran once.
        expect((await db.query(`SELECT count(*)::int AS n FROM "Organization"`)).rows[0].n).toBe(1);
        expect((await db.query(`SELECT count(*)::int AS n FROM "User"`)).rows[0].n).toBe(1);
      } finally {
        await db.end();
      }

      // The admin CLI next to two running instances: it neither waits for a lock they hold nor fails.
      const started = Date.now();
      const r = adminCli({ ...common, DATA_DIR: dataA, MASTER_KEY: key }, "create-api-token", "upgrade-check", "--role", "auditor");
      expect(r.status, r.output).toBe(0);
      expect(r.output).toContain('created token "upgrade-check"');
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      for (const stop of stops.splice(0)) stop();
      await new Promise((r) => setTimeout(r, 500));
      await fresh.drop();
    }
  }, 240_000);
});
