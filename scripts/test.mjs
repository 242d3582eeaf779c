#!/usr/bin/env node
// `npm test`: unit and integration tests (vitest; Postgres when DATABASE_URL is set, else PGlite),
// then the browser tests (Playwright against the built portal), after the type check and Biome's lint and
// format check. Ends with one summary line.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const only = process.argv[2]; // "unit" or "e2e" to run one half
const results = { passed: 0, failed: 0, skipped: 0 };
let failedRun = false;

function run(cmd, args, cwd = root) {
  const r = spawnSync(cmd, args, { cwd, stdio: "inherit", env: process.env });
  if (r.status !== 0) failedRun = true;
}

// Types first: the build skips type checking so that it stays fast.
run(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-p", path.join(root, "tsconfig.json"), "--noEmit"]);
if (failedRun) {
  console.log("\n0 passed, 1 failed (type check)");
  process.exit(1);
}

// Lint and format (Biome, warnings count as errors): one failure in the summary, the tests still run.
const lint = spawnSync(process.execPath, [path.join(root, "node_modules/@biomejs/biome/bin/biome"), "ci", "--error-on-warnings", "."], {
  cwd: root,
  stdio: "inherit",
});
if (lint.status !== 0) {
  failedRun = true;
  results.failed += 1;
}

// The integration tests start the built server, so build first.
run(process.execPath, [path.join(root, "scripts/run.mjs"), "build"]);

if (only !== "e2e") {
  const out = path.join(root, "test-results/vitest.json");
  rmSync(out, { force: true });
  run(process.execPath, [path.join(root, "node_modules/vitest/vitest.mjs"), "run", "--reporter=default", "--reporter=json", `--outputFile.json=${out}`]);
  if (existsSync(out)) {
    const j = JSON.parse(readFileSync(out, "utf8"));
    results.passed += j.numPassedTests;
    results.failed += j.numFailedTests + (j.numFailedTestSuites ?? 0);
    results.skipped += j.numPendingTests + j.numTodoTests;
  } else results.failed += 1;
}

if (only !== "unit") {
  const out = path.join(root, "e2e/test-results/results.json");
  rmSync(out, { force: true });
  run(process.execPath, [path.join(root, "e2e/node_modules/@playwright/test/cli.js"), "test"], path.join(root, "e2e"));
  if (existsSync(out)) {
    const s = JSON.parse(readFileSync(out, "utf8")).stats;
    results.passed += s.expected;
    results.failed += s.unexpected;
    results.skipped += s.skipped;
  } else results.failed += 1;
}

console.log(`\n${results.passed} passed, ${results.failed} failed, ${results.skipped} skipped`);
process.exit(failedRun || results.failed > 0 ? 1 : 0);
