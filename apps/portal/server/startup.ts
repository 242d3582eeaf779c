import type { Db } from "@attested/db";
import { ensureOrganizationRootCa } from "@attested/ca";
import { type LifecycleWorker, startLifecycleWorker } from "@attested/lifecycle/worker";
import type { Logger } from "@attested/log";
import type { Services } from "./services";

/** Steps run once per start after migrations and bootstrap. */
export const startupHooks: Array<(s: Services, db: Db, log: Logger) => Promise<void>> = [
  // The default Root CA that comes with the organization.
  async (s, _db, log) => {
    const ca = await ensureOrganizationRootCa(s.ca);
    if (ca) log.info({ caId: ca.id, commonName: ca.commonName }, "organization root CA created");
  },
];

const RETRY_MS = 10_000;

/**
 * Background jobs (packages/lifecycle): unused-certificate and Revoke On Failure sweeps, mail, expiry
 * reminders, event retention. Safe on every instance; LIFECYCLE_WORKER=off turns them off here.
 */
export async function startBackgroundWork(s: Services, log: Logger): Promise<void> {
  if (!s.config.lifecycle.worker) return void log.info("lifecycle worker off (LIFECYCLE_WORKER=off)");
  const { lookupsPerHour, deviceRecheckMinutes } = s.config.lifecycle;
  let worker: LifecycleWorker;
  // The server already serves: a database outage now delays the jobs, it does not stop the server.
  for (;;) {
    try {
      worker = await startLifecycleWorker({
        database: s.database,
        ctx: { ...s.ca, limits: { lookupsPerHour, deviceRecheckMinutes }, allowHttp: s.config.integrationsAllowHttp || undefined },
        log: log.child({ component: "lifecycle" }),
      });
      break;
    } catch (err) {
      log.error({ err }, `lifecycle worker did not start; trying again in ${RETRY_MS / 1000} s`);
      await new Promise((r) => setTimeout(r, RETRY_MS).unref());
    }
  }
  log.info("lifecycle worker started");
  const stop = () => void worker.stop().catch((err) => log.warn({ err }, "lifecycle worker did not stop cleanly"));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}
