import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { currentBuild } from "../../../scripts/build-dir.mjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminApiToken, callServerAction, freshPostgres, signIn, startPortal, tempDir, type PortalProcess } from "./harness";

// Auditors read, never write: every write method of every REST route, found by walking the route
// files (so a route added later is covered without editing this test), answers an Auditor token 403
// with a problem body, and changes nothing. Likewise every server action of the build, called by an
// Auditor's session the way the browser would (bypassing whatever the page shows), is refused with an
// Access Denied event, except the ones that act on the caller's own session or account.

const API_DIR = path.resolve(__dirname, "../app/api/v1");
const WRITE = /export const (POST|PUT|PATCH|DELETE)\b/g;

// The caller's own account and session: any signed-in user may change these.
const SELF_SERVICE = new Set([
  "signInAction",
  "ssoSignInAction",
  "signOutAction",
  "changePasswordAction",
  "beginSecondFactorAction",
  "confirmSecondFactorAction",
  "turnOffSecondFactorAction",
]);

// Read-only actions auditors use: the template preview (its device lookup is still refused, below).
const READ_ONLY = new Set(["previewTemplateAction"]);

function serverActions(): Record<string, { exportedName: string }> {
  const manifest = path.resolve(__dirname, "..", currentBuild() ?? ".next", "server/server-reference-manifest.json");
  return (JSON.parse(readFileSync(manifest, "utf8")) as { node: Record<string, { exportedName: string }> }).node;
}

function writeRoutes(): { method: string; path: string }[] {
  const out: { method: string; path: string }[] = [];
  const walk = (dir: string, segments: string[]) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(dir, e.name), [...segments, e.name]);
      else if (e.name === "route.ts") {
        const source = readFileSync(path.join(dir, e.name), "utf8");
        // A dynamic segment gets an id no row has: the role check must come before any lookup.
        const p = `/${segments.map((s) => (s.startsWith("[") ? "00000000-0000-4000-8000-000000000000" : s)).join("/")}`;
        for (const m of source.matchAll(WRITE)) out.push({ method: m[1]!, path: p });
      }
    }
  };
  walk(API_DIR, []);
  return out;
}

describe.skipIf(!process.env.DATABASE_URL)("auditor tokens write nothing over REST", () => {
  const cleanup: (() => Promise<void>)[] = [];
  let portal: PortalProcess;
  let adminToken = "";
  let auditorToken = "";
  const routes = writeRoutes();

  const call = async (token: string, method: string, p: string, body?: unknown) => {
    const res = await fetch(`${portal.url}/api/v1${p}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  };

  beforeAll(async () => {
    const db = await freshPostgres();
    cleanup.push(db.drop);
    const env = { DATABASE_URL: db.url, DATA_DIR: tempDir(), MASTER_KEY: randomBytes(32).toString("hex") };
    adminToken = adminApiToken(env);
    auditorToken = adminApiToken(env, "auditor");
    portal = await startPortal(env);
    cleanup.push(() => portal.stop());
  }, 120_000);

  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it("finds the write routes", () => {
    // Sanity: the walk sees the routes this test exists for.
    expect(routes.length).toBeGreaterThan(20);
    expect(routes).toContainEqual({ method: "POST", path: "/radius/authorize" });
    expect(routes).toContainEqual({ method: "POST", path: "/radius/refusals" });
  });

  it("answers every write route 403 for an Auditor token and changes nothing", async () => {
    const before = await call(adminToken, "GET", "/users");
    expect(before.status).toBe(200);
    const refused: string[] = [];
    for (const r of routes) {
      const res = await call(auditorToken, r.method, r.path, { name: "auditor-was-here", role: "ADMIN" });
      if (res.status !== 403) refused.push(`${r.method} ${r.path}: ${res.status} ${res.text.slice(0, 200)}`);
      else {
        expect(res.text).not.toMatch(/\bat .*\.(js|ts):\d+/);
        expect(JSON.parse(res.text)).toHaveProperty("error");
      }
    }
    expect(refused).toEqual([]);
    // Nothing an auditor sent was written.
    expect((await call(adminToken, "GET", "/users")).text).toBe(before.text);
  }, 120_000);

  it("refuses every server action to an Auditor's session", async () => {
    const password = "auditor-Session-pass-77";
    const made = await call(adminToken, "POST", "/users", { email: "aud@example.com", name: "Aud", role: "AUDITOR", password });
    expect(made.status).toBe(201);
    const cookie = await signIn(portal.url, "aud@example.com", password);
    expect(cookie).toBeTruthy();
    const denied = async () => {
      const r = await call(adminToken, "GET", "/events?type=Access%20Denied&limit=500");
      return (JSON.parse(r.text) as { data: unknown[] }).data.length;
    };
    const names = [...new Set(Object.values(serverActions()).map((v) => v.exportedName))].filter((n) => !SELF_SERVICE.has(n) && !READ_ONLY.has(n));
    expect(names.length).toBeGreaterThan(20);
    const allowed: string[] = [];
    for (const name of names) {
      const n = await denied();
      const res = await callServerAction(portal.url, cookie!, "/", name, { id: "00000000-0000-4000-8000-000000000000", name: "auditor-was-here" });
      await res.text();
      if ((await denied()) !== n + 1) allowed.push(`${name}: ${res.status}`);
    }
    expect(allowed).toEqual([]);
    // The preview reads, but a preview for a device sends the Core Platform's credential: refused.
    const n = await denied();
    const fields = { subject: "CN=${/device/serialNumber}", previewFor: "device", corePlatformId: "00000000-0000-4000-8000-000000000000", serial: "C02X" };
    await (await callServerAction(portal.url, cookie!, "/", "previewTemplateAction", fields)).text();
    expect(await denied()).toBe(n + 1);
    const before = (await call(adminToken, "GET", "/users")).text;
    expect(before).not.toContain("auditor-was-here");
  }, 180_000);
});
