// Bad input and hostile load against the real server: nothing they send may cost memory, answer 500 or
// change anything; and what every answer carries (security headers) or withholds (metrics, errors).
import { readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import pg from "pg";
import { currentBuild } from "../../../scripts/build-dir.mjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminApiToken, freePort, freshPostgres, signIn, spawnPortal, startPortal, tempDir, type PortalProcess } from "./harness";

const MiB = 1024 * 1024;
const ADMIN = { email: "admin@example.com", password: "bootstrap-password-1" };
const METRICS_TOKEN = "metrics-token-for-tests-0123456789";

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

/** The id of a server action, from the build's manifest (as the browser gets it from the page's bundle). */
function serverActionId(file: string, name: string): string {
  const manifest = JSON.parse(
    readFileSync(path.resolve(import.meta.dirname, "..", currentBuild() ?? ".next", "server/server-reference-manifest.json"), "utf8"),
  );
  const entry = Object.entries(manifest.node as Record<string, { filename: string; exportedName: string }>).find(
    ([, v]) => v.filename.endsWith(file) && v.exportedName === name,
  );
  if (!entry) throw new Error(`no server action ${name} in ${file}`);
  return entry[0];
}

/**
 * POSTs `total` bytes in 1 MiB chunks, declared with Content-Length or chunked, and resolves with the
 * status as soon as the server answers (or 0 if it hung up without answering).
 */
function flood(
  url: string,
  route: string,
  total: number,
  opts: { declared: boolean; headers?: Record<string, string> },
): Promise<{ status: number; sent: number }> {
  return new Promise((resolve) => {
    const req = http.request(new URL(route, url), {
      method: "POST",
      agent: false,
      headers: { "content-type": "application/x-www-form-urlencoded", ...(opts.declared ? { "content-length": String(total) } : {}), ...opts.headers },
    });
    const chunk = Buffer.alloc(MiB, 0x61);
    let sent = 0;
    let done = false;
    const finish = (status: number) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ status, sent });
    };
    const timer = setTimeout(() => finish(-1), 120_000);
    req.on("response", (res) => {
      res.resume();
      finish(res.statusCode!);
    });
    req.on("error", () => finish(0));
    const pump = () => {
      while (!done && sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      if (!done) req.end();
    };
    pump();
  });
}

