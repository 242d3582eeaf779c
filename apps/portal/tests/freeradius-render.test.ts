import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { freePort, tempDir } from "./harness";

// deploy/freeradius/render.mjs as an operator first runs it on the RADIUS host: asking for its usage,
// mistyping an option or a path, before the portal is reachable. Each is one line saying what is
// wrong (and the usage where an option is), never a stack trace, and nothing is written.
describe("deploy/freeradius/render.mjs given wrong input", () => {
  const script = path.resolve(import.meta.dirname, "../../../deploy/freeradius/render.mjs");
  const dir = tempDir("attested-render-");
  for (const f of ["radius.token", "radius.secret", "radius.pem", "radius.key"]) writeFileSync(path.join(dir, f), `${f}-value\n`);
  const render = (...args: string[]) => {
    const r = spawnSync(process.execPath, [script, ...args], { cwd: dir, encoding: "utf8" });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const files = (port: number, out: string, change: Record<string, string> = {}) =>
    Object.entries({
      "--portal": `http://127.0.0.1:${port}`,
      "--token-file": "radius.token",
      "--server-cert": "radius.pem",
      "--server-key": "radius.key",
      "--client-secret-file": "radius.secret",
      "--out": out,
      ...change,
    }).flat();
  const noStack = (text: string) => expect(text).not.toMatch(/^\s+at /m);

  it("--help prints the usage", () => {
    const r = render("--help");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: node render\.mjs --portal URL --token-file FILE/);
  });

  it.each([[[]], [["--bogus"]], [["--portal"]]])("%j: what is wrong, then the usage; exit 2", (args) => {
    const r = render(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^render\.mjs: .+\nusage: node render\.mjs/);
    noStack(r.stderr);
  });

  it("a file that cannot be read is named, before anything is fetched or written", async () => {
    const out = path.join(dir, "out-cert");
    const r = render(...files(await freePort(), out, { "--server-cert": "missing.pem" }));
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("render.mjs: --server-cert: cannot read missing.pem (ENOENT)\n");
    expect(existsSync(out)).toBe(false);
  });

  it("a portal that does not answer is one line naming it", async () => {
    const port = await freePort();
    const out = path.join(dir, "out-down");
    const r = render(...files(port, out));
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`render.mjs: cannot reach the portal at http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}\n`);
    expect(existsSync(out)).toBe(false);
  });
});
