import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { harness, type Harness } from "./testing";
import { startLifecycleWorker } from "./worker";

// The job runner on the test database: PGlite in memory, or a fresh Postgres database when
// DATABASE_URL is set (run both).

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.close());

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const noSchedules = { mail: null, unused: null, "revoke-on-failure": null, expiry: null, retention: null };

describe("lifecycle worker (pg-boss)", () => {
  it("runs the real sweeps as jobs: a queued unused-certificate sweep revokes and records", async () => {
    h.clock.set(new Date());
    const ca = await h.makeCa({ revokeUnusedDays: "5", revokeSinceIssuance: "on", revocationReason: "unspecified" });
    const cert = await h.issue(ca.id, { cn: "C02JOB0001" });
    h.clock.advanceDays(6);
    const worker = await startLifecycleWorker({ database: h.db, ctx: h.ctx, schedules: noSchedules, pollingIntervalSeconds: 0.5 });
    try {
      expect(await worker.send("unused")).toEqual(expect.any(String));
      const revoked = await until("the revocation", async () => {
        const c = await h.db.prisma.certificate.findUniqueOrThrow({ where: { id: cert.id } });
        return c.status === "REVOKED" && c;
      });
      expect(revoked.revocationReason).toBe("unspecified");
      expect(
        await h.db.prisma.event.count({ where: { type: "Certificate Revoked", certificateSerial: cert.serialNumber, actorName: "unused-certificates" } }),
      ).toBe(1);
      // The cron schedules are stored in the database (one set for every instance).
      const scheduled = await startLifecycleWorker({ database: h.db, ctx: h.ctx, pollingIntervalSeconds: 0.5 });
      try {
        const names = (await scheduled.boss.getSchedules()).map((s) => `${s.name} ${s.cron}`).sort();
        expect(names).toEqual([
          "lifecycle-expiry 5 * * * *",
          "lifecycle-mail * * * * *",
          "lifecycle-retention 30 3 * * *",
          "lifecycle-revoke-on-failure * * * * *",
          "lifecycle-unused */15 * * * *",
        ]);
      } finally {
        await scheduled.stop();
      }
    } finally {
      await worker.stop();
    }
  });

  it("retries a failing job, then records a Job Failed event", async () => {
    let tries = 0;
    const worker = await startLifecycleWorker({
      database: h.db,
      ctx: h.ctx,
      schedules: noSchedules,
      pollingIntervalSeconds: 0.5,
      retryLimit: 1,
      retryDelaySeconds: 1,
      jobs: [
        {
          queue: "retention",
          label: "Always failing",
          cron: "* * * * *",
          run: async () => {
            tries++;
            throw new Error("disk on fire");
          },
        },
      ],
    });
    try {
      await worker.send("retention");
      const e = await until("the Job Failed event", () => h.db.prisma.event.findFirst({ where: { type: "Job Failed" } }));
      expect(tries).toBe(2);
      expect(e).toMatchObject({ outcome: "failure", actorType: "system", actorName: "job:retention", objectType: "job", objectName: "Always failing" });
      expect(e.summary).toBe('Background job "Always failing" failed after 2 attempts: disk on fire');
    } finally {
      await worker.stop();
    }
  });

  it("with two instances, runs each job once and a sweep never twice at the same time", async () => {
    const runs: { job: string; instance: string }[] = [];
    let active = 0;
    let maxActive = 0;
    const job = (instance: string) => ({
      queue: "mail" as const,
      label: "Counting",
      cron: "* * * * *",
      run: async (_ctx: unknown, j: { id: string }) => {
        active++;
        maxActive = Math.max(maxActive, active);
        runs.push({ job: j.id, instance });
        await new Promise((r) => setTimeout(r, 150));
        active--;
      },
    });
    // Two instances: on Postgres each has its own connection pool, as two app processes would.
    const a = await startLifecycleWorker({ database: h.db, ctx: h.ctx, schedules: noSchedules, pollingIntervalSeconds: 0.5, jobs: [job("a")] });
    const b = await startLifecycleWorker({ database: h.db, ctx: h.ctx, schedules: noSchedules, pollingIntervalSeconds: 0.5, jobs: [job("b")] });
    try {
      const sent = new Set<string>();
      const end = Date.now() + 4_000;
      while (Date.now() < end) {
        for (const id of await Promise.all([a.send("mail"), b.send("mail")])) if (id) sent.add(id);
        await new Promise((r) => setTimeout(r, 50));
      }
      await until("every queued job to run", async () => sent.size > 0 && [...sent].every((id) => runs.some((r) => r.job === id)));
      expect(runs.length).toBe(new Set(runs.map((r) => r.job)).size);
      expect(runs.length).toBe(sent.size);
      expect(runs.length).toBeGreaterThan(3);
      expect(maxActive).toBe(1);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
