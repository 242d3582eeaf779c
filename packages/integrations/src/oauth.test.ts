import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lookupDevice, type LookupConfig } from "./lookup";
import { clearTokenCache, getAccessToken, refreshMarginMs, tokenCacheKey } from "./oauth";
import { createConfigurationTabSchema, fieldErrors } from "./schema";

// A token endpoint and an API on one loopback server, both scripted per test.
interface Bed {
  url: string;
  tokenRequests: URLSearchParams[];
  apiAuth: (string | undefined)[];
  token: (body: URLSearchParams, n: number) => { status: number; body: unknown };
  api: (auth: string | undefined) => { status: number; body: unknown };
  close(): Promise<void>;
}
let bed: Bed;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

beforeEach(async () => {
  clearTokenCache();
  const b = {
    tokenRequests: [] as URLSearchParams[],
    apiAuth: [] as (string | undefined)[],
    token: (_: URLSearchParams, n: number) => ({ status: 200, body: { access_token: `tok-${n}`, token_type: "Bearer", expires_in: 3600 } }),
    api: (auth: string | undefined) =>
      auth?.startsWith("Bearer tok-")
        ? { status: 200, body: [{ serial: "C02OAUTH01" }] }
        : { status: 401, body: { error: { code: "InvalidAuthenticationToken", message: "Access token is empty." } } },
  };
  const send = (res: ServerResponse, r: { status: number; body: unknown }) => {
    res.writeHead(r.status, { "content-type": "application/json" });
    res.end(JSON.stringify(r.body));
  };
  const server = createServer(async (req, res) => {
    if (req.url === "/token" && req.method === "POST") {
      const form = new URLSearchParams(await readBody(req));
      b.tokenRequests.push(form);
      // Slow enough that concurrent lookups overlap with the fetch.
      await new Promise((r) => setTimeout(r, 30));
      return send(res, b.token(form, b.tokenRequests.length));
    }
    b.apiAuth.push(req.headers.authorization);
    send(res, b.api(req.headers.authorization));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  bed = Object.assign(b, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  });
});
afterEach(async () => {
  await bed.close();
});

const config = (over: Partial<LookupConfig> = {}): LookupConfig => ({
  uri: `${bed.url}/devices?serial=\${identity}`,
  authMethod: "oauth2",
  secret: "client-secret-value",
  oauthTokenUrl: `${bed.url}/token`,
  oauthClientId: "client-id",
  oauthScope: "https://graph.microsoft.com/.default",
  tokenOwner: "platform-1",
  validationRules: [{ path: "data[0].serial", condition: "equals", expected: "${identity}" }],
  attributeMappings: [],
  timeoutMs: 2000,
  ...over,
});
const lookup = (c = config()) =>
  lookupDevice({ config: c, identity: "C02OAUTH01", options: { allowHttp: true, http: { backoffBaseMs: 1, backoffMaxMs: 2, retries: 0 } } });

describe("OAuth 2.0 client credentials", () => {
  it("fetches the token once with the client credentials form, then reuses it", async () => {
    const first = await lookup();
    expect(first).toMatchObject({ outcome: "found" });
    expect(bed.tokenRequests).toHaveLength(1);
    expect(Object.fromEntries(bed.tokenRequests[0]!)).toEqual({
      grant_type: "client_credentials",
      client_id: "client-id",
      client_secret: "client-secret-value",
      scope: "https://graph.microsoft.com/.default",
    });
    await lookup();
    expect(bed.tokenRequests).toHaveLength(1);
    expect(bed.apiAuth).toEqual(["Bearer tok-1", "Bearer tok-1"]);
    // The token and the secret never reach the result.
    expect(JSON.stringify(first)).not.toMatch(/tok-1|client-secret-value/);
  });

  it("shares one token fetch among concurrent lookups", async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => lookup()));
    expect(results.every((r) => r.outcome === "found")).toBe(true);
    expect(bed.tokenRequests).toHaveLength(1);
  });

  it("fetches again shortly before expires_in, and keeps tokens per platform and credential", async () => {
    let now = 1_000_000;
    const creds = { tokenUrl: `${bed.url}/token`, clientId: "client-id", clientSecret: "s", scope: null };
    bed.token = (_, n) => ({ status: 200, body: { access_token: `tok-${n}`, token_type: "bearer", expires_in: "600" } });
    const key = tokenCacheKey("p", creds);
    const get = () => getAccessToken(key, creds, { http: { allowHttp: true }, now: () => now });
    expect(await get()).toEqual({ ok: true, accessToken: "tok-1" });
    now += 600_000 - refreshMarginMs(600_000) - 1;
    expect(await get()).toEqual({ ok: true, accessToken: "tok-1" });
    now += 1;
    expect(await get()).toEqual({ ok: true, accessToken: "tok-2" });
    expect(tokenCacheKey("p", { ...creds, clientSecret: "other" })).not.toBe(key);
    expect(tokenCacheKey("q", creds)).not.toBe(key);
  });

  it("on a 401 from the API drops the token, fetches one new token and retries once", async () => {
    await lookup();
    let refused = 0;
    bed.api = (auth) => {
      if (auth !== "Bearer tok-1") return { status: 200, body: [{ serial: "C02OAUTH01" }] };
      refused++;
      return { status: 401, body: {} };
    };
    expect(await lookup()).toMatchObject({ outcome: "found", attempts: 2 });
    expect(refused).toBe(1);
    expect(bed.tokenRequests).toHaveLength(2);

    // A fresh token refused too: one retry only, then the lookup step is blamed.
    bed.api = () => ({ status: 401, body: { error: { code: "Forbidden", message: "Application is not authorized" } } });
    const r = await lookup();
    expect(r).toMatchObject({ outcome: "error", failedStep: "lookup", status: 401 });
    expect(r.reason).toBe("HTTP 401 (Forbidden: Application is not authorized)");
    expect(bed.tokenRequests).toHaveLength(3);
  });

  it("says the token step failed, and why, without a lookup", async () => {
    bed.token = () => ({ status: 401, body: { error: "invalid_client", error_description: "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x" } });
    const r = await lookup();
    expect(r).toMatchObject({
      outcome: "error",
      failedStep: "token",
      reason: "token request failed: HTTP 401 (invalid_client: AADSTS7000215: Invalid client secret provided.)",
    });
    expect(r.unavailable).toBeUndefined();
    expect(bed.apiAuth).toHaveLength(0);
    // A failure is not cached: the next lookup asks again.
    await lookup();
    expect(bed.tokenRequests).toHaveLength(2);

    bed.token = () => ({ status: 200, body: { token_type: "Bearer" } });
    expect((await lookup()).reason).toBe("token request failed: the answer has no access_token");
    bed.token = () => ({ status: 200, body: { access_token: "x", token_type: "mac" } });
    expect((await lookup()).reason).toBe("token request failed: token_type mac is not Bearer");
    bed.token = () => ({ status: 503, body: {} });
    expect(await lookup()).toMatchObject({ failedStep: "token", reason: "token request failed: HTTP 503", unavailable: true });
  });

  it("refuses a configuration without token URL or client id, or with a bad token URL", () => {
    const schema = createConfigurationTabSchema({ allowHttp: false });
    const errs = (v: Record<string, unknown>) => {
      const r = schema.safeParse({ authMethod: "oauth2", secret: "s", ...v });
      return r.success ? {} : fieldErrors(r.error);
    };
    expect(errs({})).toMatchObject({ oauthTokenUrl: "Token URL is required", oauthClientId: "Client ID is required" });
    expect(errs({ oauthTokenUrl: "http://jamf.example/api/oauth/token", oauthClientId: "c" })).toEqual({
      oauthTokenUrl: "Token URL must use https:// (plain http is refused)",
    });
    expect(errs({ oauthTokenUrl: "https://u:p@jamf.example/t", oauthClientId: "c" })).toEqual({
      oauthTokenUrl: "Token URL must not hold a user name or password",
    });
    expect(errs({ oauthTokenUrl: "https://${identity}.example/t", oauthClientId: "c" })).toEqual({ oauthTokenUrl: "Token URL cannot hold variables" });
    expect(errs({ oauthTokenUrl: "https://jamf.example/api/oauth/token", oauthClientId: "c", oauthScope: 'a "b"' })).toHaveProperty("oauthScope");
    expect(errs({ oauthTokenUrl: "https://jamf.example/api/oauth/token", oauthClientId: "c", secret: "" })).toEqual({ secret: "Client Secret is required" });
    expect(errs({ oauthTokenUrl: "https://jamf.example/api/oauth/token", oauthClientId: "c", oauthScope: "" })).toEqual({});
  });
});
