import { spawn } from "node:child_process";
import http from "node:http";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { postgresRelay } from "@attested/db/testing";
import { canSignIn, freePort, freshPostgres, startPortal, tempDir } from "./harness";

describe("first start on the embedded database", () => {
  const dataDir = tempDir();
  it("creates the first admin once with a printed password, and keeps data across restarts", async () => {
    const first = await startPortal({ DATA_DIR: dataDir, DATABASE_URL: "", ADMIN_EMAIL: "owner@example.com", ADMIN_PASSWORD: "" });
    const password = /Password:\s+(\S+)/.exec(first.output())?.[1];
    expect(password).toMatch(/^[A-Za-z0-9]{22}$/);
    expect(await canSignIn(first.url, "owner@example.com", password!)).toBe(true);
    expect(await canSignIn(first.url, "owner@example.com", "wrong-password-123")).toBe(false);

    // The JSON log: buffered, but a request's line is out within about a second, with its request id;
    // the password is on the console once, never in a log line; the shutdown line is flushed at exit.
    await fetch(`${first.url}/sign-in`, { headers: { "x-request-id": "log-check-1" } });
    const deadline = Date.now() + 5_000;
    const logLines = () =>
      first
        .output()
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    while (!logLines().some((l) => l.requestId === "log-check-1") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(logLines().find((l) => l.requestId === "log-check-1")).toMatchObject({ msg: "request", method: "GET", url: "/sign-in", status: 200 });
    expect(logLines().some((l) => JSON.stringify(l).includes(password!))).toBe(false);
    await first.stop();
    expect(logLines().at(-1)).toMatchObject({ msg: "shutting down", signal: "SIGTERM" });

    const second = await startPortal({ DATA_DIR: dataDir, DATABASE_URL: "", ADMIN_EMAIL: "owner@example.com", ADMIN_PASSWORD: "" });
    expect(second.output()).not.toContain("Password:");
    expect(await canSignIn(second.url, "owner@example.com", password!)).toBe(true);
    await second.stop();
  });
});

// `npm start` runs the server under a launcher (scripts/run.mjs): `kill` of the launcher, or a container
// stopping it (the Dockerfile's CMD, PID 1), must stop the server the way a signal to the server does.
describe("npm start's launcher", () => {
  const root = path.resolve(import.meta.dirname, "../../..");
  it.each(["SIGTERM", "SIGINT"] as const)(
    "passes %s on to the server, which shuts down and frees its port",
    async (signal) => {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      let out = "";
      const launcher = spawn(process.execPath, [path.join(root, "scripts/run.mjs"), "start"], {
        cwd: root,
        env: {
          ...process.env,
          DATABASE_URL: "",
          DATA_DIR: tempDir(),
          PORT: String(port),
          HOST: "127.0.0.1",
          PUBLIC_URL: url,
          ADMIN_PASSWORD: "launcher-admin-pass-41",
          LIFECYCLE_WORKER: "off",
        },
        stdio: ["ignore", "pipe", "pipe"],
        // A process group of its own: whatever is left of it goes at the end, even a server the launcher lost.
        detached: true,
      });
      launcher.stdout!.on("data", (d) => (out += d));
      launcher.stderr!.on("data", (d) => (out += d));
      const exited = new Promise<number | null>((r) => launcher.once("exit", (code) => r(code)));
      try {
        await expect
          .poll(
            () =>
              fetch(`${url}/healthz`).then(
                (r) => r.status,
                () => 0,
              ),
            { timeout: 120_000, interval: 250 },
          )
          .toBe(200);
        launcher.kill(signal);
        expect(await exited, out.slice(-2000)).toBe(0);
        expect(out).toContain(`"signal":"${signal}","msg":"shutting down"`);
        await expect(fetch(`${url}/healthz`)).rejects.toThrow();
      } finally {
        try {
          process.kill(-launcher.pid!, "SIGKILL");
        } catch {}
      }
    },
    180_000,
  );
});

describe.skipIf(!process.env.DATABASE_URL)("/readyz on PostgreSQL", () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it("fails while the database is unreachable and recovers when it returns", async () => {
    const db = await freshPostgres();
    cleanup.push(db.drop);
    // A TCP relay between the portal and Postgres that the test can cut and restore.
    const relay = await postgresRelay(db.url);
    cleanup.push(relay.cut);
    const portal = await startPortal({ DATABASE_URL: relay.url, DATA_DIR: tempDir(), ADMIN_PASSWORD: "bootstrap-password-1" });
    cleanup.push(portal.stop);
    const ready = async () => (await fetch(`${portal.url}/readyz`)).status;

    expect(await ready()).toBe(200);
    await relay.cut();
    expect(await ready()).toBe(503);
    const body = await (await fetch(`${portal.url}/readyz`)).json();
    expect(body).toEqual({ ready: false, database: "unreachable" }); // the error itself is in the log only
    expect((await fetch(`${portal.url}/healthz`)).status).toBe(200);
    // An ACME client gets a problem it can retry (503, Retry-After), with a nonce (RFC 8555 §6.5), not a stack trace.
    const acme = await fetch(`${portal.url}/acme/${"A".repeat(32)}/directory`);
    expect(acme.status).toBe(503);
    expect(acme.headers.get("content-type")).toBe("application/problem+json");
    expect(acme.headers.get("retry-after")).toBe("1");
    expect(acme.headers.get("replay-nonce")).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(await acme.json()).toMatchObject({ type: "urn:ietf:params:acme:error:serverInternal", status: 503 });
    // So does a REST API client.
    const api = await fetch(`${portal.url}/api/v1/certificates`, { headers: { authorization: `Bearer apki_${"t".repeat(40)}` } });
    expect(api.status).toBe(503);
    expect(api.headers.get("retry-after")).toBe("1");
    expect(await api.json()).toEqual({ error: "temporarily unavailable; retry after the time in Retry-After" });
    await relay.restore();
    let status = 0;
    for (let i = 0; i < 40 && status !== 200; i++) {
      status = await ready();
      if (status !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe(200);
    await relay.cut();
  });
});

describe.skipIf(!process.env.DATABASE_URL)("/metrics with several server processes", () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it("every scrape answers for the whole host, not for the one process that took it", async () => {
    const db = await freshPostgres();
    cleanup.push(db.drop);
    const portal = await startPortal({
      DATABASE_URL: db.url,
      DATA_DIR: tempDir(),
      ADMIN_PASSWORD: "bootstrap-password-1",
      WEB_CONCURRENCY: "2",
      METRICS_TOKEN,
    });
    cleanup.push(portal.stop);
    // Once both processes serve, new connections are dealt out between them.
    await expect.poll(() => portal.output().split('"msg":"listening"').length - 1, { timeout: 60_000, interval: 250 }).toBe(2);
    const before = await healthCount(portal.url);
    const n = 24;
    for (let i = 0; i < n; i++) await get(`${portal.url}/healthz`);
    // Each scrape goes to either process; each must count all n (plus the scrapes themselves, which
    // are counted as they finish, so at least n).
    for (let i = 0; i < 4; i++) {
      const seen = (await healthCount(portal.url)) - before;
      expect(seen).toBeGreaterThanOrEqual(n);
      expect(seen).toBeLessThan(n + 12);
    }
  }, 120_000);
});

const METRICS_TOKEN = "metrics-token-for-tests-0123456789";

/** GET on a connection of its own (fetch would reuse one, and so always reach the same process). */
function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false, headers: { authorization: `Bearer ${METRICS_TOKEN}` } }, (res) => {
        let body = "";
        res
          .setEncoding("utf8")
          .on("data", (c: string) => (body += c))
          .on("end", () => resolve(body));
      })
      .on("error", reject);
  });
}

/** http_request_duration_seconds_count of GET 200 on the health routes, from /metrics. */
async function healthCount(url: string): Promise<number> {
  const text = await get(`${url}/metrics`);
  const line = text.split("\n").find((l) => l.startsWith('http_request_duration_seconds_count{method="GET",route="health",status="200"}'));
  return line ? Number(line.split(" ").pop()) : 0;
}
