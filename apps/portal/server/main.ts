// The portal's process: opens the database, applies pending migrations, bootstraps the first start,
// then serves Next.js (portal, REST API and ACME) plus the operational endpoints.
import "reflect-metadata";
import cluster from "node:cluster";
import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import path from "node:path";
import next from "next";
import { secureDataDir, setPaths } from "@attested/db";
import { migrateDatabase } from "@attested/db/migrate";
import { DomainError } from "@attested/errors";
import { bootstrapOrganization } from "@attested/identity";
import { createRootLogger, runWithRequest } from "@attested/log";
import { readiness } from "./health";
import { startBackgroundWork, startupHooks } from "./startup";
import { capBody, CappedIncomingMessage } from "./body-limit";
import { securityHeaders } from "./security-headers";
import { holdEmbeddedLock } from "./embedded-lock";
import { serveAcme, serveOcsp } from "./fast-routes";
import { EXIT_CANNOT_LISTEN, hostMetrics, isPrimary, joinInvalidationBus, joinMetricsAggregation, runPrimary } from "./cluster";
import { redactAcmePath } from "@attested/acme";
import { clientAddressResolver } from "./client-address";
import { ConfigError, loadConfig, type Config } from "./config";
import { buildServices, publishServices } from "./services";
import { serveAdminSocket } from "./admin-socket";
import { currentBuild, registerServer } from "../../../scripts/build-dir.mjs";

// The process's one logger (buffered JSON lines on stdout); lines logged while serving carry the request id.
const log = createRootLogger();
/** Constant-time comparison of an Authorization header with the expected bearer token. */
function bearerIs(header: string | undefined, token: string): boolean {
  const digest = (v: string) => createHash("sha256").update(v).digest();
  return timingSafeEqual(digest(header ?? ""), digest(`Bearer ${token}`));
}

/** One line on stderr and a non-zero exit: for what an operator must fix before starting again. */
function fail(reason: string): never {
  process.stderr.write(`${reason}\n`);
  process.exit(EXIT_CANNOT_LISTEN);
}

/** Listens, or exits with the reason when the address cannot be had (in use, not allowed). */
function listen(server: http.Server | https.Server, p: number, h: string, setting: string): Promise<void> {
  return new Promise((resolve) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EADDRINUSE") fail(`Port ${p} is already in use (set ${setting} to choose another)`);
      if (err.code === "EACCES") fail(`Port ${p} on ${h} is not allowed for this user (set ${setting} to choose another)`);
      fail(`Cannot listen on ${h}:${p}: ${err.message} (check ${setting})`);
    });
    server.listen(p, h, () => resolve());
  });
}

