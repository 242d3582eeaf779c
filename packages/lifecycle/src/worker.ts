import PgBoss from "pg-boss";
import type { Database } from "@attested/db";
import { EventType, recordEvent, systemActor } from "@attested/events";
import { silentLogger, type Logger } from "@attested/log";
import { bossDatabase } from "./boss-db";
import type { LifecycleContext } from "./context";
import { purgeExpiredEvents } from "./events";
import { deliverPendingMail, scheduleExpiryReminders } from "./notifications";
import { setNudge, type QueueName } from "./registry";
import { checkDevicesAgainstSignalSources } from "./revoke-on-failure";
import { revokeUnusedCertificates } from "./unused";

// The background jobs, on pg-boss (a job queue kept in Postgres). Why it is safe with several app
// instances: each job is fetched with FOR UPDATE SKIP LOCKED, so one instance runs it; every queue
// is "stately" (at most one job queued and one running), so a sweep never runs twice at once; the
// cron schedules are stored in the database and fired once per minute across instances. A job that
// throws is retried with backoff; when its retries are used up it becomes a "Job Failed" event.

export interface LifecycleJob {
  queue: QueueName;
  label: string;
  /** Default cron schedule (UTC). */
  cron: string;
  run(ctx: LifecycleContext, job: { id: string }): Promise<unknown>;
}

export const LIFECYCLE_JOBS: LifecycleJob[] = [
  { queue: "mail", label: "Mail delivery", cron: "* * * * *", run: (ctx) => deliverPendingMail(ctx) },
  { queue: "revoke-on-failure", label: "Revoke On Failure device checks", cron: "* * * * *", run: (ctx) => checkDevicesAgainstSignalSources(ctx) },
  { queue: "unused", label: "Revoke unused certificates", cron: "*/15 * * * *", run: (ctx) => revokeUnusedCertificates(ctx) },
  { queue: "expiry", label: "Expiry reminders", cron: "5 * * * *", run: (ctx) => scheduleExpiryReminders(ctx) },
  { queue: "retention", label: "Event retention", cron: "30 3 * * *", run: (ctx) => purgeExpiredEvents(ctx) },
];

export const queueName = (q: QueueName) => `lifecycle-${q}`;

export interface LifecycleWorkerOptions {
  database: Database;
  /** CA context on database.prisma (key store, public URL, optional clock). */
  ctx: LifecycleContext;
  log?: Logger;
  /** The jobs to run (default LIFECYCLE_JOBS; tests pass their own). */
  jobs?: LifecycleJob[];
  /** Cron per queue; null leaves a queue unscheduled (it still runs when sent). */
  schedules?: Partial<Record<QueueName, string | null>>;
  pollingIntervalSeconds?: number;
  retryLimit?: number;
  retryDelaySeconds?: number;
}

export interface LifecycleWorker {
  boss: PgBoss;
  /** Queues one run of a job now (null when one is already queued). */
  send(queue: QueueName): Promise<string | null>;
  stop(): Promise<void>;
}

function summary(out: unknown): unknown {
  // Keeps the job's stored output small (the sweeps return lists).
  if (!out || typeof out !== "object") return out ?? null;
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.isArray(v) ? v.length : v]));
}

export async function startLifecycleWorker(opts: LifecycleWorkerOptions): Promise<LifecycleWorker> {
  const log = opts.log ?? silentLogger();
  const db = await bossDatabase(opts.database);
  const boss = new PgBoss({
    db: db as unknown as PgBoss.Db,
    schedule: true,
    supervise: true,
    // Finished jobs are kept a week for inspection, then archived and dropped by pg-boss.
    archiveCompletedAfterSeconds: 7 * 86_400,
    deleteAfterDays: 7,
  });
  boss.on("error", (err) => log.error({ err }, "job queue error"));
  await boss.start();

  const jobs = opts.jobs ?? LIFECYCLE_JOBS;
  for (const job of jobs) {
    const name = queueName(job.queue);
    const queue = {
      name,
      policy: "stately" as const,
      retryLimit: opts.retryLimit ?? 3,
      retryDelay: opts.retryDelaySeconds ?? 30,
      retryBackoff: true,
      expireInSeconds: 15 * 60,
    };
    // createQueue keeps an existing queue as it is; updateQueue applies today's settings to it.
    await boss.createQueue(name, queue);
    await boss.updateQueue(name, queue);
    await boss.work(name, { includeMetadata: true, batchSize: 1, pollingIntervalSeconds: opts.pollingIntervalSeconds ?? 2 }, async ([j]) => {
      const started = Date.now();
      try {
        const out = summary(await job.run(opts.ctx, { id: j.id }));
        // Runs that changed nothing (most minutes) are not worth a log line.
        if (out && typeof out === "object" && Object.values(out).some((v) => typeof v === "number" && v > 0)) {
          log.info({ job: name, jobId: j.id, ms: Date.now() - started, out }, "job done");
        }
        return out;
      } catch (err) {
        const attempts = j.retryCount + 1;
        const final = j.retryCount >= j.retryLimit;
        log.error({ job: name, jobId: j.id, attempts, final, err }, "job failed");
        if (final) {
          await recordEvent(opts.ctx.db, {
            type: EventType.JobFailed,
            outcome: "failure",
            actor: systemActor(`job:${job.queue}`),
            object: { type: "job", id: j.id, name: job.label },
            summary:
              `Background job "${job.label}" failed after ${attempts} attempt${attempts === 1 ? "" : "s"}: ${(err as Error).message ?? String(err)}`.slice(
                0,
                1000,
              ),
            details: { queue: name, jobId: j.id, attempts, error: String((err as Error).message ?? err).slice(0, 2000) },
          }).catch((e) => log.error({ err: e }, "could not record the job failure"));
        }
        throw err;
      }
    });
    const cron = opts.schedules && job.queue in opts.schedules ? opts.schedules[job.queue] : job.cron;
    if (cron) await boss.schedule(name, cron, {}, { tz: "UTC" });
    else await boss.unschedule(name);
  }

  const send = (q: QueueName) => boss.send(queueName(q), {});
  setNudge(opts.database, (q) => void send(q).catch((err) => log.warn({ err, queue: q }, "could not queue job")));
  log.info({ queues: jobs.map((j) => queueName(j.queue)), database: opts.database.kind }, "lifecycle worker started");
  return {
    boss,
    send,
    async stop() {
      setNudge(opts.database, null);
      await boss.stop({ graceful: true, wait: true, timeout: 10_000 });
      await db.close();
    },
  };
}