describe.skipIf(!process.env.DATABASE_URL)("hostile input against the real server", () => {
  const cleanup: (() => Promise<void>)[] = [];
  let portal: PortalProcess;
  let token = "";
  let cookie = "";
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });
  beforeAll(async () => {
    const db = await freshPostgres();
    cleanup.push(db.drop);
    const env = { DATABASE_URL: db.url, DATA_DIR: tempDir() };
    token = adminApiToken(env);
    portal = await startPortal({ ...env, ADMIN_PASSWORD: ADMIN.password, METRICS_TOKEN, LIFECYCLE_WORKER: "off" });
    cleanup.push(portal.stop);
    cookie = (await signIn(portal.url, ADMIN.email, ADMIN.password))!;
    expect(cookie).toBeTruthy();
    // A certificate to search for (as issued by the default Root CA; its PEM does not matter here).
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query(
      `INSERT INTO "Certificate" ("id", "serialNumber", "caId", "subjectDn", "pem", "sha256Fingerprint", "notBefore", "notAfter")
       SELECT gen_random_uuid(), '5ea4c1', "id", 'CN=C02SEARCH01', 'pem', 'fp', now(), now() + interval '1 day' FROM "CertificateAuthority" LIMIT 1`,
    );
    await client.end();
  }, 120_000);

  it.each([
    ["the sign-in endpoint (Auth.js), Content-Length", "/api/auth/callback/credentials", true],
    ["the sign-in endpoint (Auth.js), chunked", "/api/auth/callback/credentials", false],
    ["a server action (sign-in form), Content-Length", "/sign-in", true],
    ["a server action (sign-in form), chunked", "/sign-in", false],
    ["the REST API (with a token), chunked", "/api/v1/users", false],
  ] as const)(
    "a 250 MB POST to %s is refused, and the server's memory stays flat",
    async (_, route, declared) => {
      const pid = portal.child.pid!;
      const before = rssMiB(pid);
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 50);
      const headers: Record<string, string> =
        route === "/sign-in" ? { "next-action": serverActionId("app/sign-in/actions.ts", "signInAction"), "content-type": "text/plain;charset=UTF-8" } : {};
      // The REST API reads the body of an authenticated client only.
      if (route.startsWith("/api/v1/")) Object.assign(headers, { "content-type": "application/json", authorization: `Bearer ${token}` });
      const r = await flood(portal.url, route, 250 * MiB, { declared, headers });
      clearInterval(sampler);
      peak = Math.max(peak, rssMiB(pid));
      // 413, or the connection cut while the client was still sending (the server closes after the 413,
      // and a close with unread bytes is a reset that may overtake the answer); never read to the end.
      expect([413, 0]).toContain(r.status);
      expect(r.sent).toBeLessThan(100 * MiB);
      expect(peak - before).toBeLessThan(100);
      // The server still serves.
      expect((await fetch(`${portal.url}/healthz`)).status).toBe(200);
    },
    180_000,
  );

  it.each([
    ["Content-Length", true],
    ["chunked", false],
  ] as const)(
    "an oversized ACME body (%s) is answered 413 with an RFC 8555 problem and the rest is never read",
    async (_, declared) => {
      const platform = await fetch(`${portal.url}/api/v1/device-management-platforms`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ name: `Flood ${declared}`, type: "acme-enrollment-token", vendor: "kandji" }),
      }).then((r) => r.json());
      const profile = await fetch(`${portal.url}/api/v1/device-management-platforms/${platform.id}/profile`, {
        headers: { authorization: `Bearer ${token}` },
      }).then((r) => r.text());
      const secret = /\/acme\/([A-Za-z0-9_-]+)\/directory/.exec(profile)![1]!;
      const r = await flood(portal.url, `/acme/${secret}/new-account`, 256 * MiB, { declared, headers: { "content-type": "application/jose+json" } });
      // As for the portal's routes: 413, or a reset that overtook it; the client got to send little.
      expect([413, 0]).toContain(r.status);
      expect(r.sent).toBeLessThan(24 * MiB);
      const small = await fetch(`${portal.url}/acme/${secret}/new-account`, {
        method: "POST",
        headers: { "content-type": "application/jose+json" },
        body: Buffer.alloc(200 * 1024, 0x61),
      });
      expect(small.status).toBe(413);
      expect(small.headers.get("connection")).toBe("close");
      expect(await small.json()).toMatchObject({ type: "urn:ietf:params:acme:error:malformed", status: 413 });
    },
    180_000,
  );

  it.each([
    ["the sign-in endpoint (Auth.js)", "/api/auth/callback/credentials"],
    ["a server action (sign-in form)", "/sign-in"],
  ])("a 2 MiB body to %s is answered 413 before it is read", async (_, route) => {
    const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
    if (route === "/sign-in") headers["next-action"] = serverActionId("app/sign-in/actions.ts", "signInAction");
    const res = await fetch(`${portal.url}${route}`, { method: "POST", headers, body: Buffer.alloc(2 * MiB, 0x61) });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: "request body larger than 1048576 bytes" });
  });

  it("a body just under the cap still reaches its handler (a wrong password, not a 413)", async () => {
    const csrf = await fetch(`${portal.url}/api/auth/csrf`);
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    const jar = csrf.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
    const body = new URLSearchParams({ email: ADMIN.email, password: "x".repeat(900 * 1024), csrfToken });
    const res = await fetch(`${portal.url}/api/auth/callback/credentials`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: jar },
      body,
    });
    expect(res.status).not.toBe(413);
    expect(res.status).toBeLessThan(500);
    expect(res.headers.getSetCookie().some((c) => c.includes("session-token="))).toBe(false);
  });

  it("an OCSP POST over 16 KiB is refused with 413", async () => {
    const res = await fetch(`${portal.url}/ocsp/${"0".repeat(8)}-0000-0000-0000-${"0".repeat(12)}`, {
      method: "POST",
      headers: { "content-type": "application/ocsp-request" },
      body: Buffer.alloc(64 * 1024),
    });
    expect(res.status).toBe(413);
  });

  const hostile = [
    "%00",
    "a%00b",
    "\\",
    "%5C",
    "%25",
    "_",
    "%",
    "1e309",
    "99999999999999999999",
    "-1",
    "-99999999999999999999",
    "%EF%BF%BF",
    "%ED%A0%80",
    "a".repeat(5000),
  ];
  const params = [
    "q",
    "limit",
    "cursor",
    "from",
    "to",
    "caId",
    "status",
    "expiringWithinDays",
    "type",
    "outcome",
    "actor",
    "object",
    "objectId",
    "objectType",
    "deviceSerial",
    "certificateSerial",
    "actorType",
    "page",
  ];
  // One parameter at a time (several at once would stop at the first one validation refuses); values
  // already %-escaped are sent as they are.
  const queries = (names: string[]) =>
    names.flatMap((p) =>
      hostile.flatMap((v) => {
        const value = /%[0-9A-F]{2}/.test(v) ? v : encodeURIComponent(v);
        return [`${p}=${value}`, `${p}=${value}&${p}=b`];
      }),
    );
  const lists = [
    "certificates",
    "users",
    "enrollment-policies",
    "device-roles",
    "key-attestation-platforms",
    "certificate-templates",
    "events",
    "device-management-platforms",
    "security-signal-sources",
    "policy-workflows",
    "certificate-authorities",
    "core-platforms",
  ];
  const pages = [
    "/",
    "/dynamic-pki/certificates",
    "/dynamic-pki/certificate-authorities",
    "/data-and-monitoring/general-events",
    "/settings/users",
    "/settings/api-tokens",
    "/settings/events",
    "/integration-hub/core-platforms",
    "/policy-management/enrollment",
    "/policy-management/security-signal-sources",
  ];

  it("REST list routes, each parameter: NUL, \\, %, _, huge and negative numbers, repeated: never a 500", async () => {
    const failures: string[] = [];
    for (const list of lists) {
      for (const q of queries(params)) {
        const res = await fetch(`${portal.url}/api/v1/${list}?${q}`, { headers: { authorization: `Bearer ${token}` } });
        await res.arrayBuffer();
        if (res.status >= 500) failures.push(`${list}?${q.slice(0, 80)} → ${res.status}`);
      }
    }
    expect(failures).toEqual([]);
  }, 240_000);

  it("portal search pages with the same input: never a 500", async () => {
    const failures: string[] = [];
    for (const page of pages) {
      for (const q of queries(["q", "limit", "cursor", "from", "to", "status", "type", "outcome", "caId", "page"])) {
        const res = await fetch(`${portal.url}${page}?${q}`, { headers: { cookie }, redirect: "manual" });
        await res.arrayBuffer();
        if (res.status >= 500) failures.push(`${page}?${q.slice(0, 80)} → ${res.status}`);
      }
    }
    expect(failures).toEqual([]);
  }, 240_000);

  it("a search treats %, _ and \\ as text, not as a LIKE pattern", async () => {
    const search = async (q: string) => {
      const res = await fetch(`${portal.url}/api/v1/certificates?q=${encodeURIComponent(q)}`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      return ((await res.json()) as { data: unknown[] }).data.length;
    };
    expect(await search("c02search01")).toBe(1);
    expect(await search("C02SEARCH0_")).toBe(0);
    expect(await search("%")).toBe(0);
    expect(await search("_")).toBe(0);
    expect(await search("\\")).toBe(0);
    expect(await search("%%")).toBe(0);
  });

  it("a NUL in a JSON body is a 400 that creates nothing", async () => {
    const list = async () =>
      ((await (await fetch(`${portal.url}/api/v1/core-platforms`, { headers: { authorization: `Bearer ${token}` } })).json()) as { data: unknown[] }).data
        .length;
    const before = await list();
    const res = await fetch(`${portal.url}/api/v1/core-platforms`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "Kandji\u0000", description: "", type: "generic-http" }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "A string in the request body contains a NUL character" });
    expect(await list()).toBe(before);
  });

  it("RADIUS bodies that are not what a RADIUS server sends are 400s naming the problem, and record nothing", async () => {
    const radiusEvents = async () =>
      (
        (await (await fetch(`${portal.url}/api/v1/events?type=RADIUS%20Authentication`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
          data: unknown[];
        }
      ).data.length;
    const before = await radiusEvents();
    const bodies = [
      "",
      "null",
      "[]",
      "{}",
      '{"serialNumber":1e999,"issuer":"x"}',
      '{"serialNumber":"\\\\","issuer":{}}',
      `{"serialNumber":"${"9".repeat(100)}","issuer":"/CN=x"}`,
      '{"serialNumber":"01","issuer":"/CN=x","decision":"accept"}',
    ];
    for (const route of ["/api/v1/radius/authorize", "/api/v1/radius/refusals"])
      for (const body of bodies) {
        const res = await fetch(`${portal.url}${route}`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body,
        });
        expect(res.status, `${route} ${body.slice(0, 40)}`).toBe(400);
        expect(((await res.json()) as { error: string }).error, `${route} ${body.slice(0, 40)}`).toMatch(/\w/);
      }
    expect(await radiusEvents()).toBe(before);
  });

  it("a malformed OCSP GET (bad %-escape, bad base64, bad DER, long) is a 400 with an OCSP malformedRequest, not a 500", async () => {
    const ca = `/ocsp/${"0".repeat(8)}-0000-0000-0000-${"0".repeat(12)}`;
    const malformed = Buffer.from("30030a0101", "hex"); // OCSPResponse { responseStatus malformedRequest(1) }
    for (const request of ["%E0%A4%A", "%", "!!!!", "MAo=", Buffer.from("not DER at all").toString("base64"), "A".repeat(8000), "MIIB/w%2F%2F%2F"]) {
      const res = await fetch(`${portal.url}${ca}/${request}`);
      expect(res.status, request.slice(0, 20)).toBe(400);
      expect(Buffer.from(await res.arrayBuffer()).equals(malformed), request.slice(0, 20)).toBe(true);
    }
    const post = await fetch(`${portal.url}${ca}`, { method: "POST", headers: { "content-type": "application/ocsp-request" }, body: "garbage" });
    expect(post.status).toBe(400);
  });

  it("security headers on every kind of answer: pages with a per-response script nonce, API, ACME, OCSP, CRL, static files, errors", async () => {
    const signInPage = await fetch(`${portal.url}/sign-in`);
    const html = await signInPage.text();
    const asset = /\/_next\/static\/[^"']+\.js/.exec(html)![0];
    const answers = {
      page: signInPage,
      portalPage: await fetch(`${portal.url}/dynamic-pki/certificates`, { headers: { cookie } }),
      notFound: await fetch(`${portal.url}/no-such-page`),
      api: await fetch(`${portal.url}/api/v1/users`, { headers: { authorization: `Bearer ${token}` } }),
      apiDenied: await fetch(`${portal.url}/api/v1/users`),
      openapi: await fetch(`${portal.url}/api/v1/openapi.json`),
      acme: await fetch(`${portal.url}/acme/${"A".repeat(32)}/directory`),
      ocsp: await fetch(`${portal.url}/ocsp/x/MAo=`),
      crl: await fetch(`${portal.url}/crl/none.crl`),
      asset: await fetch(`${portal.url}${asset}`),
      health: await fetch(`${portal.url}/healthz`),
      tooLarge: await fetch(`${portal.url}/api/v1/users`, {
        method: "POST",
        headers: { "content-length": String(2 * MiB) },
        body: Buffer.alloc(2 * MiB),
      }).catch(() => null),
    };
    for (const [name, res] of Object.entries(answers)) {
      if (!res) continue;
      const h = (k: string) => res.headers.get(k);
      expect(h("x-content-type-options"), name).toBe("nosniff");
      expect(h("referrer-policy"), name).toBe("no-referrer");
      expect(h("permissions-policy"), name).toContain("camera=()");
      expect(h("content-security-policy"), name).toContain("frame-ancestors 'none'");
      expect(h("strict-transport-security"), name).toBeNull(); // PUBLIC_URL is http here
    }
    // The page's scripts run only with this response's nonce, and every script Next rendered has it.
    const csp = answers.page.headers.get("content-security-policy")!;
    const nonce = /'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)![1];
    expect(csp).toMatch(/script-src [^;]*'strict-dynamic'/);
    expect(csp).not.toContain("unsafe-inline");
    const scripts = html.match(/<script\b[^>]*>/g)!;
    expect(scripts.length).toBeGreaterThan(0);
    for (const s of scripts) expect(s).toContain(`nonce="${nonce}"`);
    const again = (await fetch(`${portal.url}/sign-in`)).headers.get("content-security-policy")!;
    expect(again).not.toBe(csp);
    // A nonce the client sends in its own CSP request header is not used.
    const forged = await fetch(`${portal.url}/sign-in`, { headers: { "content-security-policy": "script-src 'nonce-forged'" } });
    expect(await forged.text()).not.toContain('nonce="forged"');
  });

  it("/metrics answers only with the METRICS_TOKEN bearer token", async () => {
    expect((await fetch(`${portal.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${portal.url}/metrics`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    expect((await fetch(`${portal.url}/metrics`, { headers: { authorization: `Basic ${METRICS_TOKEN}` } })).status).toBe(401);
    const ok = await fetch(`${portal.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("http_request_duration_seconds");
  });
});

describe.skipIf(!process.env.DATABASE_URL)("/metrics and /readyz without a token", () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it("with METRICS_ADDRESS, /metrics is served there only; HSTS when PUBLIC_URL is https; /readyz carries no error text", async () => {
    const db = await freshPostgres();
    cleanup.push(db.drop);
    const metricsPort = await freePort();
    const portal = await startPortal({
      DATABASE_URL: db.url,
      DATA_DIR: tempDir(),
      ADMIN_PASSWORD: ADMIN.password,
      LIFECYCLE_WORKER: "off",
      METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
      PUBLIC_URL: "https://pki.example.test",
    });
    cleanup.push(portal.stop);
    const url = portal.url;
    const publicMetrics = await fetch(`${url}/metrics`);
    expect(publicMetrics.status).toBe(404);
    expect(await publicMetrics.text()).not.toContain("http_request_duration_seconds");
    const scraped = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain("http_request_duration_seconds");
    expect((await fetch(`http://127.0.0.1:${metricsPort}/sign-in`)).status).toBe(404);

    const health = await fetch(`${url}/healthz`);
    expect(health.headers.get("strict-transport-security")).toBe("max-age=31536000");

    expect(await (await fetch(`${url}/readyz`)).json()).toEqual({ ready: true, database: "reachable" });
    await db.drop(); // the database goes away: not ready, and the reason is in the log only
    const notReady = await fetch(`${url}/readyz`);
    expect(notReady.status).toBe(503);
    const body = (await notReady.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["database", "ready"]);
    expect(body.ready).toBe(false);
    await expect.poll(() => portal.output().includes('"msg":"not ready"'), { timeout: 5_000 }).toBe(true);
  }, 120_000);

  it("without METRICS_TOKEN or METRICS_ADDRESS, /metrics is not served", async () => {
    const db = await freshPostgres();
    cleanup.push(db.drop);
    const portal = await startPortal({ DATABASE_URL: db.url, DATA_DIR: tempDir(), ADMIN_PASSWORD: ADMIN.password, LIFECYCLE_WORKER: "off" });
    cleanup.push(portal.stop);
    const res = await fetch(`${portal.url}/metrics`);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain("process_cpu");
  }, 120_000);
});

describe.skipIf(!process.env.DATABASE_URL)("a port already in use", () => {
  it("the server exits non-zero at once with a one-line reason, and starts no background worker", async () => {
    const db = await freshPostgres();
    const taken = net.createServer();
    const port = await freePort();
    await new Promise<void>((r) => taken.listen(port, "127.0.0.1", () => r()));
    try {
      const server = spawnPortal({
        DATABASE_URL: db.url,
        DATA_DIR: tempDir(),
        ADMIN_PASSWORD: ADMIN.password,
        PORT: String(port),
        PUBLIC_URL: `http://127.0.0.1:${port}`,
      });
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => {
          server.child.kill("SIGKILL");
          resolve(null);
        }, 60_000);
        server.child.once("exit", (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      expect(code).not.toBeNull();
      expect(code).not.toBe(0);
      expect(server.stderr().trim().split("\n").at(-1)).toBe(`Port ${port} is already in use (set PORT to choose another)`);
      expect(server.output()).not.toContain("lifecycle worker started");
      expect(server.output()).not.toContain("pg-boss");
    } finally {
      taken.close();
      await db.drop();
    }
  }, 90_000);
});
