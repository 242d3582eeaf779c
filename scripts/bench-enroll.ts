// `npm run bench:enroll -- [--devices 400] [--concurrency 16] [--warmup 400] [--tls] [--cpu-prof DIR] [--hsm]`
//
// Full Apple enrollments (ACME device-attest-01: account, order, attestation, finalize with key binding,
// template, issuance, events) by the device simulator against the built portal on a private PostgreSQL,
// configured through the REST API. Prints throughput, latency percentiles, CPU per enrollment (portal,
// PostgreSQL, client) and the crypto bound measured in the same run. --hsm: then the same run again with the
// issuing CA's key in a SoftHSM2 token, and the token's signatures/s beside the software key's.
import "reflect-metadata";
import { mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { prepareDevices, runFleet } from "@attested/device-sim";
import { signatureRates } from "./bench/hsm";
import { measureCryptoCost, meanCryptoCost, JWS_PER_ENROLLMENT } from "./bench/crypto-bound";
import { fmt, mainThreadCpu, mainThreadSched, machineCpu, parseFlags, procCpuSplit } from "./bench/lib";
import { summarizeProfiles } from "./bench/profile-summary";
import { ENROLL_TEMPLATE, setupBenchEnv, sql } from "./bench/setup";

const flags = parseFlags(process.argv.slice(2), { devices: "400", concurrency: "16", warmup: "400" });
const N = Number(flags.devices);
const C = Number(flags.concurrency);
const W = Number(flags.warmup);
const HSM = flags.hsm === "true";
const HSM_WARMUP = 50;
const cpuProfDir =
  flags["cpu-prof"] && flags["cpu-prof"] !== "true" ? path.resolve(flags["cpu-prof"]) : flags["cpu-prof"] ? path.resolve("bench-profiles") : null;
if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });

