// Several server processes on one host (WEB_CONCURRENCY, PostgreSQL only): Node's event loop runs the
// ACME and HTTP work of one process on one core, so a 2-core host serves about twice as much with two.
// They are several instances of the same deployment (README "Several instances"): nonces, sessions and
// jobs live in the database. What each process caches (services.ts) is either immutable or bounded in
// time; on top of that, a process that changes something cached (a revocation, a platform's secret or
// settings, configuration) publishes a typed Invalidation on its bus, which is carried here to its
// siblings through the primary, so on one host they drop it at once.
import cluster, { type Worker } from "node:cluster";
import client from "prom-client";
import { isInvalidation, type Invalidation, type InvalidationBus } from "@attested/db";

const INVALIDATE = "attested-invalidate";
const METRICS = "attested-metrics";
/** A server process that cannot listen exits with this code; the primary then stops too, as restarting cannot help. */
export const EXIT_CANNOT_LISTEN = 3;

/** An invalidation on its way between server processes. */
interface InvalidationMessage {
  type: typeof INVALIDATE;
  invalidation: Invalidation;
}

/** Whether this process is the primary of several server processes (config.workers, from WEB_CONCURRENCY). */
export const isPrimary = (workers: number) => cluster.isPrimary && workers > 1;

/** The primary: starts one worker (migrations, first-start bootstrap), then the others; restarts crashed ones. */
export function runPrimary(n: number, log: { info: (o: object, m: string) => void; error: (o: object, m: string) => void }): void {
  let stopping = false;
  // /metrics answers for the whole host: the worker that got the scrape asks here, and prom-client sums
  // every worker's registry (else each scrape would show one random worker's counters).
  const aggregator = new client.AggregatorRegistry();
  const fork = (): Worker => {
    const w = cluster.fork();
    w.on("message", (msg: InvalidationMessage | { type: typeof METRICS; id: number }) => {
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

/** In a worker: what `bus` publishes goes to the sibling processes (through the primary), and theirs is delivered to it. */
export function joinInvalidationBus(bus: InvalidationBus): void {
  if (!cluster.isWorker) return;
  bus.remote = (invalidation) => process.send?.({ type: INVALIDATE, invalidation } satisfies InvalidationMessage);
  process.on("message", (msg: InvalidationMessage) => {
    if (msg?.type === INVALIDATE && isInvalidation(msg.invalidation)) bus.deliver(msg.invalidation);
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
