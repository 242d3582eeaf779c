import { spawnSync } from "node:child_process";
import { appendFileSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { currentBuild } from "../../../scripts/build-dir.mjs";
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