const env = await setupBenchEnv({
  workers: Number(flags.workers ?? 1),
  devices: N + W + (HSM ? HSM_WARMUP + N : 0),
  hsm: HSM,
  tls: flags.tls === "true",
  pgSocket: flags["pg-socket"] === "true",
  nodeArgs: cpuProfDir ? ["--cpu-prof", "--cpu-prof-dir", cpuProfDir] : [],
});
try {
  console.log(
    `portal ${env.portal.url} (pid ${env.portal.pid}), PostgreSQL pid ${env.pg.pid()}, ${os.cpus().length} cores, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  console.log(`flow: ${env.policyNote}`);

  // Warm-up (JIT, route compilation, the CA key unsealed once): not counted. V8 optimizes a function that
  // runs once per enrollment only after a few hundred calls (--trace-opt: after 32 warm-up enrollments,
  // hundreds of functions were still being compiled during the measured run), so warm up as long as we measure.
  const warm = await runFleet({
    profile: env.profile,
    devices: env.devices.slice(0, W),
    concurrency: C,
    ca: env.simCa,
    fetch: env.fetch,
    allowHttp: true,
    pollIntervalMs: 50,
    prepared: await prepareDevices(env.profile, env.devices.slice(0, W)),
  });
  if (warm.failed) console.log(`warm-up failures: ${JSON.stringify(warm.errors)}`);

  // The crypto bound, measured in this process, single-threaded, while the server is idle: now and again
  // after the run. The machine's speed drifts (the same operations have cost 20 % more a minute later),
  // so the bound is the mean of both, and both are printed.
  const costOpts = { profile: env.profile, template: ENROLL_TEMPLATE, simCa: env.simCa };
  const costBefore = await measureCryptoCost(costOpts);

  // BENCH_PG_STATS=1: which statements the measured run executed, and what they cost PostgreSQL.
  const stats = process.env.BENCH_PG_STATS ? await sql(env.databaseUrl) : null;
  await stats?.query(`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`);
  await stats?.query(`SELECT pg_stat_statements_reset()`);

  // Device keys, CSRs and ACME account keys are made before the clock (as each device makes them on its own hardware);
  // attestations, which carry the server's challenge token, and every JWS are made during the run.
  const prepared = await prepareDevices(env.profile, env.devices.slice(W));
  const split0 = procCpuSplit(env.portal.pid);
  const loop0 = mainThreadCpu(env.portal.pid);
  const clientLoop0 = mainThreadCpu(process.pid);
  const sched0 = mainThreadSched(env.portal.pid);
  const cpu0 = { portal: env.portal.cpu(), pg: env.pg.cpu(), client: process.cpuUsage(), machine: machineCpu() };
  const r = await runFleet({
    profile: env.profile,
    devices: env.devices.slice(W),
    concurrency: C,
    ca: env.simCa,
    fetch: env.fetch,
    allowHttp: true,
    pollIntervalMs: 50,
    prepared,
  });
  const cpu1 = { portal: env.portal.cpu(), pg: env.pg.cpu(), client: process.cpuUsage(cpu0.client), machine: machineCpu() };
  const split1 = procCpuSplit(env.portal.pid);
  const loop1 = mainThreadCpu(env.portal.pid);
  const clientLoop1 = mainThreadCpu(process.pid);
  const sched1 = mainThreadSched(env.portal.pid);
  const costAfter = await measureCryptoCost(costOpts);
  const cost = meanCryptoCost(costBefore, costAfter);

  const portalCpu = cpu1.portal - cpu0.portal;
  const pgCpu = cpu1.pg - cpu0.pg;
  const clientCpu = (cpu1.client.user + cpu1.client.system) / 1e6;
  const machine = cpu1.machine - cpu0.machine;
  const cores = os.cpus().length;
  // Cores the server side had: what the client (same machine) left of them, on average over the run.
  const clientCores = clientCpu / r.seconds;
  const serverCores = Math.max(0.1, cores - clientCores);
  const boundPerCore = 1000 / cost.perEnrollmentMs;
  const bound = boundPerCore * serverCores;

  // Integrity: what the clients got is what the database holds.
  const db = await sql(env.databaseUrl);
  const [{ n: certs }] = await db.query<{ n: string }>(`SELECT count(*) AS n FROM "Certificate"`);
  const [{ n: issuedEvents }] = await db.query<{ n: string }>(`SELECT count(*) AS n FROM "Event" WHERE type = 'Certificate Issued'`);
  const [{ n: dupOrders }] = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM (SELECT "acmeOrderId" FROM "Certificate" WHERE "acmeOrderId" IS NOT NULL GROUP BY 1 HAVING count(*) > 1) d`,
  );
  await db.close();

  if (stats) {
    const top = await stats.query<{ calls: string; ms: number; q: string }>(
      `SELECT calls, total_exec_time AS ms, regexp_replace(query, '\\s+', ' ', 'g') AS q FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 25`,
    );
    console.log(`\nPostgreSQL statements in the measured run (per enrollment: calls, execution ms):`);
    for (const t of top) console.log(`  ${fmt(Number(t.calls) / r.ok, 2).padStart(6)} ${fmt(t.ms / r.ok, 3).padStart(7)}  ${t.q.slice(0, 150)}`);
    await stats.close();
  }
  const per = (s: number) => (r.ok ? (s * 1000) / r.ok : NaN);
  console.log("");
  console.log(`enrollments        ${r.ok} ok, ${r.failed} failed, concurrency ${C}, ${r.seconds} s`);
  for (const [k, v] of Object.entries(r.errors)) console.log(`  error            ${v} x ${k}`);
  console.log(`throughput         ${fmt(r.throughput)} enrollments/s`);
  console.log(`latency            p50 ${fmt(r.p50, 0)} ms, p95 ${fmt(r.p95, 0)} ms, p99 ${fmt(r.p99, 0)} ms`);
  console.log(
    `server CPU         ${fmt(per(portalCpu))} ms/enrollment (portal process), ${fmt(per(pgCpu))} ms (PostgreSQL), ${fmt(per(portalCpu + pgCpu))} ms together`,
  );
  if (Number(flags.workers ?? 1) <= 1)
    console.log(
      `                   portal: ${fmt(per(split1[0] - split0[0]))} ms user + ${fmt(per(split1[1] - split0[1]))} ms system (kernel: sockets, files); ` +
        `its event loop thread ${fmt(per(loop1 - loop0))} ms, busy ${fmt((100 * (loop1 - loop0)) / r.seconds, 0)} % of the run ` +
        `and waiting for a core ${fmt((100 * (sched1[1] - sched0[1])) / r.seconds, 0)} %`,
    );
  console.log(
    `client CPU         ${fmt(per(clientCpu))} ms/enrollment (device and Kandji simulators, same machine: ${fmt(clientCores, 2)} of ${cores} cores; ` +
      `event loop busy ${fmt((100 * (clientLoop1 - clientLoop0)) / r.seconds, 0)} %)`,
  );
  console.log(
    `                   device keys, CSRs and account keys made before the clock; attestations (they carry the server's token) and JWS during the run`,
  );
  // Server and client share the cores: this run's CPU per enrollment, all of it, sets what the machine allows.
  const allCpu = per(portalCpu + pgCpu + clientCpu);
  console.log(
    `machine CPU        ${fmt(machine / r.seconds, 2)} of ${cores} cores busy (everything on the machine); ` +
      `${fmt(allCpu)} ms per enrollment (server + client) would allow ${fmt((cores * 1000) / allCpu)}/s with every core busy`,
  );
  console.log(
    `crypto cost        ${fmt(cost.perEnrollmentMs, 2)} ms/enrollment = ${JWS_PER_ENROLLMENT} JWS x ${fmt(cost.jwsVerifyMs, 3)} + attestation ${fmt(cost.attestationMs, 3)} + CSR ${fmt(cost.csrMs, 3)} + issuance ${fmt(cost.issueMs, 3)} ms`,
  );
  console.log(
    `                   mean of ${fmt(costBefore.perEnrollmentMs, 2)} ms measured before the run and ${fmt(costAfter.perEnrollmentMs, 2)} ms after it`,
  );
  console.log(
    `crypto bound       ${fmt(bound)} enrollments/s = ${fmt(boundPerCore)}/s per core x ${fmt(serverCores, 2)} cores left to the server (${cores} cores minus the client's measured share)`,
  );
  console.log(`ratio              throughput / bound = ${fmt((100 * r.throughput) / bound)} %`);
  // What the simulators alone allow on this machine: even a server that cost nothing could not go faster.
  const clientCeiling = (cores * 1000) / per(clientCpu);
  console.log(
    `client ceiling     ${fmt(clientCeiling)} enrollments/s with a server that cost nothing (${cores} cores / client CPU) = ${fmt((100 * clientCeiling) / bound)} % of the bound`,
  );
  console.log(
    `server efficiency  crypto ${fmt(cost.perEnrollmentMs, 2)} ms of ${fmt(per(portalCpu + pgCpu), 2)} ms server CPU per enrollment = ${fmt((100 * cost.perEnrollmentMs) / per(portalCpu + pgCpu))} %`,
  );
  console.log(
    `integrity          ${certs} certificates in the database for ${r.ok + warm.ok} received, ${issuedEvents} "Certificate Issued" events, ${dupOrders} orders with two certificates`,
  );
  console.log(
    `targets            ${r.throughput >= 60 ? "PASS" : "FAIL"} >= 60/s at C=16; ${r.p99 < 1000 ? "PASS" : "FAIL"} p99 < 1 s; ${r.throughput / bound >= 0.5 ? "PASS" : "FAIL"} >= 50 % of the crypto bound`,
  );
  if (Number(certs) !== r.ok + warm.ok || Number(dupOrders) !== 0) process.exitCode = 1;

  if (HSM && env.hsm && env.ids.hsmCaId) {
    // The same enrollments, issued by the CA whose key is in the token.
    await env.issueFrom(env.ids.hsmCaId);
    const hsmDevices = env.devices.slice(W + N);
    const run = async (devices: typeof hsmDevices) =>
      runFleet({
        profile: env.profile,
        devices,
        concurrency: C,
        ca: env.simCa,
        fetch: env.fetch,
        allowHttp: true,
        pollIntervalMs: 50,
        prepared: await prepareDevices(env.profile, devices),
      });
    await run(hsmDevices.slice(0, HSM_WARMUP));
    const h = await run(hsmDevices.slice(HSM_WARMUP));
    const sig = await signatureRates(env.hsm);
    console.log("");
    console.log(`HSM (SoftHSM2, PKCS#11) beside the software key, issuing CA EC P-256 / SHA-256:`);
    console.log(
      `signatures/s       token ${fmt(sig.hsm.serial)} one at a time, ${fmt(sig.hsm.concurrent)} at ${C} concurrent (one session, serialized); ` +
        `software ${fmt(sig.software.serial)} / ${fmt(sig.software.concurrent)}`,
    );
    console.log(`enrollments/s      token ${fmt(h.throughput)} (${h.ok} ok, ${h.failed} failed); software ${fmt(r.throughput)}`);
    for (const [k, v] of Object.entries(h.errors)) console.log(`  error            ${v} x ${k}`);
    console.log(`latency            token p50 ${fmt(h.p50, 0)} ms, p99 ${fmt(h.p99, 0)} ms; software p50 ${fmt(r.p50, 0)} ms, p99 ${fmt(r.p99, 0)} ms`);
    if (h.failed) process.exitCode = 1;
  }
} finally {
  await env.close();
  if (cpuProfDir) console.log(`\n${summarizeProfiles(cpuProfDir)}`);
}
