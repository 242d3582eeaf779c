// `npm run soak -- [--minutes 30] [--rate 4] [--ocsp 20] [--warmup 2]`
//
// A steady load on the built portal over PostgreSQL, for as long as an operator wants to watch it:
// enrollments (full Apple device-attest-01 flows through the Kandji lookup), OCSP GETs for the issued
// certificates, portal pages with a signed-in admin and REST API reads, each at a fixed rate per second.
// Every minute it prints the portal's RSS and V8 heap, the event loop's p99 delay, the database
// connections the portal holds and the error count. At the end it judges the run after warm-up: memory
// grew by less than 10 %, p99 enrollment latency under 1 s, no errors, and every certificate received is
// recorded. Exit code 1 when any of these fails.
import "reflect-metadata";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { percentile, prepareDevices, runFleet, type SimulatedDevice } from "@attested/device-sim";
import { fmt, parseFlags, sleep } from "./bench/lib";
import { setupBenchEnv, sql } from "./bench/setup";

const flags = parseFlags(process.argv.slice(2), { minutes: "30", rate: "4", ocsp: "20", warmup: "2" });
const MINUTES = Number(flags.minutes);
const RATE = Number(flags.rate);
const OCSP_RATE = Number(flags.ocsp);
const WARMUP = Math.min(Number(flags.warmup), Math.max(0, MINUTES - 1));
if (!(MINUTES >= 1) || !(RATE > 0) || !(OCSP_RATE >= 0)) {
  console.error("usage: npm run soak -- [--minutes 30] [--rate 4] [--ocsp 20] [--warmup 2]");
  process.exit(2);
}

const METRICS_TOKEN = "soak-metrics-token-0123456789abcdef";
// Portal pages an admin opens, and REST reads an integration makes, in turn.
const PAGES = [
  "/integration-hub/core-platforms",
  "/dynamic-pki/certificates",
  "/dynamic-pki/certificate-authorities",
  "/data-and-monitoring/general-events",
  "/integration-hub/device-management-platforms",
  "/policy-management/enrollment",
];
const REST = ["/certificates?limit=50", "/events?limit=50", "/certificate-authorities", "/device-management-platforms"];

const devicesNeeded = Math.ceil(RATE * 60 * MINUTES * 1.05) + 10;
const env = await setupBenchEnv({ devices: devicesNeeded, env: { METRICS_TOKEN } });
const db = await sql(env.databaseUrl);
const dbName = new URL(env.databaseUrl).pathname.slice(1);

/** Counts of one minute (and, summed, of the run). */
interface Tally {
  enrolled: number;
  latencies: number[];
  ocsp: number;
  pages: number;
  rest: number;
  errors: Record<string, number>;
}
const tally = (): Tally => ({ enrolled: 0, latencies: [], ocsp: 0, pages: 0, rest: 0, errors: {} });
const errorCount = (t: Tally) => Object.values(t.errors).reduce((a, b) => a + b, 0);
function fail(t: Tally, what: string) {
  t.errors[what] = (t.errors[what] ?? 0) + 1;
}

let minute = tally();
const minutes: { minute: number; t: Tally; rssMiB: number; heapMiB: number; loopP99Ms: number; dbConnections: number }[] = [];
const inFlight = new Set<Promise<void>>();
const track = (p: Promise<void>) => {
  inFlight.add(p);
  void p.finally(() => inFlight.delete(p));
};

