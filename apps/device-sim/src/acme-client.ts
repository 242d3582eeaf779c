// A small RFC 8555 client, as an Apple device speaks it for device-attest-01
// (draft-ietf-acme-device-attest): JWS with `jwk` for newAccount and `kid` afterwards, Replay-Nonce
// bookkeeping with badNonce retries (§6.5), POST-as-GET (§6.3), order/authorization polling (§7.5.1,
// §7.4) and the certificate download as application/pem-certificate-chain (§7.4.2).
import { KeyObject, generateKeyPairSync, sign } from "node:crypto";

/** The public members of an EC JWK (RFC 7517), as sent in the newAccount header. */
export interface AccountJwk {
  kty: string;
  crv: string;
  x: string;
  y: string;
}

export type Fetch = typeof globalThis.fetch;

/** An RFC 7807 problem document as ACME servers return it (RFC 8555 §6.7). */
export interface AcmeProblem {
  type: string;
  detail?: string;
  status?: number;
  subproblems?: AcmeProblem[];
  [key: string]: unknown;
}

export class AcmeClientError extends Error {
  override readonly name = "AcmeClientError";
  constructor(
    message: string,
    /** The server's problem document, when it sent one. */
    readonly problem: AcmeProblem | null,
    /** HTTP status, when the error came from a response. */
    readonly status: number | null,
    readonly url: string,
    /** The answer's Retry-After header, when it had one (a 503 asks the client to come back then). */
    readonly retryAfter: string | null = null,
  ) {
    super(message);
  }

  /** The problem type without the `urn:ietf:params:acme:error:` prefix, e.g. "badAttestationStatement". */
  get acmeType(): string | undefined {
    return this.problem?.type.replace(/^urn:ietf:params:acme:error:/, "");
  }
}

export interface AcmeDirectory {
  newNonce: string;
  newAccount: string;
  newOrder: string;
  revokeCert?: string;
  keyChange?: string;
  meta?: Record<string, unknown>;
}

export interface AcmeIdentifier {
  type: string;
  value: string;
}

export interface AcmeChallenge {
  type: string;
  url: string;
  status: "pending" | "processing" | "valid" | "invalid";
  token?: string;
  validated?: string;
  error?: AcmeProblem;
}

export interface AcmeAuthorization {
  identifier: AcmeIdentifier;
  status: "pending" | "valid" | "invalid" | "deactivated" | "expired" | "revoked";
  expires?: string;
  challenges: AcmeChallenge[];
  wildcard?: boolean;
}

export interface AcmeOrder {
  status: "pending" | "ready" | "processing" | "valid" | "invalid";
  expires?: string;
  identifiers: AcmeIdentifier[];
  authorizations: string[];
  finalize: string;
  certificate?: string;
  error?: AcmeProblem;
}

export interface AcmeClientOptions {
  directoryUrl: string;
  fetch?: Fetch;
  /** ES256 account key; generated when absent. */
  accountKey?: CryptoKeyPair;
  /** First polling interval when the server gives no Retry-After (doubles up to 2 s). */
  pollIntervalMs?: number;
  /** Give up polling an order or authorization after this long. */
  pollTimeoutMs?: number;
  /** How many times one request is re-sent after a badNonce error (RFC 8555 §6.5). */
  maxBadNonceRetries?: number;
  /** Upper bound on a server's Retry-After while polling. */
  maxRetryAfterMs?: number;
}

const PROBLEM_PREFIX = "urn:ietf:params:acme:error:";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Reply<T> {
  status: number;
  headers: Headers;
  body: T;
}

