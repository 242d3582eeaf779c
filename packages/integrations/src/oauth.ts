// OAuth 2.0 client credentials (RFC 6749 §4.4) for a Generic HTTP lookup: Jamf Pro's
// POST /api/oauth/token, Microsoft Entra ID's /oauth2/v2.0/token. The access token is fetched on
// first use and kept in memory only, per Core Platform and credential, until shortly before its
// expires_in; concurrent lookups share one fetch; a 401 from the API drops it so the next call fetches
// a new one. It is never stored, logged or returned.

import { createHash } from "node:crypto";
import { httpPostForm, type HttpDeps, type HttpPolicy } from "./http";

export interface OAuthClientCredentials {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Space-separated; empty or null sends no scope (Jamf Pro), Entra ID needs "<resource>/.default". */
  scope?: string | null;
}

export type TokenResult = { ok: true; accessToken: string } | { ok: false; reason: string; unavailable?: true; status?: number };

interface CachedToken {
  accessToken: string;
  /** When to fetch again (ms since epoch): shortly before the token expires. */
  refreshAt: number;
}

// Bounded: Validate can try any number of typed credentials.
const MAX_ENTRIES = 256;
const cache = new Map<string, CachedToken>();
const inFlight = new Map<string, Promise<TokenResult>>();

/** When the server omits expires_in (it is only RECOMMENDED), assume a short life. */
export const DEFAULT_EXPIRES_IN_S = 300;

/** Seconds before expiry at which a token is replaced: a tenth of its life, at most a minute. */
export const refreshMarginMs = (lifetimeMs: number) => Math.min(60_000, Math.floor(lifetimeMs / 10));

/** The cache key: the Core Platform and every part of the credential, so an edited credential never reuses a token. */
export function tokenCacheKey(owner: string, c: OAuthClientCredentials): string {
  return createHash("sha256")
    .update(JSON.stringify([owner, c.tokenUrl, c.clientId, c.clientSecret, c.scope ?? ""]))
    .digest("base64url");
}

/** Forgets every cached token (tests; a master key rotation re-reads credentials anyway). */
export function clearTokenCache(): void {
  cache.clear();
  inFlight.clear();
}

/** An OAuth error body (RFC 6749 §5.2) as "error: description", shortened. */
function oauthError(data: unknown): string | null {
  if (data === null || typeof data !== "object" || Array.isArray(data)) return null;
  const d = data as Record<string, unknown>;
  const error = typeof d.error === "string" ? d.error : null;
  const description = typeof d.error_description === "string" ? d.error_description.split(/\r?\n/)[0]!.trim() : null;
  const text = [error, description].filter(Boolean).join(": ");
  return text ? text.slice(0, 200) : null;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}

async function fetchToken(
  c: OAuthClientCredentials,
  policy: Partial<HttpPolicy>,
  deps: HttpDeps | undefined,
  now: () => number,
): Promise<TokenResult & { cached?: CachedToken }> {
  const form: Record<string, string> = { grant_type: "client_credentials", client_id: c.clientId, client_secret: c.clientSecret };
  if (c.scope) form.scope = c.scope;
  const http = await httpPostForm(c.tokenUrl, form, {}, policy, deps);
  if (http.kind === "failure")
    return { ok: false, reason: http.message, ...(http.failure === "timeout" || http.failure === "network" ? { unavailable: true as const } : {}) };
  const data = parseJson(http.body);
  if (http.status < 200 || http.status > 299) {
    const detail = oauthError(data);
    const transient = http.status === 429 || http.status >= 500;
    return {
      ok: false,
      status: http.status,
      reason: `HTTP ${http.status}${detail ? ` (${detail})` : ""}`,
      ...(transient ? { unavailable: true as const } : {}),
    };
  }
  if (data === undefined || data === null || typeof data !== "object") return { ok: false, status: http.status, reason: "the answer is not a JSON object" };
  const d = data as Record<string, unknown>;
  if (typeof d.access_token !== "string" || d.access_token === "") return { ok: false, status: http.status, reason: "the answer has no access_token" };
  if (typeof d.token_type === "string" && d.token_type.toLowerCase() !== "bearer")
    return { ok: false, status: http.status, reason: `token_type ${d.token_type.slice(0, 40)} is not Bearer` };
  if (!/^[\x21-\x7e]+$/.test(d.access_token)) return { ok: false, status: http.status, reason: "the access_token holds characters a header cannot carry" };
  // Entra ID sends a number, some servers a numeric string.
  const expiresIn = Number(d.expires_in ?? DEFAULT_EXPIRES_IN_S);
  const lifetimeMs = (Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : DEFAULT_EXPIRES_IN_S) * 1000;
  return { ok: true, accessToken: d.access_token, cached: { accessToken: d.access_token, refreshAt: now() + lifetimeMs - refreshMarginMs(lifetimeMs) } };
}

export interface TokenOptions {
  http?: Partial<HttpPolicy>;
  deps?: HttpDeps;
  now?: () => number;
}

/** The cached access token, or one fetched now (one fetch for all concurrent callers with the same key). */
export function getAccessToken(key: string, c: OAuthClientCredentials, opts: TokenOptions = {}): Promise<TokenResult> {
  const now = opts.now ?? Date.now;
  const hit = cache.get(key);
  if (hit && now() < hit.refreshAt) return Promise.resolve({ ok: true, accessToken: hit.accessToken });
  const pending = inFlight.get(key);
  if (pending) return pending;
  const p = fetchToken(c, opts.http ?? {}, opts.deps, now)
    .then((r) => {
      if (r.ok && r.cached) {
        cache.delete(key);
        if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!);
        cache.set(key, r.cached);
        return { ok: true as const, accessToken: r.accessToken };
      }
      // A failure is not remembered: the next lookup asks again.
      cache.delete(key);
      return r.ok ? { ok: true as const, accessToken: r.accessToken } : r;
    })
    .finally(() => inFlight.delete(key));
  inFlight.set(key, p);
  return p;
}

/** Drops the cached token after the API refused it (401), unless another caller already replaced it. */
export function invalidateAccessToken(key: string, accessToken: string): void {
  if (cache.get(key)?.accessToken === accessToken) cache.delete(key);
}
