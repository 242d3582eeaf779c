// `npm run bench:pebble -- [--orders 200] [--concurrency 16] [--warmup 400]`
//
// The same http-01 issuance workload, with the same client, against our server and against Pebble (the
// ACME test CA from Debian's `pebble` package), both over TLS, in one run. Each of C workers has
// an account, registered once per server before any issuance (not timed); each issuance is then: an order
// for one DNS name, the authorization, the http-01 answer, a real validation by the server against a
// responder in this process, finalize with a fresh P-256 CSR, and the certificate download.
// Pebble runs with PEBBLE_VA_NOSLEEP=1 (no random validation delay) and PEBBLE_WFE_NONCEREJECT=0 (no
// deliberate badNonce rejections), resolving every name to 127.0.0.1 through pebble-challtestsrv's DNS;
// our server validates against the same responder (ACME_HTTP01_PORT/ACME_HTTP01_ADDRESS).
import "reflect-metadata";
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, webcrypto } from "node:crypto";
import { openSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { AcmeClient, buildCsr, createDeviceFetch, createDeviceKey, percentile, type AcmePayload } from "@attested/device-sim";
import { fmt, freePort, parseFlags, procCpu, sleep } from "./bench/lib";
import { setupBenchEnv } from "./bench/setup";

const flags = parseFlags(process.argv.slice(2), { orders: "200", concurrency: "16", warmup: "400" });
const N = Number(flags.orders);
const C = Number(flags.concurrency);
const W = Number(flags.warmup);

// ------------------------------------------------------------------ http-01 responder (shared)
const keyAuthorizations = new Map<string, string>();
const responder = http.createServer((req, res) => {
  const token = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]+)$/.exec(req.url ?? "")?.[1];
  const ka = token ? keyAuthorizations.get(token) : undefined;
  if (!ka) return void res.writeHead(404).end();
  res.writeHead(200, { "content-type": "text/plain" }).end(ka);
});
await new Promise<void>((r) => responder.listen(0, "127.0.0.1", () => r()));
const http01Port = (responder.address() as AddressInfo).port;

// ------------------------------------------------------------------ the client
async function thumbprint(publicKey: CryptoKey): Promise<string> {
  const jwk = await webcrypto.subtle.exportKey("jwk", publicKey);
  // RFC 7638: the required members in lexicographic order, no whitespace.
  return createHash("sha256")
    .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }))
    .digest("base64url");
}

interface Account {
  client: AcmeClient;
  thumbprint: string;
}

