// `npm run bench:compare -- --base <commit> [--pairs 3] [-- <bench:enroll flags>]`
//
// Before/after for a change: bench:enroll of an earlier commit (checked out as a git worktree with its own
// install and build) and of this checkout, alternated in pairs. This machine's speed drifts by 20 % and
// more within minutes, so only runs made side by side compare; the pairs, their means and how many each
// side won are printed. Anything after a lone `--` goes to every bench:enroll run.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fmt, parseFlags, root } from "./bench/lib";

const argv = process.argv.slice(2);
const split = argv.indexOf("--");
const flags = parseFlags(split < 0 ? argv : argv.slice(0, split), { pairs: "3" });
const benchArgs = split < 0 ? [] : argv.slice(split + 1);
const pairs = Number(flags.pairs);
if (!flags.base || flags.base === "true" || !(pairs >= 1)) {
  console.error("usage: npm run bench:compare -- --base <commit> [--pairs 3] [-- <bench:enroll flags>]");
  process.exit(2);
}

const git = (...args: string[]) => {
  const r = spawnSync("git", args, { cwd: root, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr.trim()}`);
  return r.stdout.trim();
};
const base = git("rev-parse", "--verify", `${flags.base}^{commit}`);
const head = git("rev-parse", "HEAD");
const dirty = git("status", "--porcelain", "--untracked-files=no") !== "";

interface Run {
  throughput: number;
  p99: number;
  cpuMs: number;
}

/** One bench:enroll in `dir`; the figures read from what it prints. */
function benchEnroll(dir: string): Run {
  const r = spawnSync(process.execPath, [path.join(dir, "scripts/run.mjs"), "bench-enroll", ...benchArgs], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, NEXT_DIST_DIR: ".next-perf" },
  });
  const out = `${r.stdout}\n${r.stderr}`;
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
  const run = {
    throughput: num(/throughput\s+([\d.]+) enrollments\/s/),
    p99: num(/p99 ([\d.]+) ms/),
    cpuMs: num(/([\d.]+) ms per enrollment \(server \+ client\)/),
  };
  if (r.status !== 0 || Number.isNaN(run.throughput)) throw new Error(`bench:enroll in ${dir} failed (exit ${r.status}):\n${out.slice(-3000)}`);
  return run;
}

const worktree = mkdtempSync(path.join(os.tmpdir(), "bench-base-"));
try {
  console.log(`base ${base.slice(0, 10)} (worktree ${worktree}) against this checkout ${head.slice(0, 10)}${dirty ? " with uncommitted changes" : ""}`);
  git("worktree", "add", "--detach", worktree, base);
  // Its own dependencies (from pnpm's store, offline when it can) and its own benchmark build.
  const build = spawnSync(process.execPath, [path.join(worktree, "scripts/run.mjs"), "build"], {
    cwd: worktree,
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, NEXT_DIST_DIR: ".next-perf" },
  });
  if (build.status !== 0) throw new Error(`the base commit did not install or build (exit ${build.status})`);

  const rows: { base: Run; head: Run }[] = [];
  for (let i = 0; i < pairs; i++) {
    // Alternate which side goes first, so neither always runs on the warmer or quieter machine.
    const [first, second] = i % 2 === 0 ? [worktree, root] : [root, worktree];
    const a = benchEnroll(first);
    const b = benchEnroll(second);
    const row = first === worktree ? { base: a, head: b } : { base: b, head: a };
    rows.push(row);
    const line = (r: Run) => `${fmt(r.throughput).padStart(6)}/s  p99 ${fmt(r.p99, 0).padStart(5)} ms  ${fmt(r.cpuMs).padStart(5)} ms CPU`;
    console.log(`pair ${i + 1}   base ${line(row.base)}   this ${line(row.head)}   ${fmt((100 * row.head.throughput) / row.base.throughput - 100)} %`);
  }
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const b = rows.map((r) => r.base);
  const h = rows.map((r) => r.head);
  const wins = rows.filter((r) => r.head.throughput > r.base.throughput).length;
  console.log(
    `\nthroughput   base mean ${fmt(mean(b.map((r) => r.throughput)))}/s, this ${fmt(mean(h.map((r) => r.throughput)))}/s ` +
      `(${fmt((100 * mean(h.map((r) => r.throughput))) / mean(b.map((r) => r.throughput)) - 100)} %); this checkout ahead in ${wins} of ${pairs} pairs`,
  );
  console.log(
    `CPU          all CPU per enrollment (server + client), median: base ${fmt(median(b.map((r) => r.cpuMs)))} ms, this ${fmt(median(h.map((r) => r.cpuMs)))} ms`,
  );
  console.log(`p99          median: base ${fmt(median(b.map((r) => r.p99)), 0)} ms, this ${fmt(median(h.map((r) => r.p99)), 0)} ms`);
} finally {
  spawnSync("git", ["worktree", "remove", "--force", worktree], { cwd: root });
  rmSync(worktree, { recursive: true, force: true });
  spawnSync("git", ["worktree", "prune"], { cwd: root });
}
