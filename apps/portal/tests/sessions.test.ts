import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminApiToken, adminCli, callServerAction, freshPostgres, signInOverHttp, startPortal, tempDir, type PortalProcess } from "./harness";

// Sessions, passwords, API tokens and sign-in throttling, through the real server over HTTP, with
// the portal behind one proxy (TRUST_PROXY=1), so the test chooses each request's client address.
describe.skipIf(!process.env.DATABASE_URL)("sessions, passwords, API tokens and sign-in throttling", () => {
  const OWNER = { email: "owner@example.com", password: "owner-bootstrap-pass-7" };
  let portal: PortalProcess;
  let env: Record<string, string>;
  let db: pg.Client;
  let drop: () => Promise<void>;
  let adminToken = "";

  beforeAll(async () => {
    const fresh = await freshPostgres();
    drop = fresh.drop;
    env = { DATABASE_URL: fresh.url, DATA_DIR: tempDir(), ADMIN_EMAIL: OWNER.email, ADMIN_PASSWORD: OWNER.password, TRUST_PROXY: "1" };
    portal = await startPortal(env);
    adminToken = adminApiToken(env);
    db = new pg.Client({ connectionString: fresh.url });
    await db.connect();
  }, 120_000);
  afterAll(async () => {
    await db?.end();
    await portal?.stop();
    await drop?.();
  });

  const from = (address: string) => ({ "x-forwarded-for": address });
  const api = (method: string, path: string, auth: { token?: string; cookie?: string }, body?: unknown) =>
    fetch(`${portal.url}/api/v1${path}`, {
      method,
      headers: {
        ...(auth.token ? { authorization: `Bearer ${auth.token}` } : {}),
        ...(auth.cookie ? { cookie: auth.cookie } : {}),
        ...(body ? { "content-type": "application/json" } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
  /** A portal page with the cookie: 200, or a redirect to the sign-in page. */
  const page = async (cookie: string, path = "/settings/users") => {
    const res = await fetch(`${portal.url}${path}`, { headers: { cookie }, redirect: "manual" });
    return res.status === 200 ? "page" : (res.headers.get("location") ?? String(res.status));
  };
  const signIn = async (email: string, password: string, address = "192.0.2.10") => {
    const { cookie } = await signInOverHttp(portal.url, email, password, from(address));
    if (!cookie) throw new Error(`${email} could not sign in`);
    return cookie;
  };
  const userEmails = async () => ((await (await api("GET", "/users", { token: adminToken })).json()) as { data: { email: string }[] }).data.map((u) => u.email);
  const addUser = async (email: string, role: "ADMIN" | "AUDITOR", password: string) => {
    const res = await api("POST", "/users", { token: adminToken }, { email, name: email.split("@")[0], role, password });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  };

  /** What a copied cookie gets once its session has ended: the sign-in page, a refused action, a 401. */
  async function expectEnded(cookie: string) {
    expect(await page(cookie)).toMatch(/\/sign-in/);
    const res = await callServerAction(portal.url, cookie, "/settings/users", "createUserAction", {
      name: "Mallory",
      email: "mallory@example.com",
      role: "ADMIN",
      password: "mallory-strong-pass-91",
    });
    expect(await res.text()).not.toContain("added as Admin");
    expect(await userEmails()).not.toContain("mallory@example.com");
    expect((await api("GET", "/users", { cookie })).status).toBe(401);
  }

  it("signing out ends every session of the user: a copied cookie gets the sign-in page, a refused server action and a 401", async () => {
    await addUser("sam@example.com", "ADMIN", "sam-session-pass-42");
    const laptop = await signIn("sam@example.com", "sam-session-pass-42");
    const copied = laptop; // what an attacker took from the laptop's browser
    const phone = await signIn("sam@example.com", "sam-session-pass-42");
    expect(await page(copied)).toBe("page");
    expect(await page(phone)).toBe("page");

    const out = await callServerAction(portal.url, laptop, "/", "signOutAction", {});
    expect(out.headers.getSetCookie().some((c) => /session-token=;/.test(c))).toBe(true);
    await expectEnded(copied);
    await expectEnded(phone);
    expect(await page(await signIn("sam@example.com", "sam-session-pass-42"))).toBe("page");
  });

  it("a password reset with the admin CLI ends the user's sessions; a weak new password changes nothing", async () => {
    const cookie = await signIn("sam@example.com", "sam-session-pass-42");
    for (const [password, error] of [
      ["short-pw", /at least 12 characters/],
      ["Password123456", /too easy to guess/],
      ["sam@example.com1", /too easy to guess/],
    ] as const) {
      const r = adminCli(env, "reset-password", "sam@example.com", "--password", password);
      expect(r.status).toBe(1);
      expect(r.output).toMatch(error);
    }
    expect(await page(cookie)).toBe("page");

    const r = adminCli(env, "reset-password", "sam@example.com");
    expect(r.status).toBe(0);
    const password = /password: (\S+)/.exec(r.output)![1];
    await expectEnded(cookie);
    expect((await signInOverHttp(portal.url, "sam@example.com", "sam-session-pass-42")).cookie).toBeUndefined();
    const fresh = await signIn("sam@example.com", password);

    // The portal's reset (an admin for another user) ends them too, and refuses a guessable password.
    const owner = await signIn(OWNER.email, OWNER.password);
    const samId = (await (await api("GET", "/users", { token: adminToken })).json()).data.find((u: { email: string }) => u.email === "sam@example.com").id;
    const weak = await callServerAction(portal.url, owner, "/settings/users", "resetPasswordAction", { id: samId, password: "samsamsamsam1" });
    expect(await weak.text()).toContain("too easy to guess");
    expect(await page(fresh)).toBe("page");
    const reset = await callServerAction(portal.url, owner, "/settings/users", "resetPasswordAction", { id: samId, password: "sam-session-pass-42" });
    expect(await reset.text()).toContain("Password reset.");
    await expectEnded(fresh);
    expect(await page(owner)).toBe("page");
  });

  it("a role change or disabling ends the user's sessions", async () => {
    const ritaId = await addUser("rita@example.com", "ADMIN", "rita-role-pass-808");
    const before = await signIn("rita@example.com", "rita-role-pass-808");
    expect((await api("PATCH", `/users/${ritaId}`, { token: adminToken }, { role: "AUDITOR" })).status).toBe(200);
    await expectEnded(before);
    const auditor = await signIn("rita@example.com", "rita-role-pass-808");
    expect(await page(auditor)).toBe("page");
    expect((await api("PATCH", `/users/${ritaId}`, { token: adminToken }, { role: "ADMIN" })).status).toBe(200);
    await expectEnded(auditor);

    const admin = await signIn("rita@example.com", "rita-role-pass-808");
    expect((await api("PATCH", `/users/${ritaId}`, { token: adminToken }, { disabled: true })).status).toBe(200);
    await expectEnded(admin);
  });

  it("users change their own password with the current one; their other sessions end, this one goes on", async () => {
    await addUser("pat@example.com", "AUDITOR", "pat-first-pass-2024");
    const here = await signIn("pat@example.com", "pat-first-pass-2024");
    const elsewhere = await signIn("pat@example.com", "pat-first-pass-2024");
    const change = (cookie: string, currentPassword: string, newPassword: string) =>
      callServerAction(portal.url, cookie, "/settings/account", "changePasswordAction", { currentPassword, newPassword });

    expect(await (await change(here, "not-my-password-1", "pat-second-pass-77")).text()).toContain("The current password is not correct");
    expect(await (await change(here, "pat-first-pass-2024", "patpatpat2024")).text()).toContain("too easy to guess");
    expect(await (await change(here, "pat-first-pass-2024", "short")).text()).toContain("at least 12 characters");
    expect(await page(elsewhere)).toBe("page");

    const res = await change(here, "pat-first-pass-2024", "pat-second-pass-77");
    expect(res.headers.get("x-action-redirect")).toContain("/settings/account?changed=1");
    const renewed = res.headers
      .getSetCookie()
      .find((c) => c.includes("session-token="))!
      .split(";")[0];
    expect(await page(renewed)).toBe("page");
    await expectEnded(here);
    await expectEnded(elsewhere);
    expect((await signInOverHttp(portal.url, "pat@example.com", "pat-first-pass-2024")).cookie).toBeUndefined();
    await signIn("pat@example.com", "pat-second-pass-77");
    // An ended session cannot change the password either.
    const ended = await change(here, "pat-second-pass-77", "pat-third-pass-1234");
    expect(ended.headers.get("x-action-redirect")).toContain("/sign-in");
    expect(ended.headers.getSetCookie().some((c) => c.includes("session-token="))).toBe(false);
    await signIn("pat@example.com", "pat-second-pass-77");
  });

  it("API tokens expire, and stop working when their creator is disabled or loses the role they grant", async () => {
    await addUser("tina@example.com", "ADMIN", "tina-token-pass-55");
    const tinaId = (await (await api("GET", "/users", { token: adminToken })).json()).data.find((u: { email: string }) => u.email === "tina@example.com").id;
    const createToken = async (fields: Record<string, string>) => {
      const cookie = await signIn("tina@example.com", "tina-token-pass-55");
      const text = await (await callServerAction(portal.url, cookie, "/settings/api-tokens", "createTokenAction", fields)).text();
      return { token: /apki_[A-Za-z0-9_-]+/.exec(text)?.[0], text };
    };
    for (const expiresInDays of ["0", "366", "ninety", "-5", "1.5"]) {
      const bad = await createToken({ name: `bad-${expiresInDays}`, role: "ADMIN", expiresInDays });
      expect(bad.token).toBeUndefined();
      expect(bad.text).toMatch(/Expires in must/);
    }
    expect((await db.query(`SELECT count(*)::int AS n FROM "ApiToken" WHERE name LIKE 'bad-%'`)).rows[0].n).toBe(0);

    const admin = (await createToken({ name: "tina-admin", role: "ADMIN", expiresInDays: "7" })).token!;
    const auditor = (await createToken({ name: "tina-auditor", role: "AUDITOR" })).token!;
    const { rows } = await db.query(
      `SELECT name, round(extract(epoch FROM "expiresAt" - "createdAt") / 86400)::int AS days FROM "ApiToken" WHERE name LIKE 'tina-%' ORDER BY name`,
    );
    expect(rows).toEqual([
      { name: "tina-admin", days: 7 },
      { name: "tina-auditor", days: 90 },
    ]);
    expect((await api("GET", "/users", { token: admin })).status).toBe(200);

    // Demoted to Auditor: the Admin token stops working; the Auditor token goes on.
    expect((await api("PATCH", `/users/${tinaId}`, { token: adminToken }, { role: "AUDITOR" })).status).toBe(200);
    expect((await api("GET", "/users", { token: admin })).status).toBe(401);
    expect((await api("PATCH", `/users/${tinaId}`, { token: admin }, { role: "ADMIN" })).status).toBe(401);
    expect((await api("GET", "/users", { token: auditor })).status).toBe(200);

    // Disabled: every token of theirs stops.
    expect((await api("PATCH", `/users/${tinaId}`, { token: adminToken }, { disabled: true })).status).toBe(200);
    expect((await api("GET", "/users", { token: auditor })).status).toBe(401);

    // Expired (the clock moved past its expiry): 401.
    const cli = adminApiToken(env, "admin", "--expires-days", "1");
    expect((await api("GET", "/users", { token: cli })).status).toBe(200);
    await db.query(`UPDATE "ApiToken" SET "expiresAt" = now() - interval '1 second' WHERE prefix = $1`, [cli.slice(0, 11)]);
    expect((await api("GET", "/users", { token: cli })).status).toBe(401);
    expect(adminCli(env, "create-api-token", "x", "--role", "admin", "--expires-days", "0")).toMatchObject({
      status: 1,
      output: expect.stringContaining("Expires in must be at least 1 day"),
    });
  });

  it("throttles per (email, client address): a stranger cannot lock the owner out from elsewhere", async () => {
    const stranger = from("203.0.113.7");
    const tries: string[] = [];
    for (let i = 0; i < 8; i++) tries.push((await signInOverHttp(portal.url, OWNER.email, `guess-number-${i}-xyz`, stranger)).location);
    expect(tries.slice(0, 3).every((l) => l.includes("error=CredentialsSignin") && !l.includes("rate_limited"))).toBe(true);
    expect(tries.at(-1)).toContain("code=rate_limited");
    // From the stranger's address even the right password waits ...
    expect((await signInOverHttp(portal.url, OWNER.email, OWNER.password, stranger)).location).toContain("code=rate_limited");
    // ... while the owner, from their own address, signs in.
    expect((await signInOverHttp(portal.url, OWNER.email, OWNER.password, from("198.51.100.2"))).cookie).toBeDefined();
  });

  it("a burst of parallel sign-ins from one address is counted exactly: no more passwords are checked than the throttle allows", async () => {
    await addUser("burst@example.com", "AUDITOR", "burst-right-pass-4242");
    const burst = Array.from({ length: 40 }, (_, i) => signInOverHttp(portal.url, "burst@example.com", `burst-guess-${i}-abc`, from("203.0.113.80")));
    const results = await Promise.all(burst);
    const checked = await db.query(
      `SELECT count(*)::int AS n FROM "Event" WHERE "type" = 'Sign-in Failed' AND "actorName" = 'burst@example.com' AND details->>'reason' = 'wrong password'`,
    );
    const [pair] = (await db.query(`SELECT failures FROM "SignInThrottle" WHERE key LIKE 'pair:burst@example.com%'`)).rows;
    // Three free failures, then the fourth sets the wait: at most four guesses reach argon2.
    expect(checked.rows[0].n).toBeLessThanOrEqual(4);
    expect(pair.failures).toBe(checked.rows[0].n);
    expect(results.filter((r) => r.location.includes("code=rate_limited")).length).toBeGreaterThanOrEqual(36);
    expect((await signInOverHttp(portal.url, "burst@example.com", "burst-right-pass-4242", from("203.0.113.80"))).location).toContain("code=rate_limited");
  });

  it("IPv6 addresses of one /64 share one throttle bucket; another /64 does not", async () => {
    const tries: string[] = [];
    for (let i = 1; i <= 6; i++)
      tries.push((await signInOverHttp(portal.url, OWNER.email, `v6-guess-${i}-xyz`, from(`2001:db8:77:1::${i.toString(16)}`))).location);
    expect(tries.at(-1)).toContain("code=rate_limited");
    expect((await signInOverHttp(portal.url, OWNER.email, OWNER.password, from("2001:db8:77:1:ffff::9"))).location).toContain("code=rate_limited");
    expect((await signInOverHttp(portal.url, OWNER.email, OWNER.password, from("2001:db8:77:2::1"))).cookie).toBeDefined();
  });

  it("one address spraying many emails is locked, whatever it puts left-most in X-Forwarded-For", async () => {
    const results: string[] = [];
    for (let i = 0; i < 24; i++) {
      // The proxy appends the real address (203.0.113.50); the attacker chose the rest.
      const spoofed = { "x-forwarded-for": `10.9.${i}.1, 203.0.113.50` };
      results.push((await signInOverHttp(portal.url, `victim${i}@example.com`, "Winter2024-password", spoofed)).location);
    }
    expect(results.slice(0, 19).some((l) => l.includes("rate_limited"))).toBe(false);
    expect(results.slice(20).every((l) => l.includes("code=rate_limited"))).toBe(true);
    expect((await signInOverHttp(portal.url, OWNER.email, OWNER.password, { "x-forwarded-for": "198.51.100.2, 203.0.113.50" })).cookie).toBeUndefined();
    expect((await signInOverHttp(portal.url, OWNER.email, OWNER.password, from("198.51.100.3"))).cookie).toBeDefined();
  });

  it("refuses a guessable ADMIN_PASSWORD at first start with one plain line, creating nothing", async () => {
    const fresh = await freshPostgres();
    try {
      const started = await startPortal({
        DATABASE_URL: fresh.url,
        DATA_DIR: tempDir(),
        ADMIN_EMAIL: "first@example.com",
        ADMIN_PASSWORD: "Password123456",
      }).catch((e: Error) => e);
      if (!(started instanceof Error)) await started.stop();
      expect(String(started)).toMatch(/(^|exited: )error: ADMIN_PASSWORD is refused: This password is too easy to guess\./m);
      expect(String(started)).not.toContain("Password123456");
      const c = new pg.Client({ connectionString: fresh.url });
      await c.connect();
      expect((await c.query(`SELECT count(*)::int AS n FROM "User"`)).rows[0].n).toBe(0);
      await c.end();
    } finally {
      await fresh.drop();
    }
  });
});
