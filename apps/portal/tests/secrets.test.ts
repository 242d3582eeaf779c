import { createHash, randomBytes } from "node:crypto";
import { chmodSync, lstatSync, readdirSync, writeFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "@attested/db";
import { enroll, generateDevices, type SimulatedAppleCa, type SimulatedDevice } from "@attested/device-sim";
import { startKandjiSimulator, type KandjiSimulator } from "@attested/kandji-sim";
import { updateMailSettings } from "@attested/lifecycle";
import { adminApiToken, freshPostgres, restCall, restOk, setUpKandjiChain, signIn, startPortal, tempDir, type PortalProcess } from "./harness";

// The secrets the portal holds (enrollment secret, MDM bearer token, SMTP password, API tokens, user
// passwords) and what is derived from them (hashes, sealed blobs) never reach a log line, /metrics, a
// REST answer or a page an auditor opens; a stored credential is only ever sent where it was saved for.

const FIELD = /secret|hash|token|password|sealed|privatekey/i;
const ADMIN = { email: "owner@example.com", password: "owner-Password-1" };
const AUDITOR = { email: "auditor@example.com", password: "auditor-Password-1" };

/** Every JSON key that names a secret and carries a value (flags like hasSecret: true are fine). */
function secretFields(value: unknown, at = "$"): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => secretFields(v, `${at}[${i}]`));
  if (!value || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const held = v !== null && v !== "" && typeof v !== "boolean" && !/^\[?redacted\]?$/i.test(String(v));
    return [...(FIELD.test(k) && held ? [`${at}.${k}`] : []), ...secretFields(v, `${at}.${k}`)];
  });
}