/** Retry-After as milliseconds: delta-seconds or an HTTP-date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : Math.max(0, t - now);
}

export class AcmeClient {
  private readonly fetch: Fetch;
  private readonly opts: Required<Omit<AcmeClientOptions, "accountKey" | "fetch">>;
  private directory: AcmeDirectory | null = null;
  private nonce: string | null = null;
  private readonly accountKeyOption: CryptoKeyPair | null;
  /** The ES256 account key as a node:crypto KeyObject (signing is synchronous and cheap), and its JWK. */
  private signer: { key: KeyObject; jwk: AccountJwk } | null = null;
  /** The account URL (the JWS `kid`), once the account exists. */
  accountUrl: string | null = null;

  constructor(options: AcmeClientOptions) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.accountKeyOption = options.accountKey ?? null;
    this.opts = {
      directoryUrl: options.directoryUrl,
      pollIntervalMs: options.pollIntervalMs ?? 250,
      pollTimeoutMs: options.pollTimeoutMs ?? 60_000,
      maxBadNonceRetries: options.maxBadNonceRetries ?? 5,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 10_000,
    };
  }

  async getDirectory(): Promise<AcmeDirectory> {
    if (this.directory) return this.directory;
    const url = this.opts.directoryUrl;
    const res = await this.fetch(url, { headers: { accept: "application/json" } });
    if (!res.ok) throw await this.errorFrom(res, url, "GET directory");
    const dir = (await res.json()) as AcmeDirectory;
    for (const k of ["newNonce", "newAccount", "newOrder"] as const) {
      if (typeof dir[k] !== "string") throw new AcmeClientError(`the directory has no ${k} URL`, null, res.status, url);
    }
    this.directory = dir;
    return dir;
  }

  /** Fetches a fresh nonce: HEAD newNonce (RFC 8555 §7.2). */
  async newNonce(): Promise<string> {
    const { newNonce } = await this.getDirectory();
    const res = await this.fetch(newNonce, { method: "HEAD" });
    const nonce = res.headers.get("replay-nonce");
    if (!res.ok || !nonce) throw new AcmeClientError(`newNonce returned ${res.status} without a Replay-Nonce`, null, res.status, newNonce);
    return nonce;
  }

  private keys(): { key: KeyObject; jwk: AccountJwk } {
    if (!this.signer) {
      let key: KeyObject;
      let pub: KeyObject;
      if (this.accountKeyOption) {
        key = KeyObject.from(this.accountKeyOption.privateKey);
        pub = KeyObject.from(this.accountKeyOption.publicKey);
      } else {
        ({ privateKey: key, publicKey: pub } = generateKeyPairSync("ec", { namedCurve: "P-256" }));
      }
      const { kty, crv, x, y } = pub.export({ format: "jwk" }) as AccountJwk;
      this.signer = { key, jwk: { kty, crv, x, y } };
    }
    return this.signer;
  }

  /** The JWS body of a request: `jwk` in the header for newAccount, `kid` otherwise (RFC 8555 §6.2). */
  async signRequest(url: string, payload: unknown | undefined, nonce: string, useJwk: boolean): Promise<string> {
    return this.signRequestSync(url, payload, nonce, useJwk);
  }

  private signRequestSync(url: string, payload: unknown | undefined, nonce: string, useJwk: boolean): string {
    const { key, jwk } = this.keys();
    const header: Record<string, unknown> = { alg: "ES256", nonce, url };
    if (useJwk) header.jwk = jwk;
    else {
      if (!this.accountUrl) throw new Error("no account yet: create the account first");
      header.kid = this.accountUrl;
    }
    const protectedB64 = Buffer.from(JSON.stringify(header), "utf8").toString("base64url");
    // POST-as-GET: the payload is the empty string (RFC 8555 §6.3).
    const payloadB64 = payload === undefined ? "" : Buffer.from(JSON.stringify(payload), "utf8").toString("base64url");
    // ES256 (RFC 7518 §3.4): ECDSA P-256 SHA-256, the signature as R || S.
    const signature = sign("sha256", Buffer.from(`${protectedB64}.${payloadB64}`, "latin1"), { key, dsaEncoding: "ieee-p1363" });
    return JSON.stringify({ protected: protectedB64, payload: payloadB64, signature: signature.toString("base64url") });
  }

  private async errorFrom(res: Response, url: string, what: string): Promise<AcmeClientError> {
    const text = await res.text().catch(() => "");
    let problem: AcmeProblem | null = null;
    if ((res.headers.get("content-type") ?? "").includes("json")) {
      try {
        const parsed = JSON.parse(text) as AcmeProblem;
        if (parsed && typeof parsed.type === "string") problem = parsed;
      } catch {
        // not JSON after all
      }
    }
    const detail = problem ? `${problem.type.replace(PROBLEM_PREFIX, "")}: ${problem.detail ?? ""}` : text.slice(0, 200);
    return new AcmeClientError(`${what} failed (HTTP ${res.status}) ${detail}`.trim(), problem, res.status, url, res.headers.get("retry-after"));
  }

  /** A signed POST, re-sent with the fresh nonce after badNonce (RFC 8555 §6.5). */
  async post(url: string, payload: unknown | undefined, options: { useJwk?: boolean; accept?: string; what?: string } = {}): Promise<Response> {
    const what = options.what ?? `POST ${url}`;
    for (let attempt = 0; ; attempt++) {
      const nonce = this.nonce ?? (await this.newNonce());
      this.nonce = null;
      const body = this.signRequestSync(url, payload, nonce, options.useJwk ?? false);
      const res = await this.fetch(url, {
        method: "POST",
        headers: { "content-type": "application/jose+json", ...(options.accept ? { accept: options.accept } : {}) },
        body,
      });
      const fresh = res.headers.get("replay-nonce");
      if (fresh) this.nonce = fresh;
      if (res.ok) return res;
      const err = await this.errorFrom(res, url, what);
      if (err.problem?.type === `${PROBLEM_PREFIX}badNonce` && attempt < this.opts.maxBadNonceRetries) continue;
      throw err;
    }
  }

  private async postJson<T>(url: string, payload: unknown | undefined, options: { useJwk?: boolean; what?: string } = {}): Promise<Reply<T>> {
    const res = await this.post(url, payload, { ...options, accept: "application/json" });
    const body = (await res.json()) as T;
    return { status: res.status, headers: res.headers, body };
  }

  /** newAccount with `jwk`; the Location becomes the `kid` of every later request (RFC 8555 §7.3). */
  async createAccount(options: { contact?: string[] } = {}): Promise<string> {
    const { newAccount } = await this.getDirectory();
    const payload: Record<string, unknown> = { termsOfServiceAgreed: true };
    if (options.contact?.length) payload.contact = options.contact;
    const reply = await this.postJson<{ status: string }>(newAccount, payload, { useJwk: true, what: "newAccount" });
    const location = reply.headers.get("location");
    if (!location) throw new AcmeClientError("newAccount returned no Location", null, reply.status, newAccount);
    this.accountUrl = location;
    return location;
  }

  async newOrder(identifiers: AcmeIdentifier[]): Promise<{ url: string; order: AcmeOrder }> {
    const { newOrder } = await this.getDirectory();
    const reply = await this.postJson<AcmeOrder>(newOrder, { identifiers }, { what: "newOrder" });
    const url = reply.headers.get("location");
    if (!url) throw new AcmeClientError("newOrder returned no Location", null, reply.status, newOrder);
    return { url, order: reply.body };
  }

  async getOrder(url: string): Promise<AcmeOrder> {
    return (await this.postJson<AcmeOrder>(url, undefined, { what: "GET order" })).body;
  }

  async getAuthorization(url: string): Promise<AcmeAuthorization> {
    return (await this.postJson<AcmeAuthorization>(url, undefined, { what: "GET authorization" })).body;
  }

  /** Answers device-attest-01 with `{"attObj": base64url(CBOR)}` (draft-ietf-acme-device-attest §5). */
  async answerDeviceAttest(challengeUrl: string, attObj: Uint8Array): Promise<AcmeChallenge> {
    const payload = { attObj: Buffer.from(attObj).toString("base64url") };
    return (await this.postJson<AcmeChallenge>(challengeUrl, payload, { what: "device-attest-01 response" })).body;
  }

  async finalize(finalizeUrl: string, csrDer: Uint8Array): Promise<AcmeOrder> {
    const payload = { csr: Buffer.from(csrDer).toString("base64url") };
    return (await this.postJson<AcmeOrder>(finalizeUrl, payload, { what: "finalize" })).body;
  }

  /** Downloads the chain (leaf first) as application/pem-certificate-chain (RFC 8555 §7.4.2). */
  async downloadCertificate(url: string): Promise<string> {
    const res = await this.post(url, undefined, { accept: "application/pem-certificate-chain", what: "certificate download" });
    const type = res.headers.get("content-type") ?? "";
    const pem = await res.text();
    if (!type.startsWith("application/pem-certificate-chain") || !pem.includes("-----BEGIN CERTIFICATE-----")) {
      throw new AcmeClientError(`certificate download returned ${type || "no content type"}, not a PEM chain`, null, res.status, url);
    }
    return pem;
  }

  private async poll<T extends { status: string }>(url: string, fetchOnce: () => Promise<Reply<T>>, done: (v: T) => boolean, what: string): Promise<T> {
    const deadline = Date.now() + this.opts.pollTimeoutMs;
    let interval = this.opts.pollIntervalMs;
    for (;;) {
      const reply = await fetchOnce();
      if (done(reply.body)) return reply.body;
      const retryAfter = parseRetryAfter(reply.headers.get("retry-after"));
      // Honour Retry-After (RFC 8555 §7.4), within bounds: never a busy loop, never an endless wait.
      const wait = Math.max(10, Math.min(retryAfter ?? interval, this.opts.maxRetryAfterMs));
      if (Date.now() + wait > deadline) {
        throw new AcmeClientError(`${what} still "${reply.body.status}" after ${this.opts.pollTimeoutMs} ms`, null, null, url);
      }
      await sleep(wait);
      interval = Math.min(interval * 2, 2000);
    }
  }

  /** Polls the authorization until it leaves pending; throws with the challenge's problem if invalid. */
  async waitForAuthorization(url: string): Promise<AcmeAuthorization> {
    const authz = await this.poll(
      url,
      () => this.postJson<AcmeAuthorization>(url, undefined, { what: "GET authorization" }),
      (a) => a.status !== "pending",
      "authorization",
    );
    if (authz.status !== "valid") {
      const problem = authz.challenges.find((c) => c.error)?.error ?? null;
      throw new AcmeClientError(
        `authorization is ${authz.status}${problem ? `: ${problem.type.replace(PROBLEM_PREFIX, "")}: ${problem.detail ?? ""}` : ""}`,
        problem,
        null,
        url,
      );
    }
    return authz;
  }

  /** Polls the order until it is in one of `targets`; throws with the order's problem if it becomes invalid. */
  async waitForOrder(url: string, targets: AcmeOrder["status"][]): Promise<AcmeOrder> {
    const order = await this.poll(
      url,
      () => this.postJson<AcmeOrder>(url, undefined, { what: "GET order" }),
      (o) => targets.includes(o.status) || o.status === "invalid",
      "order",
    );
    if (order.status === "invalid") {
      const p = order.error ?? null;
      throw new AcmeClientError(`order is invalid${p ? `: ${p.type.replace(PROBLEM_PREFIX, "")}: ${p.detail ?? ""}` : ""}`, p, null, url);
    }
    return order;
  }
}
