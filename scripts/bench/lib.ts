// Shared plumbing of the benchmarks (`npm run bench:enroll`, `bench:pebble`, `bench:ocsp`, `faults`):
// a private PostgreSQL cluster (so it can be restarted and its CPU measured), the built portal as a child
// process, REST configuration, CPU accounting from /proc, and a fetch over https with a private CA.
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { adminApiToken, freePort, localhostTls } from "../../apps/portal/tests/harness";

export const root = path.resolve(import.meta.dirname, "../..");
export { freePort, localhostTls };

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim() || 100);

export function parseFlags(argv: string[], defaults: Record<string, string>): Record<string, string> {
  const out = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--")) continue;
    const [k, v] = a.slice(2).split("=", 2) as [string, string | undefined];
    if (v !== undefined) out[k] = v;
    else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith("--")) out[k] = argv[++i]!;
    else out[k] = "true";
  }
  return out;
}

// ------------------------------------------------------------------ CPU accounting

/** utime+stime (and optionally reaped children's) of a process, in seconds; 0 when it is gone. */
export function procCpu(pid: number, withChildren = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields after "(comm)": state=0, ppid=1, ... utime=11, stime=12, cutime=13, cstime=14.
    const ticks = Number(f[11]) + Number(f[12]) + (withChildren ? Number(f[13]) + Number(f[14]) : 0);
    return ticks / CLK_TCK;
  } catch {
    return 0;
  }
}

/** CPU seconds of a process's main thread alone (for Node, the event loop). */
export function mainThreadCpu(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** [on-CPU, waiting-for-a-CPU] seconds of a process's main thread (/proc schedstat). */
export function mainThreadSched(pid: number): [number, number] {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, "utf8").split(" ").map(Number);
    return [run! / 1e9, wait! / 1e9];
  } catch {
    return [0, 0];
  }
}

/** [user, system] CPU seconds of a process and its reaped children. */
export function procCpuSplit(pid: number): [number, number] {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return [(Number(f[11]) + Number(f[13])) / CLK_TCK, (Number(f[12]) + Number(f[14])) / CLK_TCK];
  } catch {
    return [0, 0];
  }
}

function childPids(ppid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(f[1]) === ppid) out.push(Number(d));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** CPU seconds of a process tree: the process (with its reaped children) plus its live children. */
export function treeCpu(pid: number): number {
  return procCpu(pid, true) + childPids(pid).reduce((s, c) => s + procCpu(c, false), 0);
}

export const machineCpu = () => {
  const t = os.cpus().reduce((s, c) => s + c.times.user + c.times.sys + c.times.nice + c.times.irq, 0);
  return t / 1000;
};

// ------------------------------------------------------------------ PostgreSQL

export interface Postgres {
  url: string;
  /** The same server over its Unix socket. */
  socketUrl: string;
  /** The postmaster pid (its tree is the database's CPU). */
  pid: () => number;
  cpu: () => number;
  restart: (downMs?: number) => Promise<void>;
  stop: () => Promise<void>;
}

const PG_BIN = ["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin"].find((d) => existsSync(path.join(d, "pg_ctl")));

/**
 * A private PostgreSQL cluster on a free port (run as the postgres user when we are root), so a benchmark
 * owns its database: nobody else's load in its CPU figures, and the fault test may restart it.
 */