/** An http server on loopback standing in for an origin an attacker would choose: it records every request. */
async function recordingServer() {
  const requests: { url: string; headers: http.IncomingHttpHeaders }[] = [];
  const server = http.createServer((req, res) => {
    requests.push({ url: req.url ?? "", headers: req.headers });
    res.writeHead(200, { "content-type": "application/json" }).end('{"data":[]}');
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe.skipIf(!process.env.DATABASE_URL)("secrets stay secret", () => {
  const cleanup: (() => Promise<void>)[] = [];
  const dataDir = tempDir();
  const kandjiToken = `kandji-${randomBytes(16).toString("hex")}`;
  const smtpPassword = `smtp-${randomBytes(12).toString("hex")}`;
  const masterKey = randomBytes(32).toString("hex");
  const [device, refused] = generateDevices(2, "SEC") as [SimulatedDevice, SimulatedDevice];
  let env: Record<string, string>;
  let portal: PortalProcess;
  let kandji: KandjiSimulator;
  let attacker: Awaited<ReturnType<typeof recordingServer>>;
  let simCa: SimulatedAppleCa;
  let adminToken = "";
  let auditorToken = "";
  let profile = "";
  let enrollmentSecret = "";
  const ids: Record<string, string> = {};

  const api = (token: string, method: string, p: string, body?: unknown) => restCall(portal.url, token, method, p, body);
  const admin = (method: string, p: string, body?: unknown) => restOk(portal.url, adminToken, method, p, body);

  beforeAll(async () => {
    const db = await freshPostgres();
    cleanup.push(db.drop);
    env = {
      DATABASE_URL: db.url,
      DATA_DIR: dataDir,
      MASTER_KEY: masterKey,
      INTEGRATIONS_ALLOW_HTTP: "1",
      LIFECYCLE_WORKER: "off",
      METRICS_TOKEN: "secrets-test-metrics",
    };
    adminToken = adminApiToken(env);
    auditorToken = adminApiToken(env, "auditor");
    portal = await startPortal({ ...env, ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });
    cleanup.push(() => portal.stop());
    kandji = await startKandjiSimulator({
      token: kandjiToken,
      seed: { devices: [device, refused].map((d) => ({ serial_number: d.serialNumber, device_name: d.deviceName, platform: "Mac", udid: d.udid })) as never },
    });
    cleanup.push(() => kandji.close());
    attacker = await recordingServer();
    cleanup.push(attacker.close);

    // One object of every kind, as an admin would set them up.
    const chain = await setUpKandjiChain(admin, { kandji: { url: kandji.url, token: kandjiToken }, revokeOnFailure: false });
    Object.assign(ids, chain.ids);
    simCa = chain.simCa;
    ids.auditor = (await admin("POST", "/users", { email: AUDITOR.email, name: "Audrey", role: "AUDITOR", password: AUDITOR.password })).id;
    // Settings > Mail has no REST route: its password is planted in the database the portal uses.
    const direct = await openDatabase({ url: db.url, poolSize: 1 });
    await updateMailSettings(
      { db: direct.prisma, masterKey: Buffer.from(masterKey, "hex") } as never,
      { type: "user", role: "ADMIN", name: "test" },
      {
        host: "smtp.example.com",
        port: "587",
        user: "mailer",
        password: smtpPassword,
        from: "pki@example.com",
      },
    );
    await direct.close();

    profile = String((await api(adminToken, "GET", `/device-management-platforms/${ids.dmp}/profile`)).text);
    enrollmentSecret = /\/acme\/([A-Za-z0-9_-]+)\/directory/.exec(profile)![1]!;
    const issued = await enroll({ profile, device, ca: simCa });
    ids.certificate = (await admin("GET", `/certificates?deviceSerial=${device.serialNumber}`)).data[0].id;
    expect(issued.certificatePem).toContain("BEGIN CERTIFICATE");
  }, 180_000);

  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  });

  /** Everything secret the portal holds, as it could leak: in clear, hashed, or as stored (sealed). */
  async function plantedSecrets(): Promise<Record<string, string>> {
    const c = new pg.Client({ connectionString: env.DATABASE_URL });
    await c.connect();
    const q = async (sql: string) => (await c.query(sql)).rows as Record<string, unknown>[];
    const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
    const out: Record<string, string> = {
      enrollmentSecret,
      kandjiToken,
      smtpPassword,
      adminToken,
      auditorToken,
      adminPassword: ADMIN.password,
      auditorPassword: AUDITOR.password,
      enrollmentSecretSha256: sha256(enrollmentSecret),
    };
    const blob = (name: string, b: unknown) => {
      if (!Buffer.isBuffer(b) || b.length === 0) return;
      out[`${name} (hex)`] = b.toString("hex");
      out[`${name} (base64)`] = b.toString("base64");
    };
    for (const r of await q(`SELECT "enrollmentSecretHash", "enrollmentSecret" FROM "DeviceManagementPlatform"`)) {
      out.enrollmentSecretHash = String(r.enrollmentSecretHash);
      blob("sealed enrollment secret", r.enrollmentSecret);
    }
    for (const r of await q(`SELECT "name", "secret" FROM "CorePlatform"`)) blob(`sealed secret of ${r.name}`, r.secret);
    for (const r of await q(`SELECT "smtpPassword" FROM "Organization"`)) blob("sealed SMTP password", r.smtpPassword);
    for (const r of await q(`SELECT "name", "hash" FROM "ApiToken"`)) out[`hash of API token ${r.name}`] = String(r.hash);
    for (const r of await q(`SELECT "email", "passwordHash" FROM "User"`)) out[`password hash of ${r.email}`] = String(r.passwordHash);
    for (const r of await q(`SELECT "sealedKey", "wrappedDek" FROM "CaKey"`)) {
      blob("sealed CA key", r.sealedKey);
      blob("wrapped CA data key", r.wrappedDek);
    }
    await c.end();
    return out;
  }

  const leaks = (body: string, secrets: Record<string, string>) =>
    Object.entries(secrets)
      .filter(([, v]) => body.includes(v))
      .map(([k]) => k);

  it("the enrollment secret is in no log line and not in /metrics", async () => {
    // The ACME directory and a nonce once more, and an unknown enrollment URL: all logged.
    expect((await fetch(`${portal.url}/acme/${enrollmentSecret}/directory`)).status).toBe(200);
    expect((await fetch(`${portal.url}/acme/${enrollmentSecret}/new-nonce`, { method: "HEAD" })).status).toBe(200);
    await fetch(`${portal.url}/acme/${enrollmentSecret}/acct/not-an-account`, {
      method: "POST",
      headers: { "content-type": "application/jose+json" },
      body: "{",
    });
    const metrics = await (await fetch(`${portal.url}/metrics`, { headers: { authorization: `Bearer ${env.METRICS_TOKEN}` } })).text();
    await new Promise((r) => setTimeout(r, 1_500)); // the access log is flushed every second
    const log = portal.output();
    expect(log).toContain('"url":"/acme/[secret]/directory"');
    const secrets = await plantedSecrets();
    expect(leaks(log, secrets)).toEqual([]);
    expect(leaks(metrics, secrets)).toEqual([]);
    expect(metrics).toContain("attested_certificates_issued_total 1");
  });

  it("no REST answer, for an admin or an auditor token, holds a secret, a hash or a sealed value", async () => {
    const secrets = await plantedSecrets();
    const lists = [
      "/certificate-authorities",
      "/certificate-templates",
      "/certificates",
      "/core-platforms",
      "/device-management-platforms",
      "/device-roles",
      "/enrollment-policies",
      "/events?limit=200",
      "/key-attestation-platforms",
      "/policy-workflows",
      "/security-signal-sources",
      "/users",
      "/openapi.json",
    ];
    const problems: string[] = [];
    for (const token of [adminToken, auditorToken]) {
      const who = token === adminToken ? "admin" : "auditor";
      const paths = [...lists];
      for (const list of lists.filter((l) => l !== "/openapi.json")) {
        const r = await api(token, "GET", list);
        expect(r.status, `${who} GET ${list}`).toBe(200);
        const base = list.split("?")[0];
        for (const item of r.json().data as { id: string | number }[]) paths.push(`${base}/${item.id}`);
      }
      expect(paths.length).toBeGreaterThan(40);
      for (const p of paths) {
        const r = await api(token, "GET", p);
        expect(r.status, `${who} GET ${p}`).toBe(200);
        problems.push(...leaks(r.text, secrets).map((s) => `${who} GET ${p}: ${s}`));
        // The OpenAPI document names the write-only fields (password, secret) of request bodies.
        if (p !== "/openapi.json") problems.push(...secretFields(r.json()).map((f) => `${who} GET ${p}: field ${f}`));
      }
      // The profile carries the enrollment secret by design: Admin tokens only.
      expect((await api(auditorToken, "GET", `/device-management-platforms/${ids.dmp}/profile`)).status).toBe(403);
    }
    expect(problems).toEqual([]);
  });

  it("no page an auditor opens holds a secret, a hash or a sealed value", async () => {
    const secrets = await plantedSecrets();
    const cookie = await signIn(portal.url, AUDITOR.email, AUDITOR.password);
    expect(cookie).toBeTruthy();
    const events = (await admin("GET", "/events?limit=200")).data as { id: string }[];
    const pages = [
      "/",
      "/data-and-monitoring/general-events",
      "/dynamic-pki/certificate-authorities",
      "/dynamic-pki/certificates",
      "/integration-hub/core-platforms",
      "/integration-hub/device-management-platforms",
      "/integration-hub/key-attestation-platforms",
      "/policy-management/device-role",
      "/policy-management/enrollment",
      "/policy-management/policy-workflows",
      "/policy-management/security-signal-sources",
      "/settings/api-tokens",
      "/settings/events",
      "/settings/mail",
      "/settings/users",
      `/data-and-monitoring/devices/${device.serialNumber}`,
      `/dynamic-pki/certificate-authorities/${ids.ca}`,
      `/dynamic-pki/certificate-templates/${ids.template}`,
      `/dynamic-pki/certificates/${ids.certificate}`,
      `/integration-hub/core-platforms/${ids.core}`,
      `/integration-hub/device-management-platforms/${ids.dmp}`,
      `/integration-hub/key-attestation-platforms/${ids.kap}`,
      `/policy-management/device-role/${ids.role}`,
      `/policy-management/enrollment/${ids.policy}`,
      `/policy-management/policy-workflows/${ids.workflow}`,
      `/policy-management/security-signal-sources/${ids.source}`,
      ...events.map((e) => `/data-and-monitoring/general-events/${e.id}`),
    ];
    // A value under a secret's name in the page's data (React's payload escapes its quotes); the
    // secret fields' labels ("Bearer Token") are not values.
    const field = /\\?"(\w*(?:secret|hash|token|password|sealed|privatekey)\w*)\\?"\s*:\s*(\\?"[^"\\]+|\{|\[)/gi;
    const problems: string[] = [];
    for (const p of pages) {
      const res = await fetch(`${portal.url}${p}`, { headers: { cookie: cookie! } });
      expect([res.status, new URL(res.url).pathname === "/sign-in"], p).toEqual([200, false]);
      const html = await res.text();
      problems.push(...leaks(html, secrets).map((s) => `${p}: ${s}`));
      problems.push(...[...html.matchAll(field)].filter((m) => !/labels?$/i.test(m[1]!) && !/redacted/i.test(m[2]!)).map((m) => `${p}: field ${m[1]}`));
    }
    expect(problems).toEqual([]);
  });

  it("a stored bearer token is only sent to the origin it was saved for", async () => {
    const before = await admin("GET", `/core-platforms/${ids.core}`);
    const elsewhere = `${attacker.url}/api/v1/devices?serial_number=\${identity}`;
    // Saving a new origin without the token again: refused on the token's field, nothing saved.
    const moved = await api(adminToken, "PATCH", `/core-platforms/${ids.core}`, { uri: elsewhere });
    expect(moved.status).toBe(400);
    expect(moved.json()).toMatchObject({ field: "secret" });
    expect(moved.json().error).toMatch(/Bearer Token is required again/);
    expect((await admin("GET", `/core-platforms/${ids.core}`)).uri).toBe(before.uri);
    // The same origin, another path: the stored token stays.
    expect(
      (await api(adminToken, "PATCH", `/core-platforms/${ids.core}`, { uri: `${kandji.url}/api/v1/devices?serial_number=\${identity}&limit=1` })).status,
    ).toBe(200);
    // A variable cannot choose the host.
    const dynamic = await api(adminToken, "PATCH", `/core-platforms/${ids.core}`, { uri: "http://${identity}.example.com/devices", secret: "x" });
    expect(dynamic.status).toBe(400);
    expect(dynamic.json()).toMatchObject({ field: "uri" });

    // Validate with an edited, unsaved URI: without a typed token nothing is sent; with one, only that one.
    const untyped = await api(adminToken, "POST", `/core-platforms/${ids.core}/validate`, { uri: elsewhere, identity: device.serialNumber });
    expect(untyped.status).toBe(400);
    expect(untyped.json()).toMatchObject({ field: "secret" });
    expect(attacker.requests).toHaveLength(0);
    const typed = await api(adminToken, "POST", `/core-platforms/${ids.core}/validate`, {
      uri: elsewhere,
      secret: "typed-for-this-call",
      identity: device.serialNumber,
    });
    expect(typed.status).toBe(200);
    expect(attacker.requests.map((r) => r.headers.authorization)).toEqual(["Bearer typed-for-this-call"]);
    // An auditor cannot validate at all.
    expect((await api(auditorToken, "POST", `/core-platforms/${ids.core}/validate`, { identity: device.serialNumber })).status).toBe(403);
    // Validate with the saved configuration, and through the Security Signal Source.
    expect((await api(adminToken, "POST", `/core-platforms/${ids.core}/validate`, { identity: device.serialNumber })).json()).toMatchObject({
      outcome: "found",
    });
    expect((await api(adminToken, "POST", `/security-signal-sources/${ids.source}/validate`, { identity: device.serialNumber })).json()).toMatchObject({
      outcome: "found",
    });

    // Every Validate is on General Events: who, where to, with which credential, and the result.
    const validated = (await api(auditorToken, "GET", `/events?type=${encodeURIComponent("Core Platform Validated")}`)).json().data;
    expect(
      validated.map((e: { actorName: string; outcome: string; details: Record<string, unknown> }) => [
        e.actorName,
        e.outcome,
        e.details.destination,
        e.details.credential,
      ]),
    ).toEqual([
      ["token:tests-admin", "success", kandji.url, "saved"],
      ["token:tests-admin", "success", kandji.url, "saved"],
      ["token:tests-admin", "failure", attacker.url, "typed"],
    ]);
    expect(attacker.requests.some((r) => JSON.stringify(r).includes(kandjiToken))).toBe(false);
  });

  it("test roots count only with ATTESTATION_TEST_ROOTS=1", { timeout: 180_000 }, async () => {
    // The same port: the profile's enrollment URL names it.
    const samePlace = { PORT: new URL(portal.url).port, PUBLIC_URL: portal.url };
    await portal.stop();
    portal = await startPortal({ ...env, ...samePlace, ATTESTATION_TEST_ROOTS: "" });
    // The root is still stored, but ignored: the simulated device's attestation does not verify.
    expect((await admin("GET", `/key-attestation-platforms/${ids.kap}`)).testTrustedRoots).toContain("BEGIN CERTIFICATE");
    await expect(enroll({ profile, device: refused, ca: simCa })).rejects.toThrow(/attest/i);
    expect((await admin("GET", `/events?type=${encodeURIComponent("Attestation Failed")}`)).data).toHaveLength(1);
    // The field is read-only: nothing can be added, and the page says which setting is off.
    const add = await api(adminToken, "PATCH", `/key-attestation-platforms/${ids.kap}`, { testTrustedRoots: simCa.rootPem });
    expect(add.status).toBe(409);
    expect(add.json().error).toContain("ATTESTATION_TEST_ROOTS=1");
    const cookie = await signIn(portal.url, ADMIN.email, ADMIN.password);
    const page = await (await fetch(`${portal.url}/integration-hub/key-attestation-platforms/${ids.kap}`, { headers: { cookie: cookie! } })).text();
    expect(page).toContain("not started with ATTESTATION_TEST_ROOTS=1");
    expect(page).toMatch(/<textarea[^>]*readOnly|<textarea[^>]*readonly/);

    // With the setting on, the same stored root lets the device enroll.
    await portal.stop();
    portal = await startPortal({ ...env, ...samePlace, ATTESTATION_TEST_ROOTS: "1" });
    expect((await enroll({ profile, device: refused, ca: simCa })).certificatePem).toContain("BEGIN CERTIFICATE");
  });
});

describe("the data folder", () => {
  it("is 0700 with 0600 files after a start, fixing what was readable before", async () => {
    const dir = tempDir();
    chmodSync(dir, 0o755);
    writeFileSync(path.join(dir, "master.key"), `${randomBytes(32).toString("base64")}\n`, { mode: 0o644 });
    chmodSync(path.join(dir, "master.key"), 0o644);
    writeFileSync(path.join(dir, "notes.txt"), "left by an older version", { mode: 0o644 });
    chmodSync(path.join(dir, "notes.txt"), 0o644);
    const portal = await startPortal({ DATA_DIR: dir, DATABASE_URL: "", ADMIN_PASSWORD: "bootstrap-password-1" });
    try {
      const modes: Record<string, string> = {};
      const walk = (p: string) => {
        const st = lstatSync(p);
        modes[path.relative(dir, p) || "."] = (st.mode & 0o777).toString(8);
        if (st.isDirectory()) for (const n of readdirSync(p)) walk(path.join(p, n));
      };
      walk(dir);
      expect(modes["."]).toBe("700");
      expect(modes["master.key"]).toBe("600");
      expect(modes["notes.txt"]).toBe("600");
      expect(modes.pglite).toBe("700");
      expect(Object.keys(modes).filter((k) => k.startsWith("pglite/")).length).toBeGreaterThan(10);
      const loose = Object.entries(modes).filter(([k, m]) => (lstatSync(path.join(dir, k)).isDirectory() ? m !== "700" : m !== "600"));
      expect(loose).toEqual([]);
    } finally {
      await portal.stop();
    }
  });
});
