import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { backoffDelay, httpGet, parseRetryAfter, type HttpPolicy } from "./http";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const servers: Server[] = [];

async function serve(handler: Handler, server: Server = createServer()): Promise<{ url: string; hits: IncomingMessage[] }> {
  const hits: IncomingMessage[] = [];
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    hits.push(req);
    handler(req, res);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  const scheme = "setSecureContext" in server ? "https" : "http";
  return { url: `${scheme}://127.0.0.1:${port}`, hits };
}

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const fast: Partial<HttpPolicy> = { allowHttp: true, timeoutMs: 1000, backoffBaseMs: 5, backoffMaxMs: 20, retryAfterCapMs: 50 };
const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
};

describe("httpGet: schemes and TLS", () => {
  it("refuses http unless allowed, without sending anything", async () => {
    const s = await serve((_, res) => json(res, 200, []));
    const r = await httpGet(`${s.url}/x`, {}, { ...fast, allowHttp: false });
    expect(r).toMatchObject({ kind: "failure", failure: "scheme", message: "http URIs are not allowed: use https", attempts: 0 });
    expect(s.hits).toHaveLength(0);
    expect(await httpGet("file:///etc/passwd", {}, fast)).toMatchObject({ failure: "scheme", message: "unsupported scheme file:" });
    expect(await httpGet("not a url", {}, fast)).toMatchObject({ failure: "scheme" });
  });

  it("verifies TLS certificates: a self-signed server is refused and not retried", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "tls-"));
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-keyout",
        path.join(dir, "key.pem"),
        "-out",
        path.join(dir, "cert.pem"),
      ],
      { stdio: "ignore" },
    );
    const server = createHttpsServer({ key: readFileSync(path.join(dir, "key.pem")), cert: readFileSync(path.join(dir, "cert.pem")) });
    const s = await serve((_, res) => json(res, 200, []), server);
    const r = await httpGet(`${s.url}/x`, {}, { ...fast, allowHttp: false });
    expect(r).toMatchObject({ kind: "failure", failure: "tls", attempts: 1 });
    expect((r as { message: string }).message).toMatch(/^TLS error: .*SELF_SIGNED/);
  });
});

describe("httpGet: redirects", () => {
  it("follows same-origin redirects (keeping headers) up to the limit", async () => {
    const s = await serve((req, res) => {
      const n = Number(/\/hop(\d+)/.exec(req.url ?? "")?.[1] ?? -1);
      if (n >= 0 && n < 3) return void res.writeHead(302, { location: `/hop${n + 1}` }).end();
      json(res, 200, { at: req.url, auth: req.headers.authorization });
    });
    const r = await httpGet(`${s.url}/hop0`, { authorization: "Bearer t" }, fast);
    expect(r).toMatchObject({ kind: "response", status: 200, url: `${s.url}/hop3` });
    expect(JSON.parse((r as { body: Buffer }).body.toString())).toEqual({ at: "/hop3", auth: "Bearer t" });

    const tooMany = await httpGet(`${s.url}/hop0`, {}, { ...fast, maxRedirects: 2 });
    expect(tooMany).toMatchObject({ kind: "failure", failure: "redirect", message: "more than 2 redirects" });
  });

  it("refuses a redirect to another origin and sends it nothing", async () => {
    const other = await serve((_, res) => json(res, 200, []));
    const s = await serve((_, res) => void res.writeHead(307, { location: `${other.url}/steal` }).end());
    const r = await httpGet(`${s.url}/x`, { authorization: "Bearer secret" }, fast);
    expect(r).toMatchObject({ kind: "failure", failure: "redirect", message: `redirect to another host refused (${other.url})` });
    expect(other.hits).toHaveLength(0);
  });
});