export async function startPostgres(): Promise<Postgres> {
  if (!PG_BIN) throw new Error("PostgreSQL server binaries not found (apt-get install postgresql)");
  const dir = mkdtempSync(path.join(os.tmpdir(), "bench-pg-"));
  const data = path.join(dir, "data");
  mkdirSync(data);
  const asRoot = process.getuid?.() === 0;
  const pgUser = asRoot ? Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim()) : undefined;
  if (asRoot) {
    chownSync(dir, pgUser!, pgUser!);
    chownSync(data, pgUser!, pgUser!);
  }
  chmodSync(data, 0o700);
  const run = (bin: string, args: string[], opts: { stdio?: "ignore" | "inherit" } = {}) => {
    const [cmd, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", path.join(PG_BIN, bin), ...args]] : [path.join(PG_BIN, bin), args];
    return spawnSync(cmd, argv, { stdio: opts.stdio ?? "ignore", cwd: dir });
  };
  if (run("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]).status !== 0) throw new Error("initdb failed");
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=128MB${process.env.BENCH_PG_LOG ? " -c log_statement=all" : ""}${process.env.BENCH_PG_STATS ? " -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all" : ""}${process.env.BENCH_PG_OPTS ? ` ${process.env.BENCH_PG_OPTS}` : ""}`;
  const start = () => {
    if (run("pg_ctl", ["-D", data, "-o", opts, "-l", path.join(dir, "log"), "-w", "-t", "30", "start"]).status !== 0)
      throw new Error(`pg_ctl start failed: ${readFileSync(path.join(dir, "log"), "utf8").slice(-2000)}`);
  };
  const stopPg = (mode = "fast") => run("pg_ctl", ["-D", data, "-m", mode, "-w", "-t", "30", "stop"]);
  start();
  const pidOf = () => Number(readFileSync(path.join(data, "postmaster.pid"), "utf8").split("\n")[0]);
  let postmaster = pidOf();
  let cpuBefore = 0; // CPU of earlier postmasters (restarts)
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    socketUrl: `postgresql://postgres@localhost:${port}/postgres?host=${encodeURIComponent(dir)}`,
    pid: () => postmaster,
    cpu: () => cpuBefore + treeCpu(postmaster),
    restart: async (downMs = 0) => {
      cpuBefore += treeCpu(postmaster);
      stopPg("fast");
      await sleep(downMs);
      start();
      postmaster = pidOf();
    },
    stop: async () => {
      stopPg("immediate");
      if (process.env.BENCH_PG_LOG) execFileSync("cp", [path.join(dir, "log"), process.env.BENCH_PG_LOG]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh database on a PostgreSQL server; returns its URL. */
export async function createDatabase(baseUrl: string, name: string): Promise<string> {
  const pg = createRequire(path.join(root, "apps/portal/package.json"))("pg");
  const c = new pg.Client({ connectionString: baseUrl });
  await c.connect();
  await c.query(`CREATE DATABASE "${name}"`);
  await c.end();
  const u = new URL(baseUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

// ------------------------------------------------------------------ the portal

export interface Portal {
  url: string;
  pid: number;
  child: ChildProcess;
  cpu: () => number;
  logFile: string;
  stop: () => Promise<void>;
}

export interface PortalOptions {
  databaseUrl: string;
  dataDir: string;
  tls?: { certFile: string; keyFile: string; caFile: string };
  env?: Record<string, string>;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  cwd?: string;
}

/** The portal built from the sources as they are (a build of its own: a running server keeps its build). */
export function ensurePortalBuilt(): void {
  const r = spawnSync(process.execPath, [path.join(root, "scripts/run.mjs"), "build"], { stdio: "inherit", env: process.env });
  if (r.status !== 0) throw new Error("portal build failed");
}

export function createAdminToken(databaseUrl: string, dataDir: string): string {
  return adminApiToken({ DATABASE_URL: databaseUrl, DATA_DIR: dataDir, MASTER_KEY: masterKeyFor(dataDir) });
}

const masterKeys = new Map<string, string>();
function masterKeyFor(dataDir: string): string {
  let k = masterKeys.get(dataDir);
  if (!k) masterKeys.set(dataDir, (k = Buffer.from(Array.from({ length: 32 }, () => Math.floor(Math.random() * 256))).toString("hex")));
  return k;
}

/** Starts `node --import tsx apps/portal/server/main.ts` (production mode) and waits for /healthz. */
export async function startPortal(opts: PortalOptions): Promise<Portal> {
  const port = await freePort();
  const url = opts.tls ? `https://localhost:${port}` : `http://127.0.0.1:${port}`;
  const logFile = path.join(opts.dataDir, `portal-${port}.log`);
  const fd = openSync(logFile, "a");
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), "--import", "tsx", path.join(root, "apps/portal/server/main.ts")], {
    cwd: opts.cwd ?? root,
    env: {
      ...process.env,
      NODE_ENV: "production",
      PORT: String(port),
      HOST: "127.0.0.1",
      PUBLIC_URL: url,
      DATABASE_URL: opts.databaseUrl,
      DATA_DIR: opts.dataDir,
      MASTER_KEY: masterKeyFor(opts.dataDir),
      ADMIN_PASSWORD: "bench-bootstrap-password-1",
      ...(opts.tls ? { TLS_CERT_FILE: opts.tls.certFile, TLS_KEY_FILE: opts.tls.keyFile } : {}),
      ...opts.env,
    },
    stdio: ["ignore", fd, fd],
  });
  const deadline = Date.now() + 120_000;
  const ca = opts.tls ? readFileSync(opts.tls.caFile) : undefined;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`portal exited: ${readFileSync(logFile, "utf8").slice(-3000)}`);
    const ok = await new Promise<boolean>((resolve) => {
      const req = (opts.tls ? https : http).get(`${url}/healthz`, { ca }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on("error", () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`portal did not start: ${readFileSync(logFile, "utf8").slice(-3000)}`);
    await sleep(250);
  }
  return {
    url,
    pid: child.pid!,
    child,
    logFile,
    // The process and its children (WEB_CONCURRENCY > 1 forks server processes).
    cpu: () => treeCpu(child.pid!),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

// ------------------------------------------------------------------ HTTP helpers

/** The REST API (/api/v1) with a bearer token. */
export function restClient(baseUrl: string, token: string, f: typeof fetch) {
  return async <T = Record<string, unknown>>(method: string, p: string, body?: unknown): Promise<T> => {
    const res = await f(`${baseUrl}/api/v1${p}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${p} → ${res.status}: ${text.slice(0, 500)}`);
    return (text.startsWith("{") || text.startsWith("[") ? JSON.parse(text) : text) as T;
  };
}

export const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : String(n));
