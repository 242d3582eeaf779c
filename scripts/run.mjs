#!/usr/bin/env node
// Entry point of `npm start`, `npm test`, `npm run admin`, `npm run demo`: needs only Node and npm.
// Installs pnpm and the workspace's dependencies when missing or stale, then runs the task.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { constants } from "node:os";
import path from "node:path";
import { markBuilt, plannedBuild, reuseBuilt, withBuildLock } from "./build-dir.mjs";

const root = path.resolve(import.meta.dirname, "..");
const PNPM_VERSION = "12.4.2";
process.env.NEXT_TELEMETRY_DISABLED = "1";
process.env.CHECKPOINT_DISABLE = "1";

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: "inherit", cwd: root, env: process.env, ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}
function must(cmd, args, opts) {
  const code = run(cmd, args, opts);
  if (code !== 0) process.exit(code);
}

let pnpmCmd;
function pnpm() {
  if (pnpmCmd) return pnpmCmd;
  const probe = spawnSync("pnpm", ["--version"], { encoding: "utf8" });
  if (probe.status === 0 && probe.stdout.trim() === PNPM_VERSION) return (pnpmCmd = ["pnpm"]);
  // No global pnpm of our version: run it through npx (fetched once from the npm registry).
  return (pnpmCmd = ["npx", "--yes", `pnpm@${PNPM_VERSION}`]);
}
const pn = (...args) => must(pnpm()[0], [...pnpm().slice(1), ...args]);

function installHash() {
  const h = createHash("sha256");
  for (const f of ["pnpm-lock.yaml", "pnpm-workspace.yaml", "prisma/schema.prisma"]) h.update(readFileSync(path.join(root, f)));
  return h.digest("hex");
}

function ensureInstalled() {
  const stamp = path.join(root, "node_modules", ".attested-install");
  const want = installHash();
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === want) return;
  console.log("Installing dependencies…");
  // pkcs11js (the PKCS#11 binding) compiles against Node's headers: those installed with Node, when
  // present, rather than a download from nodejs.org.
  const nodeDir = path.resolve(path.dirname(process.execPath), "..");
  if (!process.env.npm_config_nodedir && existsSync(path.join(nodeDir, "include/node/node.h"))) process.env.npm_config_nodedir = nodeDir;
  pn("install", "--frozen-lockfile");
  must(process.execPath, [path.join(root, "node_modules/prisma/build/index.js"), "generate", "--config", "prisma.config.ts"], {
    env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: "/bin/true" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  writeFileSync(stamp, want);
}

/** Builds the portal when no build was made from the sources as they are (see build-dir.mjs). */
export function ensureBuilt() {
  const planned = plannedBuild();
  if (!planned.needed) return reuseBuilt(planned);
  return withBuildLock(planned.distDir, () => {
    // Built by another process while this one waited for the lock.
    if (!plannedBuild().needed) return reuseBuilt(planned);
    console.log("Building the portal…");
    must(process.execPath, [path.join(root, "apps/portal/node_modules/next/dist/bin/next"), "build"], {
      cwd: path.join(root, "apps/portal"),
      env: { ...process.env, NEXT_DIST_DIR: planned.distDir },
    });
    markBuilt(planned);
    return planned.distDir;
  });
}

const tsx = (file, args = [], env = {}) => run(process.execPath, ["--import", "tsx", path.join(root, file), ...args], { env: { ...process.env, ...env } });

/**
 * A server (`start`, `demo`) in a child process that is sent the SIGTERM or SIGINT this one gets, then
 * its exit code. A blocked spawnSync could pass on nothing: `kill` of this process left the server
 * running without it, and as a container's PID 1 (the Dockerfile's CMD), which the kernel sends only
 * the signals it handles, `docker stop` waited out its grace period and killed the server with SIGKILL.
 */
function serve(file, args, env) {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, file), ...args], { stdio: "inherit", cwd: root, env: { ...process.env, ...env } });
  for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => child.kill(signal));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve(code ?? 128 + (constants.signals[signal] ?? 0)));
  });
}

const [task, ...args] = process.argv.slice(2);
ensureInstalled();
process.exit(await runTask());

/** Runs `task`; its exit code. */
async function runTask() {
  switch (task) {
    case "install":
      return 0;
    case "build":
      ensureBuilt();
      return 0;
    case "start":
      ensureBuilt();
      return serve("apps/portal/server/main.ts", args, { NODE_ENV: "production" });
    case "test":
      return run(process.execPath, [path.join(root, "scripts/test.mjs"), ...args]);
    case "admin":
      return tsx("apps/portal/server/admin.ts", args);
    case "demo":
      ensureBuilt();
      return serve("scripts/demo.ts", args, { NODE_ENV: "production" });
    case "device":
      return tsx("apps/device-sim/src/cli.ts", args);
    case "bench-enroll":
    case "bench-pebble":
    case "bench-ocsp":
    case "faults":
    case "soak":
      ensureBuilt();
      return tsx(`scripts/${task}.ts`, args, { NODE_ENV: "production" });
    case "bench-events":
      // Queries only: needs DATABASE_URL, not a build.
      return tsx("scripts/bench-events.ts", args);
    case "bench-sweep":
      // The sweep's own code against the Kandji simulator: needs DATABASE_URL, not a build.
      return tsx("scripts/bench-sweep.ts", args);
    case "bench-compare":
      // Builds this checkout here and the base commit in its worktree; each bench:enroll builds if stale.
      ensureBuilt();
      return tsx("scripts/bench-compare.ts", args, { NODE_ENV: "production" });
    case "migrate-create":
      return tsx("packages/db/src/cli/migrate-create.ts", args);
    default:
      console.error(
        "usage: node scripts/run.mjs start|test|admin|demo|build|migrate-create|bench-enroll|bench-pebble|bench-ocsp|faults|soak|bench-events|bench-sweep|bench-compare",
      );
      return 2;
  }
}