try {
  // The admin signs in once, as in a browser session that stays open.
  const cookie = await signIn(env.portal.url, "admin@example.com", "bench-bootstrap-password-1");
  let next = 0;
  let ocspPaths: string[] = [];
  let page = 0;
  let rest = 0;

  console.log(`soak: ${MINUTES} min (first ${WARMUP} warm-up) at ${RATE} enrollments/s, ${OCSP_RATE} OCSP/s, 1 page/s, 1 REST read/s`);
  console.log(`portal ${env.portal.url} (pid ${env.portal.pid}), PostgreSQL database ${dbName}; ${env.policyNote}`);
  console.log("min  enrolled  p50 ms  p99 ms  ocsp  pages  rest  errors   RSS MiB  heap MiB  loop p99 ms  db conns");

  const start = Date.now();
  for (let m = 1; m <= MINUTES; m++) {
    // The certificates of the last minute are what relying parties ask about.
    ocspPaths = await ocspRequests(ocspPaths);
    for (let s = 0; s < 60; s++) {
      const tick = start + ((m - 1) * 60 + s) * 1000;
      const batch = env.devices.slice(next, next + RATE);
      next += batch.length;
      const prepared = await prepareDevices(env.profile, batch);
      batch.forEach((d, i) => {
        track(enroll(d, prepared[i]!, minute));
      });
      for (let i = 0; i < OCSP_RATE && ocspPaths.length; i++) track(ocsp(ocspPaths[(s * OCSP_RATE + i) % ocspPaths.length]!, minute));
      track(get(`${env.portal.url}${PAGES[page++ % PAGES.length]}`, { cookie }, minute, "pages"));
      track(get(`${env.portal.url}/api/v1${REST[rest++ % REST.length]}`, { authorization: `Bearer ${env.token}` }, minute, "rest"));
      const wait = tick + 1000 - Date.now();
      if (wait > 0) await sleep(wait);
    }
    const t = minute;
    minute = tally();
    const [metrics, conns] = await Promise.all([scrapeMetrics(), dbConnections()]);
    const row = { minute: m, t, rssMiB: rssMiB(env.portal.pid), heapMiB: metrics.heapUsed / 2 ** 20, loopP99Ms: metrics.loopP99 * 1000, dbConnections: conns };
    minutes.push(row);
    const lat = [...t.latencies].sort((a, b) => a - b);
    console.log(
      [
        String(m).padStart(3),
        String(t.enrolled).padStart(9),
        fmt(percentile(lat, 50), 0).padStart(7),
        fmt(percentile(lat, 99), 0).padStart(7),
        String(t.ocsp).padStart(5),
        String(t.pages).padStart(6),
        String(t.rest).padStart(5),
        String(errorCount(t)).padStart(7),
        fmt(row.rssMiB).padStart(9),
        fmt(row.heapMiB).padStart(9),
        fmt(row.loopP99Ms).padStart(12),
        String(conns).padStart(9),
      ].join(" ") + (m <= WARMUP ? "  (warm-up)" : ""),
    );
    if (errorCount(t)) console.log(`     errors: ${JSON.stringify(t.errors)}`);
  }
  await Promise.all([...inFlight]);

  // The verdict, on the minutes after warm-up.
  const after = minutes.filter((r) => r.minute > WARMUP);
  const base = minutes[WARMUP - 1] ?? minutes[0]!;
  const last = after[after.length - 1] ?? base;
  const growth = (100 * (last.rssMiB - base.rssMiB)) / base.rssMiB;
  const heapGrowth = (100 * (last.heapMiB - base.heapMiB)) / base.heapMiB;
  const lat = after.flatMap((r) => r.t.latencies).sort((a, b) => a - b);
  const p99 = percentile(lat, 99);
  const errors = minutes.reduce((n, r) => n + errorCount(r.t), 0);
  const enrolled = minutes.reduce((n, r) => n + r.t.enrolled, 0);
  const [{ count: recorded }] = await db.query<{ count: string }>(`SELECT count(*)::text AS count FROM "Certificate" WHERE "acmeOrderId" IS NOT NULL`);
  const [{ count: issuedEvents }] = await db.query<{ count: string }>(`SELECT count(*)::text AS count FROM "Event" WHERE type = 'Certificate Issued'`);
  const checks = [
    [
      `memory after warm-up: RSS ${fmt(base.rssMiB)} → ${fmt(last.rssMiB)} MiB (${fmt(growth)} %), heap ${fmt(base.heapMiB)} → ${fmt(last.heapMiB)} MiB (${fmt(heapGrowth)} %); under 10 %`,
      growth < 10,
    ],
    [`p99 enrollment latency after warm-up: ${fmt(p99, 0)} ms over ${lat.length} enrollments; under 1000 ms`, p99 < 1000],
    [`errors: ${errors}; none`, errors === 0],
    [
      `certificates: ${enrolled} received = ${recorded} recorded = ${issuedEvents} Certificate Issued events`,
      String(enrolled) === recorded && recorded === issuedEvents,
    ],
  ] as const;
  console.log(`\nsoak over ${fmt((Date.now() - start) / 60_000)} min:`);
  for (const [text, ok] of checks) console.log(`  ${ok ? "PASS" : "FAIL"}  ${text}`);
  process.exitCode = checks.every(([, ok]) => ok) ? 0 : 1;
} finally {
  await db.close();
  await env.close();
}

