import { spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, freshPostgres, tempDir } from "./harness";

// `npm run demo` as a new admin meets it: a port in use is one line naming it and the setting that
// moves it; the banner never promises a printed password the admin gave, and its device command
// writes under DATA_DIR.

const root = path.resolve(import.meta.dirname, "../../..");

function demo(env: Record<string, string | undefined>) {
  let out = "";
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "scripts/demo.ts")], {
    cwd: root,
    env: { ...process.env, NODE_ENV: "production", ADMIN_PASSWORD: undefined, ...env } as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exited, output: () => out };
}

let taken: net.Server;
let takenPort = 0;
beforeAll(async () => {
  taken = net.createServer();
  await new Promise<void>((r) => taken.listen(0, "127.0.0.1", () => r()));
  takenPort = (taken.address() as net.AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => taken.close(() => r())));

describe("npm run demo", () => {
  it.each([
    ["PORT", "KANDJI_SIM_PORT"],
    ["KANDJI_SIM_PORT", "PORT"],
  ])("a %s already in use stops it with one line naming the port and the setting", async (busy, other) => {
    const d = demo({ [busy]: String(takenPort), [other]: String(await freePort()), DATA_DIR: tempDir("attested-demo-") });
    expect(await d.exited).toBe(1);
    expect(d.output()).toContain(
      `Port ${takenPort} (${busy}) is already in use. Stop what uses it, or choose another port: ${busy}=${takenPort + 1} npm run demo`,
    );
    expect(d.output()).not.toMatch(/^\s+at /m); // no stack trace
  });

  it("with ADMIN_PASSWORD given, the banner does not promise a printed password; the device command honours DATA_DIR", async () => {
    const dataDir = tempDir("attested-demo-");
    const db = process.env.DATABASE_URL ? await freshPostgres() : null;
    const d = demo({
      PORT: String(await freePort()),
      KANDJI_SIM_PORT: String(await freePort()),
      DATA_DIR: dataDir,
      ADMIN_EMAIL: "demo-admin@example.com",
      ADMIN_PASSWORD: "demo-admin-password-1",
      DATABASE_URL: db?.url,
    });
    try {
      const deadline = Date.now() + 90_000;
      while (!d.output().includes("Demo ready") && d.child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      await new Promise((r) => setTimeout(r, 200)); // the rest of the banner
      const out = d.output();
      expect(out).toContain("Demo ready");
      expect(out).toContain("(sign in as demo-admin@example.com with your ADMIN_PASSWORD)");
      expect(out).not.toContain("prints the admin password");
      expect(out).not.toContain("demo-admin-password-1");
      expect(out).toContain(`--out ${path.join(dataDir, "device-TMWFWWWP67")}`);
      expect(out).toContain(`--ca ${path.join(dataDir, "demo-apple-ca")}`);
    } finally {
      process.kill(-d.child.pid!, "SIGTERM");
      await d.exited;
      await db?.drop();
    }
  }, 120_000);
});