async function main(config: Config) {
  const { port, host } = config;
  setPaths({ root: config.root, dataDir: config.dataDir });
  // Before the master key is read or created.
  secureDataDir();
  if (!config.database.url) holdEmbeddedLock();
  // Built before Next.js starts, and left on the bridge its route handlers and pages read.
  const built = buildServices(config);
  publishServices(built);
  const s = await built;
  const db = s.database;
  joinInvalidationBus(s.bus);
  joinMetricsAggregation(s.metrics.registry);
  const applied = await migrateDatabase(db, config.database.url, () => log.info("another instance is applying migrations: waiting for it"));
  if (applied.length) log.info({ applied }, "migrations applied");
  // PGlite sets its files' modes itself (0666, whatever the umask): made owner-only once it has written them.
  if (db.kind === "pglite") {
    secureDataDir();
    // `npm run admin -- backup` while this process holds the embedded database.
    await serveAdminSocket(db, config.dataDir, (err) => log.error({ err }, "backup failed"));
  }
  const { adminEmail, adminPassword, organizationName } = config.bootstrap;
  const boot = await bootstrapOrganization(db.prisma, { ADMIN_EMAIL: adminEmail, ADMIN_PASSWORD: adminPassword, ORGANIZATION_NAME: organizationName });
  for (const hook of startupHooks) await hook(s, db.prisma, log);
  if (boot.organizationCreated) {
    log.info({ adminEmail: boot.adminEmail }, "organization created");
    if (boot.generatedPassword) {
      // Printed once, on the console only (never in the JSON log stream, never stored in clear).
      process.stdout.write(
        `\n  First admin: ${boot.adminEmail}\n  Password:    ${boot.generatedPassword}\n  (shown once; change it with: npm run admin -- reset-password ${boot.adminEmail})\n\n`,
      );
    }
  }

  // Auth.js takes its secret and its URL from the environment only: the one place this process writes
  // it. The session-signing secret is derived from the master key (one secret to keep and back up).
  process.env.AUTH_URL ??= config.publicUrl;
  process.env.AUTH_SECRET ??= s.keys.authSecret;
  if (!config.dev) {
    // The build this server serves, pinned for its life: a later build goes into a folder of its own
    // (scripts/build-dir.mjs), so forms and pages keep working here. next.config.ts reads NEXT_DIST_DIR.
    const build = currentBuild();
    if (!build) fail("There is no portal build: start with `npm start`, or build with `node scripts/run.mjs build`");
    process.env.NEXT_DIST_DIR = build;
    process.on("exit", registerServer(build));
  }
  const app = next({ dev: config.dev, dir: path.resolve(import.meta.dirname, ".."), hostname: "localhost", port });
  const handle = app.getRequestHandler();
  await app.prepare();

  // TLS here is optional: production usually terminates TLS at a proxy (see README).
  const tls = config.tls ? { cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) } : null;
  const headers = securityHeaders(config.publicUrl, config.dev);
  const clientAddress = clientAddressResolver(config.trustProxy);
  // /metrics: with METRICS_TOKEN on the main port for that bearer token only, with METRICS_ADDRESS on an
  // address of its own; with neither, not served (it shows the host's load and enrollment activity).
  const { token: metricsToken, address: metricsAddress } = config.metrics;
  const listener = async (req: CappedIncomingMessage, res: http.ServerResponse) => {
    const started = process.hrtime.bigint();
    const requestId = (typeof req.headers["x-request-id"] === "string" && req.headers["x-request-id"].slice(0, 64)) || randomUUID();
    req.headers["x-request-id"] = requestId;
    res.setHeader("x-request-id", requestId);
    // Everything logged while serving this request carries its id (see @attested/log).
    return runWithRequest(requestId, async () => {
      // Client address for rate limiting: the socket, unless a trusted proxy says otherwise.
      req.headers["x-real-ip"] = clientAddress(req);
      res.on("finish", () => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const route = s.metrics.http.observe(req.method ?? "GET", req.url ?? "/", res.statusCode, seconds);
        if (route !== "health")
          log.info({ requestId, method: req.method, url: redactAcmePath(req.url ?? "/"), status: res.statusCode, ms: Math.round(seconds * 1000) }, "request");
      });
      headers.machine(res);
      if (!capBody(req, res)) return;
      try {
        const url = req.url ?? "/";
        // PostgreSQL text cannot hold NUL, so no path or query parameter here can mean one.
        if (url.includes("%00"))
          return void res.writeHead(400, { "content-type": "application/json" }).end('{"error":"the URL contains a NUL character (%00)"}');
        if (url === "/healthz") return void res.writeHead(200, { "content-type": "application/json" }).end('{"status":"alive"}');
        if (url === "/readyz") return void (await serveReadiness(res));
        if (url === "/metrics" && metricsToken) return void (await serveMetrics(req, res));
        // Machine protocols skip Next.js's pipeline (see fast-routes.ts).
        if (url.startsWith("/acme/")) return void (await serveAcme(s, req, res, url));
        if (url.startsWith("/ocsp/") && (await serveOcsp(s, req, res, url))) return;
        headers.page(req, res);
        await handle(req, res);
      } catch (err) {
        if (res.writableEnded) return; // already answered, e.g. 413 for a body over the cap
        log.error({ requestId, err }, "unhandled request error");
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
        res.end('{"error":"internal error"}');
      }
    });
  };
  const serveReadiness = async (res: http.ServerResponse) => {
    const r = await readiness(db);
    // Why not (the error, the pending migrations) is for the operator's log, not for whoever asks; whether
    // the database answers is what the portal's failure page tells the admin.
    if (!r.ready) log.warn({ database: r.database, pendingMigrations: r.pendingMigrations, err: r.error }, "not ready");
    res.writeHead(r.ready ? 200 : 503, { "content-type": "application/json" }).end(JSON.stringify({ ready: r.ready, database: r.database }));
  };
  const serveMetrics = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (metricsToken && !bearerIs(req.headers.authorization, metricsToken)) {
      return void res
        .writeHead(401, { "content-type": "application/json", "www-authenticate": 'Bearer realm="metrics"' })
        .end('{"error":"metrics need the METRICS_TOKEN bearer token"}');
    }
    const text = await (cluster.isWorker ? hostMetrics() : s.metrics.text());
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(text);
  };
  const options = { IncomingMessage: CappedIncomingMessage };
  const server = tls ? https.createServer({ ...tls, ...options }, listener) : http.createServer(options, listener);
  server.keepAliveTimeout = 65_000;
  await listen(server, port, host, "PORT");
  // Metrics on an address of their own (e.g. 127.0.0.1:9464), for a scraper on a private network.
  if (metricsAddress) {
    const metricsServer = http.createServer(async (req, res) => {
      headers.machine(res);
      try {
        if ((req.url ?? "/").split("?")[0] === "/metrics" && req.method === "GET") return void (await serveMetrics(req, res));
        res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
      } catch (err) {
        log.error({ err }, "metrics request failed");
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
        res.end('{"error":"internal error"}');
      }
    });
    await listen(metricsServer, metricsAddress.port, metricsAddress.host, "METRICS_ADDRESS");
  }
  log.info({ port, publicUrl: config.publicUrl, database: db.kind }, "listening");
  process.stdout.write(`\n  Attested PKI is running at ${config.publicUrl}\n\n`);

  // Once: Ctrl-C reaches this process from the terminal and again from `npm start`'s launcher (scripts/run.mjs).
  let stopping: Promise<void> | undefined;
  const shutdown = (signal: string) =>
    (stopping ??= (async () => {
      log.info({ signal }, "shutting down");
      server.close();
      await app.close().catch(() => {});
      await db.close().catch(() => {});
      process.exit(0);
    })());
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  // Background jobs only once this process serves: a server that cannot listen must not run them.
  void startBackgroundWork(s, log);
}

/** The settings, or one line per bad value on stderr and the exit code of a setting that cannot work. */
function settings(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const problem of err.problems) process.stderr.write(`error: ${problem}\n`);
    process.exit(EXIT_CANNOT_LISTEN);
  }
}

const config = settings();
if (isPrimary(config.workers)) runPrimary(config.workers, log);
else {
  main(config).catch((err) => {
    // A refused setting (e.g. a weak ADMIN_PASSWORD) is one plain line for the operator.
    if (err instanceof DomainError) process.stderr.write(`error: ${err.message}\n`);
    log.fatal({ err }, "failed to start");
    process.exit(1);
  });
}