async function enroll(device: SimulatedDevice, prepared: Awaited<ReturnType<typeof prepareDevices>>[number], t: Tally) {
  try {
    const r = await runFleet({
      profile: env.profile,
      devices: [device],
      prepared: [prepared],
      concurrency: 1,
      ca: env.simCa,
      fetch: env.fetch,
      allowHttp: true,
      pollIntervalMs: 50,
    });
    if (r.ok === 1) {
      t.enrolled++;
      t.latencies.push(r.p50);
    } else for (const [k, n] of Object.entries(r.errors)) t.errors[`enroll: ${k}`] = (t.errors[`enroll: ${k}`] ?? 0) + n;
  } catch (e) {
    fail(t, `enroll: ${(e as Error).message.slice(0, 120)}`);
  }
}

async function ocsp(p: string, t: Tally) {
  try {
    const res = await fetch(`${env.portal.url}${p}`);
    const body = new Uint8Array(await res.arrayBuffer());
    // OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED (0 = successful), ... }
    if (res.status === 200 && body[0] === 0x30 && body.includes(0x0a)) t.ocsp++;
    else fail(t, `ocsp: HTTP ${res.status}`);
  } catch (e) {
    fail(t, `ocsp: ${(e as Error).message.slice(0, 120)}`);
  }
}

async function get(url: string, headers: Record<string, string>, t: Tally, kind: "pages" | "rest") {
  try {
    const res = await fetch(url, { headers, redirect: "manual" });
    await res.arrayBuffer();
    if (res.status === 200) t[kind]++;
    else fail(t, `${kind}: ${new URL(url).pathname} HTTP ${res.status}`);
  } catch (e) {
    fail(t, `${kind}: ${(e as Error).message.slice(0, 120)}`);
  }
}

/** OCSP GET paths (RFC 6960 appendix A, no nonce) for up to 50 of the newest certificates; `previous` if none yet. */
async function ocspRequests(previous: string[]): Promise<string[]> {
  const certs = await db.query<{ pem: string; caId: string }>(`SELECT pem, "caId" FROM "Certificate" ORDER BY "issuedAt" DESC LIMIT 50`);
  if (!certs.length) return previous;
  const issuers = new Map<string, string>();
  const out: string[] = [];
  for (const [i, c] of certs.entries()) {
    let issuerFile = issuers.get(c.caId);
    if (!issuerFile) {
      const [ca] = await db.query<{ certificatePem: string }>(`SELECT "certificatePem" FROM "CertificateAuthority" WHERE id = $1`, [c.caId]);
      issuerFile = path.join(env.dataDir, `soak-issuer-${c.caId}.pem`);
      writeFileSync(issuerFile, ca!.certificatePem);
      issuers.set(c.caId, issuerFile);
    }
    const certFile = path.join(env.dataDir, `soak-leaf-${i}.pem`);
    const reqFile = path.join(env.dataDir, `soak-req-${i}.der`);
    writeFileSync(certFile, c.pem);
    execFileSync("openssl", ["ocsp", "-issuer", issuerFile, "-cert", certFile, "-no_nonce", "-reqout", reqFile], { stdio: "ignore" });
    out.push(`/ocsp/${c.caId}/${encodeURIComponent(readFileSync(reqFile).toString("base64"))}`);
  }
  return out;
}

async function signIn(url: string, email: string, password: string): Promise<string> {
  const csrfRes = await fetch(`${url}/api/auth/csrf`);
  const { csrfToken } = (await csrfRes.json()) as { csrfToken: string };
  const jar = csrfRes.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  const res = await fetch(`${url}/api/auth/callback/credentials`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: jar },
    body: new URLSearchParams({ email, password, csrfToken }),
  });
  const session = res.headers.getSetCookie().find((c) => c.includes("session-token="));
  if (!session) throw new Error(`admin sign-in failed (HTTP ${res.status})`);
  return session.split(";")[0]!;
}

/** The portal's heap and event-loop delay from its own /metrics (prom-client's default metrics). */
async function scrapeMetrics(): Promise<{ heapUsed: number; loopP99: number }> {
  const res = await fetch(`${env.portal.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  const text = await res.text();
  const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, "m").exec(text)?.[1] ?? Number.NaN);
  return { heapUsed: value("nodejs_heap_size_used_bytes"), loopP99: value("nodejs_eventloop_lag_p99_seconds") };
}

/** Connections to the soak's database other than this script's own. */
async function dbConnections(): Promise<number> {
  const [r] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [dbName]);
  return r!.n;
}

function rssMiB(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? Number.NaN);
  return kb / 1024;
}
