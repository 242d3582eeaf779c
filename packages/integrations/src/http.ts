// The outbound call of a Generic HTTP lookup, hardened for a remote we do not control:
// - https only, unless the caller explicitly allows http (tests and demos on loopback). Node's fetch
//   always verifies TLS certificates; nothing here can turn that off.
// - per-attempt timeout (AbortController) that also covers reading the body, and a total budget;
// - the body is streamed and cut off past maxBytes;
// - redirects are followed by hand, only within the same origin (no credential leak to another host,
//   no https -> http downgrade), at most maxRedirects;
// - 429 and 5xx (and connection failures) are retried with exponential backoff and jitter; a 429's
//   Retry-After is honoured up to a cap, and never beyond the total budget.

import type { Readable } from "node:stream";
import { request } from "undici";

// undici's request() rather than fetch: a lookup runs on every enrollment, and fetch's WHATWG streams
// (and the wrapper a framework may put around the global fetch: Next.js does) cost more than the call.

export interface HttpPolicy {
  /** Per attempt, from sending the request to the last byte of the body. */
  timeoutMs: number;
  /** Whole call including retries and waits. */
  maxTotalMs: number;
  maxBytes: number;
  /** Retries after the first attempt. */
  retries: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  retryAfterCapMs: number;
  maxRedirects: number;
  allowHttp: boolean;
}

export const DEFAULT_HTTP_POLICY: HttpPolicy = {
  timeoutMs: 5_000,
  maxTotalMs: 20_000,
  maxBytes: 1 << 20,
  retries: 2,
  backoffBaseMs: 250,
  backoffMaxMs: 4_000,
  retryAfterCapMs: 10_000,
  maxRedirects: 3,
  allowHttp: false,
};

export interface HttpResponse {
  kind: "response";
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: Buffer;
  /** The URL that answered (after same-origin redirects). */
  url: string;
  attempts: number;
  timeMs: number;
}

export type HttpFailureKind = "scheme" | "timeout" | "tooLarge" | "redirect" | "network" | "tls";

export interface HttpFailure {
  kind: "failure";
  failure: HttpFailureKind;
  message: string;
  attempts: number;
  timeMs: number;
}

export type HttpResult = HttpResponse | HttpFailure;

export interface HttpDeps {
  /** Jitter source in [0, 1). */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const USER_AGENT = "AttestedPKI-GenericHTTP/1";
const TLS_CODES = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME|ALTNAME/;

export const isRetryableStatus = (status: number) => status === 429 || (status >= 500 && status <= 599);

/** Retry-After in ms: delta-seconds or an HTTP-date (RFC 9110 §10.2.3); null when absent or invalid. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | null {
  if (!value) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, t - now);
}

/** Equal jitter: half the exponential step fixed, half random, so retries spread but still back off. */
export function backoffDelay(retry: number, policy: Pick<HttpPolicy, "backoffBaseMs" | "backoffMaxMs">, random = Math.random): number {
  const step = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** retry);
  return Math.round(step / 2 + random() * (step / 2));
}

class Failure extends Error {
  constructor(
    readonly failure: HttpFailureKind,
    message: string,
  ) {
    super(message);
  }
}

function describeNetworkError(e: unknown): Failure {
  // undici's errors carry the system or TLS code themselves, or on their cause.
  const err = e as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = (err.code && !err.code.startsWith("UND_ERR") ? err.code : err.cause?.code) ?? err.code ?? "";
  const detail = code || err.cause?.message || err.message || String(e);
  if (TLS_CODES.test(code)) return new Failure("tls", `TLS error: ${detail}`);
  return new Failure("network", `network error: ${detail}`);
}

/** Stops reading a body we will not use; the connection is closed (undici reports that as an abort). */
function discard(body: Readable): void {
  body.on("error", () => {});
  body.destroy();
}

const TOO_LARGE = (maxBytes: number) => new Failure("tooLarge", `response too large (over ${maxBytes} bytes)`);