describe("httpGet: size and time limits", () => {
  it("cuts off a response over maxBytes, declared or streamed", async () => {
    const s = await serve((req, res) => {
      if (req.url === "/declared") {
        res.writeHead(200, { "content-length": "5000000" });
        return void res.write("x");
      }
      res.writeHead(200, { "content-type": "application/json" }); // chunked, no length
      const chunk = Buffer.alloc(16 * 1024, 0x61);
      let sent = 0;
      const pump = () => {
        while (sent < 200 && !res.destroyed) {
          sent++;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
        res.end();
      };
      res.on("error", () => {});
      pump();
    });
    expect(await httpGet(`${s.url}/declared`, {}, { ...fast, maxBytes: 1000 })).toMatchObject({
      failure: "tooLarge",
      message: "response too large (over 1000 bytes)",
    });
    expect(await httpGet(`${s.url}/streamed`, {}, { ...fast, maxBytes: 100_000 })).toMatchObject({ failure: "tooLarge", attempts: 1 });
    const ok = await httpGet(`${s.url}/streamed`, {}, { ...fast, maxBytes: 4 << 20 });
    expect(ok).toMatchObject({ kind: "response", status: 200 });
    expect((ok as { body: Buffer }).body.length).toBe(200 * 16 * 1024);
  });

  it("times out a request that never answers, or whose body stalls, without retrying", async () => {
    const s = await serve((req, res) => {
      if (req.url === "/slow-body") {
        res.writeHead(200, { "content-type": "application/json" });
        res.write("[");
      }
    });
    let t = Date.now();
    expect(await httpGet(`${s.url}/hang`, {}, { ...fast, timeoutMs: 100 })).toMatchObject({
      failure: "timeout",
      message: "timeout after 100ms",
      attempts: 1,
    });
    expect(Date.now() - t).toBeLessThan(900);
    t = Date.now();
    expect(await httpGet(`${s.url}/slow-body`, {}, { ...fast, timeoutMs: 100 })).toMatchObject({ failure: "timeout" });
    expect(Date.now() - t).toBeLessThan(900);
  });
});

describe("httpGet: retries", () => {
  it("retries 5xx with backoff and returns the first good answer", async () => {
    let n = 0;
    const s = await serve((_, res) => (++n <= 2 ? json(res, 503, { detail: "busy" }) : json(res, 200, ["ok"])));
    const r = await httpGet(`${s.url}/x`, {}, fast);
    expect(r).toMatchObject({ kind: "response", status: 200, attempts: 3 });
  });

  it("gives back the last 429/5xx once retries are spent", async () => {
    const s = await serve((_, res) => json(res, 500, {}));
    expect(await httpGet(`${s.url}/x`, {}, { ...fast, retries: 3 })).toMatchObject({ kind: "response", status: 500, attempts: 4 });
    expect(s.hits).toHaveLength(4);
    expect(await httpGet(`${s.url}/x`, {}, { ...fast, retries: 0 })).toMatchObject({ status: 500, attempts: 1 });
  });

  it("does not retry other 4xx", async () => {
    const s = await serve((_, res) => json(res, 403, { detail: "no" }));
    expect(await httpGet(`${s.url}/x`, {}, fast)).toMatchObject({ status: 403, attempts: 1 });
  });

  it("honours Retry-After on 429, up to the cap", async () => {
    let n = 0;
    const s = await serve((_, res) => (n++ % 2 === 0 ? json(res, 429, {}, { "retry-after": "1" }) : json(res, 200, [])));
    let t = Date.now();
    expect(await httpGet(`${s.url}/x`, {}, { ...fast, retryAfterCapMs: 5000 })).toMatchObject({ status: 200, attempts: 2 });
    expect(Date.now() - t).toBeGreaterThanOrEqual(950);
    t = Date.now();
    expect(await httpGet(`${s.url}/x`, {}, { ...fast, retryAfterCapMs: 40 })).toMatchObject({ status: 200, attempts: 2 });
    const waited = Date.now() - t;
    expect(waited).toBeGreaterThanOrEqual(35);
    expect(waited).toBeLessThan(900);
  });

  it("stops retrying when the wait would pass the total budget", async () => {
    const s = await serve((_, res) => json(res, 429, {}, { "retry-after": "30" }));
    const t = Date.now();
    const r = await httpGet(`${s.url}/x`, {}, { ...fast, retryAfterCapMs: 10_000, maxTotalMs: 500 });
    expect(r).toMatchObject({ status: 429, attempts: 1 });
    expect(Date.now() - t).toBeLessThan(400);
  });

  it("retries a refused connection, then reports it", async () => {
    const s = await serve(() => {});
    const url = s.url;
    const srv = servers.pop()!;
    await new Promise((r) => srv.close(r));
    const r = await httpGet(`${url}/x`, {}, { ...fast, retries: 2 });
    expect(r).toMatchObject({ kind: "failure", failure: "network", message: "network error: ECONNREFUSED", attempts: 3 });
  });
});

describe("backoff and Retry-After parsing", () => {
  it("grows exponentially with jitter inside [step/2, step], capped", () => {
    const p = { backoffBaseMs: 100, backoffMaxMs: 1000 };
    expect(backoffDelay(0, p, () => 0)).toBe(50);
    expect(backoffDelay(0, p, () => 0.999)).toBe(100);
    expect(backoffDelay(2, p, () => 0)).toBe(200);
    expect(backoffDelay(10, p, () => 0.999)).toBe(1000);
  });

  it("reads seconds and HTTP dates", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("7", now)).toBe(7000);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:05 GMT", now)).toBe(5000);
    expect(parseRetryAfter("soon", now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });
});
