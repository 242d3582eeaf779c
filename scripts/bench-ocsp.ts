// `npm run bench:ocsp -- [--certs 50] [--seconds 10] [--connections 32]`
//
// OCSP responses per second for good certificates (RFC 6960 GET, no nonce, as relying parties send
// them), measured with wrk (Debian package wrk) against the built portal, after enrolling a few devices.
// Then the correctness check the cache must keep: revoke one certificate through the REST API and ask
// again at once: the answer must be "revoked" (openssl ocsp).
import "reflect-metadata";
import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runFleet } from "@attested/device-sim";
import { fmt, parseFlags } from "./bench/lib";
import { setupBenchEnv, sql } from "./bench/setup";

const flags = parseFlags(process.argv.slice(2), { certs: "50", seconds: "10", connections: "32", threads: "1" });
const CERTS = Number(flags.certs);

if (spawnSync("sh", ["-c", "command -v wrk"]).status !== 0) {
  console.error("wrk is needed: apt-get install wrk");
  process.exit(2);
}

const env = await setupBenchEnv({ workers: Number(flags.workers ?? 1), devices: CERTS });
try {
  const r = await runFleet({
    profile: env.profile,
    devices: env.devices,
    concurrency: 8,
    ca: env.simCa,
    fetch: env.fetch,
    allowHttp: true,
    pollIntervalMs: 50,
  });
  if (r.failed) throw new Error(`enrollment failed: ${JSON.stringify(r.errors)}`);
  const db = await sql(env.databaseUrl);
  const certs = await db.query<{ id: string; pem: string; caId: string }>(`SELECT id, pem, "caId" FROM "Certificate" ORDER BY "issuedAt"`);
  const [ca] = await db.query<{ certificatePem: string }>(`SELECT "certificatePem" FROM "CertificateAuthority" WHERE id = $1`, [env.ids.caId]);
  await db.close();
  const dir = env.dataDir;
  const caFile = path.join(dir, "issuer.pem");
  writeFileSync(caFile, ca!.certificatePem);

  // One OCSP request per certificate (SHA-1 CertID, no nonce), as a GET path.
  const paths = certs.map((c, i) => {
    const certFile = path.join(dir, `leaf-${i}.pem`);
    writeFileSync(certFile, c.pem);
    const reqFile = path.join(dir, `req-${i}.der`);
    execFileSync("openssl", ["ocsp", "-issuer", caFile, "-cert", certFile, "-no_nonce", "-reqout", reqFile], { stdio: "ignore" });
    const b64 = execFileSync("base64", ["-w0", reqFile], { encoding: "utf8" });
    return `/ocsp/${env.ids.caId}/${encodeURIComponent(b64)}`;
  });
  const lua = path.join(dir, "ocsp.lua");
  writeFileSync(
    lua,
    `paths = {${paths.map((p) => JSON.stringify(p)).join(",")}}\ni = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format("GET", paths[i])\nend\n`,
  );

  const ask = (i: number) => {
    const out = spawnSync(
      "openssl",
      [
        "ocsp",
        "-issuer",
        caFile,
        "-cert",
        path.join(dir, `leaf-${i}.pem`),
        "-url",
        `${env.portal.url}/ocsp/${env.ids.caId}`,
        "-CAfile",
        caFile,
        "-no_nonce",
        "-resp_text",
      ],
      { encoding: "utf8" },
    );
    return out.stdout + out.stderr;
  };
  // Warm up (and prove the answers are right before measuring).
  if (!/: good/.test(ask(0))) throw new Error(`OCSP did not say good: ${ask(0)}`);
  spawnSync("wrk", ["-t1", "-c8", "-d2s", "-s", lua, env.portal.url], { encoding: "utf8" });

  const cpu0 = env.portal.cpu() + env.pg.cpu();
  const wrk = spawnSync("wrk", [`-t${flags.threads}`, `-c${flags.connections}`, `-d${flags.seconds}s`, "--latency", "-s", lua, env.portal.url], {
    encoding: "utf8",
  });
  const cpu = env.portal.cpu() + env.pg.cpu() - cpu0;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(wrk.stdout)?.[1] ?? 0);
  const total = Number(/(\d+) requests in/.exec(wrk.stdout)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(wrk.stdout)?.[1] ?? 0);
  const lat = (p: string) =>
    /\s+(\d+%)\s+([\d.]+\w+)/g.exec(
      wrk.stdout
        .split("Latency Distribution")[1]
        ?.split("\n")
        .find((l) => l.trim().startsWith(p)) ?? "",
    )?.[2] ?? "?";

  // Correctness under the cache: a revocation is visible on the very next request.
  const victim = certs[0]!;
  const beforeRevoke = ask(0);
  await env.api("POST", `/certificates/${victim.id}/revoke`, { reason: "keyCompromise" });
  const afterRevoke = ask(0);
  const otherStillGood = ask(1);

  console.log(
    `portal ${env.portal.url}, ${certs.length} good certificates, ${os.cpus().length} cores, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  console.log(
    `wrk          ${flags.threads} thread(s), ${flags.connections} connections, ${flags.seconds} s, GET /ocsp/{ca}/{request} cycling over the certificates`,
  );
  console.log(`throughput   ${fmt(rps)} responses/s (${total} responses, ${non2xx} non-2xx)`);
  console.log(`latency      p50 ${lat("50%")}, p99 ${lat("99%")}`);
  console.log(`server CPU   ${fmt((cpu * 1e6) / Math.max(1, total), 0)} µs/response (portal + PostgreSQL)`);
  console.log(
    `revocation   before: ${/: (good|revoked|unknown)/.exec(beforeRevoke)?.[1]}; right after POST /certificates/{id}/revoke: ${/: (good|revoked|unknown)/.exec(afterRevoke)?.[1]}; another certificate: ${/: (good|revoked|unknown)/.exec(otherStillGood)?.[1]}`,
  );
  console.log(
    `target       ${rps >= 3000 ? "PASS" : "FAIL"} >= 3,000 responses/s; ${/: revoked/.test(afterRevoke) && /: good/.test(otherStillGood) ? "PASS" : "FAIL"} revocation visible at once`,
  );
  if (!/: revoked/.test(afterRevoke)) process.exitCode = 1;
} finally {
  await env.close();
}