async function readLimited(body: Readable, declaredLength: string | undefined, maxBytes: number): Promise<Buffer> {
  const declared = Number(declaredLength);
  if (Number.isFinite(declared) && declared > maxBytes) {
    discard(body);
    throw TOO_LARGE(maxBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).byteLength;
    if (size > maxBytes) {
      discard(body);
      throw TOO_LARGE(maxBytes);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

interface OutgoingRequest {
  method: "GET" | "POST";
  headers: Record<string, string>;
  body?: string;
}

interface Attempt {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  url: string;
}

/** One attempt: the request, same-origin redirects, and the body, all under one timeout. */
async function attempt(url: URL, req: OutgoingRequest, timeoutMs: number, policy: HttpPolicy): Promise<Attempt> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    let current = url;
    for (let hop = 0; ; hop++) {
      let res: Awaited<ReturnType<typeof request>>;
      try {
        // request() follows no redirects: they are checked here, hop by hop.
        res = await request(current, { method: req.method, headers: req.headers, body: req.body, signal: ctl.signal });
      } catch (e) {
        if (ctl.signal.aborted) throw new Failure("timeout", `timeout after ${timeoutMs}ms`);
        throw describeNetworkError(e);
      }
      const h: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
      const location = h.location;
      // A POST (the OAuth token request) is never redirected: its body holds the client secret.
      if (REDIRECTS.has(res.statusCode) && location && req.method === "GET") {
        discard(res.body);
        let next: URL;
        try {
          next = new URL(location, current);
        } catch {
          throw new Failure("redirect", `redirect to an invalid location`);
        }
        if (next.origin !== current.origin) throw new Failure("redirect", `redirect to another host refused (${next.origin})`);
        if (hop + 1 > policy.maxRedirects) throw new Failure("redirect", `more than ${policy.maxRedirects} redirects`);
        current = next;
        continue;
      }
      try {
        const body = await readLimited(res.body, h["content-length"], policy.maxBytes);
        return { status: res.statusCode, headers: h, body, url: current.toString() };
      } catch (e) {
        if (e instanceof Failure) throw e;
        if (ctl.signal.aborted) throw new Failure("timeout", `timeout after ${timeoutMs}ms`);
        throw describeNetworkError(e);
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

/**
 * GETs `url` under the policy. Never throws for remote trouble: the result is either the final
 * response (which may still be a 429/5xx once retries are spent) or a failure with a precise message.
 */
export function httpGet(url: string, headers: Record<string, string>, policyIn: Partial<HttpPolicy> = {}, deps: HttpDeps = {}): Promise<HttpResult> {
  return httpRequest(url, { method: "GET", headers }, policyIn, deps);
}

/** POSTs an application/x-www-form-urlencoded body (the OAuth 2.0 token request), under the same policy as httpGet. */
export function httpPostForm(
  url: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
  policyIn: Partial<HttpPolicy> = {},
  deps: HttpDeps = {},
): Promise<HttpResult> {
  const body = new URLSearchParams(form).toString();
  return httpRequest(url, { method: "POST", headers: { ...headers, "content-type": "application/x-www-form-urlencoded" }, body }, policyIn, deps);
}

async function httpRequest(url: string, req: OutgoingRequest, policyIn: Partial<HttpPolicy>, deps: HttpDeps): Promise<HttpResult> {
  const headers = req.headers;
  const policy = { ...DEFAULT_HTTP_POLICY, ...policyIn };
  const random = deps.random ?? Math.random;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = Date.now();
  const elapsed = () => Date.now() - started;
  let attempts = 0;
  const fail = (failure: HttpFailureKind, message: string): HttpFailure => ({ kind: "failure", failure, message, attempts, timeMs: elapsed() });

  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return fail("scheme", "URI is not a valid URL");
  }
  if (target.protocol !== "https:" && !(target.protocol === "http:" && policy.allowHttp)) {
    return fail("scheme", target.protocol === "http:" ? "http URIs are not allowed: use https" : `unsupported scheme ${target.protocol}`);
  }
  if (target.username || target.password) return fail("scheme", "URI must not contain credentials");
  const sent = { "user-agent": USER_AGENT, accept: "application/json", ...headers };

  for (;;) {
    const remaining = policy.maxTotalMs - elapsed();
    if (remaining <= 0) return fail("timeout", `timeout after ${policy.maxTotalMs}ms in total`);
    attempts++;
    const budget = Math.min(policy.timeoutMs, remaining);
    let r: Attempt;
    try {
      r = await attempt(target, { ...req, headers: sent }, budget, policy);
    } catch (e) {
      if (!(e instanceof Failure)) throw e;
      // Only a refused or reset connection is worth retrying; a timeout already spent its budget,
      // and TLS, size and redirect failures would fail the same way again.
      if (e.failure === "network" && attempts <= policy.retries) {
        const wait = backoffDelay(attempts - 1, policy, random);
        if (elapsed() + wait < policy.maxTotalMs) {
          await sleep(wait);
          continue;
        }
      }
      return fail(e.failure, e.message);
    }
    if (isRetryableStatus(r.status) && attempts <= policy.retries) {
      const retryAfter = r.status === 429 ? parseRetryAfter(r.headers["retry-after"]) : null;
      const wait = retryAfter !== null ? Math.min(retryAfter, policy.retryAfterCapMs) : backoffDelay(attempts - 1, policy, random);
      // Waiting past the budget would only end in a timeout; report the status we have instead.
      if (elapsed() + wait < policy.maxTotalMs) {
        await sleep(wait);
        continue;
      }
    }
    return { kind: "response", ...r, attempts, timeMs: elapsed() };
  }
}
