import { spawnSync } from "node:child_process";
import { appendFileSync, copyFileSync, mkdirSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { currentBuild } from "../../../scripts/build-dir.mjs";
import { createHash } from "node:crypto";
import { callServerAction, freshPostgres, signInOverHttp, startPortal, tempDir, type PortalProcess } from "./harness";

// An operator runs the README's commands side by side on one checkout: a server is up, then a build and
// a benchmark run from the same folder. The server must keep serving its own build (pages and forms),
// and the checkout must stay clean.
describe.skipIf(!process.env.DATABASE_URL)("a build and a benchmark next to a running server", () => {
  const root = path.resolve(import.meta.dirname, "../../..");
  const ADMIN = { email: "builds@example.com", password: "builds-admin-pass-73" };
  let portal: PortalProcess;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const fresh = await freshPostgres();
    drop = fresh.drop;
    portal = await startPortal({ DATABASE_URL: fresh.url, DATA_DIR: tempDir(), ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });
  }, 120_000);
  afterAll(async () => {
    await portal?.stop();
    await drop?.();
  });

  const git = (...args: string[]) => spawnSync("git", args, { cwd: root, encoding: "utf8" }).stdout;
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [path.join(root, "scripts/run.mjs"), ...args], { cwd: root, encoding: "utf8", env: process.env });

  it("leaves the running server's pages and forms working, and the checkout as it was", async () => {
    const served = currentBuild();
    expect(served).toBeTruthy();
    const servedAt = statSync(path.join(root, "apps/portal", served!, "BUILD_ID")).mtimeMs;
    const tracked = git("status", "--porcelain", "--untracked-files=no");

    // What a build next to it used to do: Next rewrites next-env.d.ts (naming its build folder), and
    // every source's mtime moves (a checkout, an editor's save-all). Neither is a change of source.
    const envFile = path.join(root, "apps/portal/next-env.d.ts");
    const envBefore = readFileSync(envFile, "utf8");
    appendFileSync(envFile, "// rewritten by another build\n");
    const now = new Date();
    for (const f of readdirSync(path.join(root, "packages/pki/src"))) utimesSync(path.join(root, "packages/pki/src", f), now, now);
    try {
      const build = run("build");
      expect(build.status).toBe(0);
      expect(build.stdout).not.toContain("Building the portal");
    } finally {
      writeFileSync(envFile, envBefore);
    }

    // A benchmark from the same checkout: its own PostgreSQL cluster and server, the same build.
    const bench = run("bench-enroll", "--devices", "4", "--warmup", "2", "--concurrency", "2");
    expect(bench.status, bench.stdout.slice(-2000) + bench.stderr.slice(-2000)).toBe(0);
    expect(bench.stdout).toMatch(/throughput\s+[\d.]+ enrollments\/s/);

    // The running server still serves its build: sign in, open a page, save a form.
    expect(statSync(path.join(root, "apps/portal", served!, "BUILD_ID")).mtimeMs).toBe(servedAt);
    const { cookie } = await signInOverHttp(portal.url, ADMIN.email, ADMIN.password);
    expect(cookie).toBeTruthy();
    const page = await fetch(`${portal.url}/settings/users`, { headers: { cookie: cookie! }, redirect: "manual" });
    expect(page.status).toBe(200);
    const saved = await callServerAction(portal.url, cookie!, "/settings/users", "createUserAction", {
      name: "Grace",
      email: "grace@example.com",
      role: "AUDITOR",
      password: "grace-auditor-pass-58",
    });
    const text = await saved.text();
    expect(text).not.toMatch(/Failed to find Server Action/);
    expect(text).toContain("added as Auditor");
    expect(portal.output()).not.toMatch(/Failed to find Server Action/);
    expect(git("status", "--porcelain", "--untracked-files=no")).toBe(tracked);
  }, 600_000);
});

// An upgrade, then a rollback: the checkout goes back to sources whose build is still kept. `npm start`
// (run.mjs) must serve that build again, not the later one .next-current named. In a copy of the
// launcher in a folder of its own (installed, with made-up builds), so the real checkout's current
// build is never touched.
describe("back on sources built before", () => {
  const real = path.resolve(import.meta.dirname, "../../..");
  const root = tempDir("attested-rollback-");
  const portal = path.join(root, "apps/portal");
  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  };
  const run = (...args: string[]) => spawnSync(process.execPath, [path.join(root, "scripts/run.mjs"), ...args], { cwd: root, encoding: "utf8" });
  const current = () => readFileSync(path.join(portal, ".next-current"), "utf8").trim();
  /** What `next build` leaves for run.mjs: a folder with BUILD_ID, recorded with markBuilt. */
  const fakeBuild = async () => {
    const dirs = (await import(path.join(root, "scripts/build-dir.mjs"))) as typeof import("../../../scripts/build-dir.mjs");
    const planned = dirs.plannedBuild();
    write(path.join("apps/portal", planned.distDir, "BUILD_ID"), "fake");
    dirs.markBuilt(planned);
    return planned.distDir;
  };

  it("npm start's build step makes the earlier build current again, without building", async () => {
    for (const f of ["scripts/run.mjs", "scripts/build-dir.mjs"]) write(f, readFileSync(path.join(real, f), "utf8"));
    for (const f of ["pnpm-lock.yaml", "pnpm-workspace.yaml", "prisma/schema.prisma", "tsconfig.base.json"]) {
      mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
      copyFileSync(path.join(real, f), path.join(root, f));
    }
    // Installed, as run.mjs checks it: the stamp of the lockfile, workspace and schema.
    const stamp = createHash("sha256");
    for (const f of ["pnpm-lock.yaml", "pnpm-workspace.yaml", "prisma/schema.prisma"]) stamp.update(readFileSync(path.join(root, f)));
    write("node_modules/.attested-install", stamp.digest("hex"));

    write("apps/portal/package.json", "{}\n");
    write("packages/pki/src/index.ts", "export const release = 1;\n");
    const first = await fakeBuild();
    write("packages/pki/src/index.ts", "export const release = 2;\n");
    const upgraded = await fakeBuild();
    expect(upgraded).not.toBe(first);
    expect(current()).toBe(upgraded);

    // The rollback: release 1's sources again.
    write("packages/pki/src/index.ts", "export const release = 1;\n");
    const r = run("build");
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).not.toContain("Building the portal");
    expect(current()).toBe(first);
  });
});