/** An account, registered once (as certbot and lego do), then used for every order of one worker. */
async function newAccount(directoryUrl: string, f: typeof fetch): Promise<Account> {
  const accountKey = (await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const client = new AcmeClient({ directoryUrl, fetch: f, accountKey, pollIntervalMs: 20, maxRetryAfterMs: 50, pollTimeoutMs: 60_000 });
  await client.createAccount({ contact: ["mailto:ops@example.com"] });
  return { client, thumbprint: await thumbprint(accountKey.publicKey) };
}

/** One issuance: order, http-01 validation, finalize with a fresh P-256 key, download. */
async function issueOne({ client, thumbprint: tp }: Account, name: string): Promise<void> {
  const { url: orderUrl, order } = await client.newOrder([{ type: "dns", value: name }]);
  for (const authzUrl of order.authorizations) {
    const authz = await client.getAuthorization(authzUrl);
    if (authz.status === "valid") continue;
    const ch = authz.challenges.find((c) => c.type === "http-01");
    if (!ch?.token) throw new Error("no http-01 challenge");
    keyAuthorizations.set(ch.token, `${ch.token}.${tp}`);
    await client.post(ch.url, {}, { what: "http-01 answer" });
    await client.waitForAuthorization(authzUrl);
    keyAuthorizations.delete(ch.token);
  }
  await client.waitForOrder(orderUrl, ["ready", "valid"]);
  const key = await createDeviceKey({ keyType: "ECSECPrimeRandom", keySize: 256, hardwareBound: false });
  const payload = {
    Subject: [[["CN", name]]],
    SubjectAltName: { rfc822Name: [], dNSName: [name], uniformResourceIdentifier: [], ntPrincipalName: [] },
    ExtendedKeyUsage: [],
  } as unknown as AcmePayload;
  const finalized = await client.finalize(order.finalize, await buildCsr(payload, key));
  const done = finalized.status === "valid" && finalized.certificate ? finalized : await client.waitForOrder(orderUrl, ["valid"]);
  const pem = await client.downloadCertificate(done.certificate!);
  if (!pem.includes("BEGIN CERTIFICATE")) throw new Error("no certificate");
}

interface RunResult {
  ok: number;
  failed: number;
  seconds: number;
  throughput: number;
  p50: number;
  p99: number;
  errors: Record<string, number>;
}

/**
 * C accounts, one after the other, registered once per server before any issuance and kept for the
 * warm-up and both rounds. (Debian's Pebble 2.4 can stop answering new accounts: concurrently, or
 * after some hundred issuances; a read lock of its in-memory store is never released.)
 */
async function accountsFor(label: string, directoryUrl: string, f: typeof fetch): Promise<Account[]> {
  const accounts: Account[] = [];
  for (let i = 0; i < C; i++) {
    accounts.push(
      await newAccount(directoryUrl, f).catch((e: Error) => Promise.reject(new Error(`${label}: account ${i + 1} at ${directoryUrl}: ${e.message}`))),
    );
  }
  return accounts;
}

async function run(accounts: Account[], prefix: string, count: number): Promise<RunResult> {
  let next = 0;
  let failed = 0;
  const durations: number[] = [];
  const errors: Record<string, number> = {};
  const worker = async (account: Account) => {
    while (next < count) {
      const i = next++;
      const t = performance.now();
      try {
        await issueOne(account, `${prefix}${i}.bench.test`);
        durations.push(performance.now() - t);
      } catch (e) {
        failed++;
        const k = (e as Error).message.slice(0, 100);
        errors[k] = (errors[k] ?? 0) + 1;
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(accounts.slice(0, count).map(worker));
  const seconds = (performance.now() - t0) / 1000;
  durations.sort((a, b) => a - b);
  return {
    ok: durations.length,
    failed,
    seconds,
    throughput: durations.length / seconds,
    p50: percentile(durations, 50),
    p99: percentile(durations, 99),
    errors,
  };
}

// ------------------------------------------------------------------ the servers
const env = await setupBenchEnv({
  workers: Number(flags.workers ?? 1),
  devices: 1,
  tls: true,
  allowServerNames: true,
  env: { ACME_HTTP01_PORT: String(http01Port), ACME_HTTP01_ADDRESS: "127.0.0.1", ACME_VALIDATION_ALLOW_PRIVATE: "1" },
});
const children: ChildProcess[] = [];
try {
  // Our side: a TLS server template and the platform's directory.
  const template = await env.api<{ id: string }>("POST", "/certificate-templates", {
    name: "TLS server",
    subject: "CN=${/csr/san/dnsname}",
    validityDays: 90,
    sanDns: "${/csr/san/dnsname}",
    extendedKeyUsages: ["serverAuth"],
  });
  await env.api("PATCH", `/device-management-platforms/${env.ids.platformId}`, {
    name: "Kandji",
    description: "",
    allowServerNames: true,
    defaultCaId: env.ids.caId,
    defaultTemplateId: template.id,
  });
  const ourDirectory = /<key>DirectoryURL<\/key>\s*<string>([^<]+)<\/string>/.exec(env.profile)![1]!;

  // Pebble, with the same kind of TLS certificate, and challtestsrv as its DNS (every name → 127.0.0.1).
  const dnsPort = await freePort();
  const challtest = spawn(
    "pebble-challtestsrv",
    [
      "-dns01",
      `127.0.0.1:${dnsPort}`,
      "-defaultIPv4",
      "127.0.0.1",
      "-defaultIPv6",
      "",
      "-http01",
      "",
      "-https01",
      "",
      "-tlsalpn01",
      "",
      "-management",
      `127.0.0.1:${await freePort()}`,
    ],
    { stdio: "ignore" },
  );
  children.push(challtest);
  // A request unanswered for 30 s fails its issuance (and its round) rather than holding the run.
  const f = createDeviceFetch({ ca: readFileSync(env.tls!.caFile), timeoutMs: 30_000 });
  /**
   * A fresh Pebble with its C accounts. Each round gets its own: Debian's Pebble 2.4 can deadlock after a
   * few hundred issuances (a read lock of its in-memory store is never released), which used to void
   * the second round.
   */
  const startPebble = async (n: number) => {
    const port = await freePort();
    const config = path.join(env.dataDir, `pebble-config-${n}.json`);
    writeFileSync(
      config,
      JSON.stringify({
        pebble: {
          listenAddress: `127.0.0.1:${port}`,
          managementListenAddress: `127.0.0.1:${await freePort()}`,
          certificate: env.tls!.certFile,
          privateKey: env.tls!.keyFile,
          httpPort: http01Port,
          tlsPort: await freePort(),
          ocspResponderURL: "",
          externalAccountBindingRequired: false,
        },
      }),
    );
    const logFile = path.join(env.dataDir, `pebble-${n}.log`);
    const proc = spawn("pebble", ["-config", config, "-dnsserver", `127.0.0.1:${dnsPort}`], {
      env: { ...process.env, PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0", PEBBLE_AUTHZREUSE: "0" },
      stdio: ["ignore", openSync(logFile, "a"), openSync(logFile, "a")],
    });
    children.push(proc);
    const directory = `https://localhost:${port}/dir`;
    for (let i = 0; ; i++) {
      if (
        (await f(directory)
          .then((r) => r.status)
          .catch(() => 0)) === 200
      )
        break;
      if (i > 100) throw new Error(`pebble did not start: ${readFileSync(logFile, "utf8").slice(-2000)}`);
      await sleep(100);
    }
    return { proc, directory, accounts: await accountsFor(`pebble ${n}`, directory, f) };
  };
  const pebbles = [await startPebble(1), await startPebble(2)];

  console.log(`ours   ${ourDirectory.replace(/acme\/[^/]+\//, "acme/<secret>/")} (pid ${env.portal.pid}, PostgreSQL ${env.pg.pid()})`);
  console.log(
    `pebble ${pebbles.map((p) => `${p.directory} (pid ${p.proc.pid})`).join(", then ")}, ${N} issuances each at concurrency ${C} after ${W} (ours) and ${Math.min(W, 16)} (pebble) warm-up, ${os.cpus().length} cores, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );

  // Each round starts with uncounted issuances: W on our server, whose JavaScript V8 optimizes only after
  // a few hundred calls of a function (see bench-enroll.ts); 16 on Pebble, which is compiled ahead of time
  // (and whose Debian build stopped answering new accounts after a 400-issuance warm-up).
  const ourAccounts = await accountsFor("ours", ourDirectory, f);
  const measure = async (label: string, accounts: Account[], cpu: () => number) => {
    await run(accounts, `warm-${label}-`, label.startsWith("pebble") ? Math.min(W, 16) : W);
    const c0 = cpu();
    const k0 = process.cpuUsage();
    const r = await run(accounts, `${label}-`, N);
    const k = process.cpuUsage(k0);
    return { ...r, cpuMs: ((cpu() - c0) * 1000) / Math.max(1, r.ok), clientMs: (k.user + k.system) / 1000 / Math.max(1, r.ok) };
  };
  // Alternate the order between two rounds so neither side always runs on a warmer or quieter machine.
  const ours1 = await measure("ours", ourAccounts, () => env.portal.cpu() + env.pg.cpu());
  const peb1 = await measure("pebble", pebbles[0]!.accounts, () => procCpu(pebbles[0]!.proc.pid!));
  pebbles[0]!.proc.kill("SIGTERM");
  const peb2 = await measure("pebble2", pebbles[1]!.accounts, () => procCpu(pebbles[1]!.proc.pid!));
  const ours2 = await measure("ours2", ourAccounts, () => env.portal.cpu() + env.pg.cpu());
  const merge = (a: typeof ours1, b: typeof ours1) => ({
    ok: a.ok + b.ok,
    failed: a.failed + b.failed,
    seconds: a.seconds + b.seconds,
    throughput: (a.ok + b.ok) / (a.seconds + b.seconds),
    p50: (a.p50 + b.p50) / 2,
    p99: Math.max(a.p99, b.p99),
    cpuMs: (a.cpuMs * a.ok + b.cpuMs * b.ok) / Math.max(1, a.ok + b.ok),
    clientMs: (a.clientMs * a.ok + b.clientMs * b.ok) / Math.max(1, a.ok + b.ok),
    errors: { ...a.errors, ...b.errors },
  });
  const ours = merge(ours1, ours2);
  const peb = merge(peb1, peb2);
  const line = (name: string, r: typeof ours, what: string) =>
    console.log(
      `${name.padEnd(7)} ${r.ok} ok, ${r.failed} failed, ${fmt(r.throughput)} issuances/s, p50 ${fmt(r.p50, 0)} ms, p99 ${fmt(r.p99, 0)} ms, server CPU ${fmt(r.cpuMs)} ms/issuance (${what}), client CPU ${fmt(r.clientMs)} ms/issuance`,
    );
  console.log("");
  line("ours", ours, "portal + PostgreSQL");
  line("pebble", peb, "pebble, in memory");
  for (const [k, v] of Object.entries({ ...ours.errors, ...peb.errors })) console.log(`  error ${v} x ${k}`);
  const round = (r: typeof ours1) => `${fmt(r.throughput)}/s${r.failed ? ` (${r.failed} failed: not compared)` : ""}`;
  console.log(`rounds  ours ${round(ours1)} then ${round(ours2)}; pebble ${round(peb1)} then ${round(peb2)}`);
  const cores = os.cpus().length;
  console.log(
    `ceiling on ${cores} cores shared by client and server: ours ${fmt((1000 * cores) / (ours.cpuMs + ours.clientMs))}/s, pebble ${fmt((1000 * cores) / (peb.cpuMs + peb.clientMs))}/s (cores / (server + client CPU per issuance))`,
  );
  // Only rounds where every issuance succeeded are compared: a server that stalls (Debian's Pebble can
  // deadlock) or fails makes its round's rate meaningless, and must not flatter either side.
  const clean = (rs: (typeof ours1)[]) => rs.filter((r) => r.failed === 0).map((r) => r.throughput);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const oursClean = clean([ours1, ours2]);
  const pebClean = clean([peb1, peb2]);
  if (oursClean.length === 0 || pebClean.length === 0) {
    console.log(`ratio   no valid comparison: ${oursClean.length === 0 ? "every round of ours" : "every round of Pebble"} had failures (target 1.5 x: FAIL)`);
  } else {
    const ratio = mean(oursClean) / mean(pebClean);
    const partial =
      oursClean.length < 2 || pebClean.length < 2 ? ` over the rounds without failures (ours ${oursClean.length}, Pebble ${pebClean.length})` : "";
    console.log(`ratio   ours / pebble throughput = ${fmt(ratio, 2)} x${partial} (target 1.5 x: ${ratio >= 1.5 ? "PASS" : "FAIL"})`);
  }
  if (ours.failed || peb.failed) process.exitCode = 1;
} finally {
  for (const c of children) c.kill("SIGTERM");
  responder.close();
  await env.close();
}
