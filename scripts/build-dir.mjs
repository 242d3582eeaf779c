// Where the portal's build lives. Each build goes into a folder of its own, named after the content of
// the sources it was built from (apps/portal/.next-builds/<hash>), and a server pins the folder it
// started with: a later build (npm start, npm test, a benchmark from the same checkout) never replaces
// files a running server loads. apps/portal/.next-current names the newest complete build.
//
// NEXT_DIST_DIR, when set, names one folder to build into and serve from instead (older checkouts
// compared by bench:compare use it).
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

export const root = path.resolve(import.meta.dirname, "..");
const portal = path.join(root, "apps/portal");
const BUILDS = ".next-builds";
const CURRENT = path.join(portal, ".next-current");
const HASH_FILE = ".attested-source";
/** Builds kept besides the current one and those a live server uses. */
const KEEP = 2;

// Not sources: dependencies, generated code, build output, data, tests, and next-env.d.ts (Next rewrites
// it on every build, naming its build folder).
const SKIP = new Set(["node_modules", "generated", "data", "tests", "test-results", "next-env.d.ts"]);
const skipped = (name) => SKIP.has(name) || name.startsWith(".next") || name.endsWith(".test.ts") || name.endsWith(".tsbuildinfo");

function files(dir, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (skipped(entry.name)) continue;
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) files(p, out);
    else if (entry.isFile()) out.push(p);
  }
  return out;
}

/** The hash of what a build is made from: the portal's and the packages' sources and the lockfile. */
export function sourceHash() {
  const h = createHash("sha256");
  const inputs = [...files(portal), ...files(path.join(root, "packages")), path.join(root, "pnpm-lock.yaml"), path.join(root, "tsconfig.base.json")];
  for (const f of inputs) {
    h.update(path.relative(root, f));
    h.update("\0");
    h.update(readFileSync(f));
    h.update("\0");
  }
  return h.digest("hex").slice(0, 16);
}

const complete = (distDir) => existsSync(path.join(portal, distDir, "BUILD_ID"));
const builtFrom = (distDir) => {
  try {
    return readFileSync(path.join(portal, distDir, HASH_FILE), "utf8");
  } catch {
    return null;
  }
};

/** The build folder (relative to apps/portal) a server starting now serves; null when there is no build. */
export function currentBuild() {
  if (process.env.NEXT_DIST_DIR) return complete(process.env.NEXT_DIST_DIR) ? process.env.NEXT_DIST_DIR : null;
  try {
    const dir = readFileSync(CURRENT, "utf8").trim();
    return complete(dir) ? dir : null;
  } catch {
    return null;
  }
}

/**
 * The build folder for the sources as they are now, and whether it still has to be built. With
 * NEXT_DIST_DIR set, that folder (rebuilt in place when its sources changed); else a new folder per
 * source hash, which no server can be using yet.
 */
export function plannedBuild() {
  const hash = sourceHash();
  const distDir = process.env.NEXT_DIST_DIR || path.join(BUILDS, hash);
  return { distDir, hash, needed: !complete(distDir) || builtFrom(distDir) !== hash };
}

/** Records a finished build: its source hash, and (for the shared folders) that it is now the current one. */
export function markBuilt({ distDir, hash }) {
  writeFileSync(path.join(portal, distDir, HASH_FILE), hash);
  if (process.env.NEXT_DIST_DIR) return;
  makeCurrent(distDir);
  prune();
}

/**
 * The sources' build is already there (not `needed`): it becomes the current one again. Back on an
 * earlier checkout whose build was kept (a rollback after an upgrade), .next-current still named the
 * later build, and the server started on these sources served that build's pages and forms.
 */
export function reuseBuilt({ distDir }) {
  if (!process.env.NEXT_DIST_DIR && currentBuild() !== distDir) makeCurrent(distDir);
  return distDir;
}

function makeCurrent(distDir) {
  const tmp = `${CURRENT}.${process.pid}`;
  writeFileSync(tmp, `${distDir}\n`);
  renameSync(tmp, CURRENT); // atomic: a server starting now sees the old build or the new one, never half
}

// A server registers the build it serves (servers/<pid> in its folder), so pruning spares it.
export function registerServer(distDir, pid = process.pid) {
  const dir = path.join(portal, distDir, "servers");
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, String(pid)), "");
  return () => rmSync(path.join(dir, String(pid)), { force: true });
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === "EPERM";
  }
};

function inUse(distDir) {
  const dir = path.join(portal, distDir, "servers");
  if (!existsSync(dir)) return false;
  return readdirSync(dir).some((name) => alive(Number(name)));
}

/**
 * Runs `build` while holding the build lock of `distDir` (two builds of one folder at once would write the
 * same files); waits while another live process holds it.
 */
export function withBuildLock(distDir, build) {
  const lock = path.join(portal, `${distDir}.lock`);
  mkdirSync(path.dirname(lock), { recursive: true });
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: "wx" });
      break;
    } catch (e) {
      if (e.code !== "EEXIST") throw e;
      const holder = Number(readFileSync(lock, "utf8"));
      if (!holder || !alive(holder)) rmSync(lock, { force: true });
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    }
  }
  try {
    return build();
  } finally {
    rmSync(lock, { force: true });
  }
}

/** Removes old builds: keeps the current one, the newest few, and any a live server uses. */
export function prune() {
  const base = path.join(portal, BUILDS);
  if (!existsSync(base)) return;
  const current = currentBuild();
  const builds = readdirSync(base)
    .filter((name) => !name.endsWith(".lock"))
    .map((name) => path.join(BUILDS, name))
    .filter((d) => d !== current)
    .sort((a, b) => statSync(path.join(portal, b)).mtimeMs - statSync(path.join(portal, a)).mtimeMs);
  for (const d of builds.slice(KEEP)) if (!inUse(d)) rmSync(path.join(portal, d), { recursive: true, force: true });
}
