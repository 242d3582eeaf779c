// Several server processes on one host (WEB_CONCURRENCY, PostgreSQL only): Node's event loop runs the
// ACME and HTTP work of one process on one core, so a 2-core host serves about twice as much with two.
// They are several instances of the same deployment (README "Several instances"): nonces, sessions and
// jobs live in the database. What each process caches is either immutable or bounded in time (see
// fast-routes.ts); on top of that, a process that changes something cached (a revocation, a platform's
// secret or settings) tells its siblings through the primary, so on one host they drop it at once.
import cluster, { type Worker } from "node:cluster";
import client from "prom-client";

const BROADCAST = Symbol.for("attested.broadcast");
const INVALIDATE = "attested-invalidate";
const METRICS = "attested-metrics";
/** A server process that cannot listen exits with this code; the primary then stops too, as restarting cannot help. */
export const EXIT_CANNOT_LISTEN = 3;

export interface Invalidation {
  type: typeof INVALIDATE;
  what: string;
  [k: string]: unknown;
}

/** How many server processes to run: WEB_CONCURRENCY (1 by default; embedded PGlite allows one only). */
export function workerCount(): number {
  const n = Number(process.env.WEB_CONCURRENCY ?? 1);
  if (!process.env.DATABASE_URL || !Number.isInteger(n) || n < 2) return 1;
  return Math.min(n, 32);
}

export const isPrimary = () => cluster.isPrimary && workerCount() > 1;

/** The primary: starts one worker (migrations, first-start bootstrap), then the others; restarts crashed ones. */
export function runPrimary(log: { info: (o: object, m: string) => void; error: (o: object, m: string) => void }): void {
  const n = workerCount();
  let stopping = false;
  // /metrics answers for the whole host: the worker that got the scrape asks here, and prom-client sums
  // every worker's registry (else each scrape would show one random worker's counters).
  const aggregator = new client.AggregatorRegistry();
  const fork = (): Worker => {
    const w = cluster.fork();
    w.on("message", (msg: Invalidation | { type: typeof METRICS; id: number }) => {
      if (msg?.type === METRICS) {
        const { id } = msg as { id: number };
        aggregator.clusterMetrics().then(
          (text) => w.isConnected() && w.send({ type: METRICS, id, text }),
          (err: Error) => w.isConnected() && w.send({ type: METRICS, id, error: err.message }),
        );
        return;
      }
      if (msg?.type !== INVALIDATE) return;
      for (const other of Object.values(cluster.workers ?? {})) if (other && other !== w && other.isConnected()) other.send(msg);
    });
    return w;
  };
  const first = fork();
  first.once("listening", () => {
    for (let i = 1; i < n; i++) fork();
  });
  cluster.on("exit", (w, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit();
      return;
    }
    if (code === EXIT_CANNOT_LISTEN) {
      stop();
      process.exitCode = EXIT_CANNOT_LISTEN;
      return;
    }
    log.error({ pid: w.process.pid, code, signal }, "server process exited; starting another");
    setTimeout(fork, 1000);
  });
  const stop = () => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill("SIGTERM");
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  log.info({ workers: n }, "starting server processes");
}

/** In a worker: relay this process's invalidations to its siblings, and apply theirs with `apply`. */
export function joinInvalidationBus(apply: (msg: Invalidation) => void): void {
  if (!cluster.isWorker) return;
  (globalThis as Record<symbol, unknown>)[BROADCAST] = (msg: Omit<Invalidation, "type">) => process.send?.({ ...msg, type: INVALIDATE });
  process.on("message", (msg: Invalidation) => {
    if (msg?.type === INVALIDATE) apply(msg);
  });
}

const metricsReplies = new Map<number, (reply: { text?: string; error?: string }) => void>();
let metricsRequests = 0;

/** In a worker: answer the primary's requests for this process's `registry` (summed over the host's workers). */
export function joinMetricsAggregation(registry: client.Registry): void {
  if (!cluster.isWorker) return;
  new client.AggregatorRegistry(); // installs prom-client's worker side
  client.AggregatorRegistry.setRegistries([registry]);
  process.on("message", (msg: { type?: string; id: number; text?: string; error?: string }) => {
    if (msg?.type !== METRICS) return;
    metricsReplies.get(msg.id)?.(msg);
    metricsReplies.delete(msg.id);
  });
}

/** In a worker: the metrics of every server process of the host, from the primary. */
export function hostMetrics(): Promise<string> {
  const id = ++metricsRequests;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      metricsReplies.delete(id);
      reject(new Error("the primary did not answer with the metrics"));
    }, 10_000);
    metricsReplies.set(id, (r) => {
      clearTimeout(timer);
      if (r.text !== undefined) resolve(r.text);
      else reject(new Error(r.error ?? "no metrics"));
    });
    process.send!({ type: METRICS, id });
  });
}
