import { logger } from "@attested/log";
import type { ParsedJws } from "./jws";
import { jwkThumbprint, parseJwsBody, verifyJws } from "./jws";
import { NonceService } from "./nonces";
import { AcmeProblem, httpProblem, problem, PROBLEM_CONTENT_TYPE, toProblem } from "./problems";
import { BAD_NONCE, RecentChains, type Reply, type RequestContext, type ServerDeps } from "./context";
import { accountOrders, accountResource, keyChange, newAccount } from "./resources/account";
import { authorization, challenge } from "./resources/authz";
import { certificate, finalize, getOrder, newOrder } from "./resources/order";
import { revokeCert } from "./resources/revoke";
import { DEFAULT_PROCESSING_TIMEOUT_MS } from "./status";
import type { AcmeStore, Target, TargetRef, UsedNonce } from "./store";
import type {
  AccountRecord,
  AcmePlatform,
  CertificateChainHook,
  DirectoryMetaOptions,
  ErrorHook,
  EventHook,
  FindCertificateHook,
  IssueHook,
  RevokeCertificateHook,
  Validators,
} from "./types";
import { PlatformUrls, redactAcmePath, type RouteMatch, type RouteName } from "./urls";

export type HeadersLike = { get(name: string): string | null } | Record<string, string | string[] | undefined>;

export interface AcmeRequest {
  method: string;
  /** The full request URL; only its path is used (host and scheme come from the platform's baseUrl). */
  url: string;
  headers: HeadersLike;
  body: Uint8Array | null;
  /** Set by adapters that stopped reading a body over the limit. */
  bodyTooLarge?: boolean;
}

export interface AcmeResponse {
  status: number;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

export interface AcmeServerOptions {
  store: AcmeStore;
  /** Challenge validators; a challenge type without one is never offered. */
  validators: Validators;
  issue: IssueHook;
  getCertificateChain: CertificateChainHook;
  findCertificate: FindCertificateHook;
  revokeCertificate: RevokeCertificateHook;
  onEvent?: EventHook;
  onError?: ErrorHook;
  /**
   * Whether an error means the storage is unavailable for now: answered 503 + Retry-After, not 500, and a
   * challenge validation or an issuance that failed so settles nothing (the challenge stays pending, the
   * order goes back to ready) so that the client's retry can succeed.
   */
  isUnavailable?: (err: unknown) => boolean;
  /** Directory meta (RFC 8555 §7.1.1); a platform's own `meta` overrides it. */
  meta?: DirectoryMetaOptions;
  /** Lifetime of a new order and its authorizations. Default 24 hours. */
  orderLifetimeMs?: number;
  /** A finalize still processing after this is abandoned (order → invalid). Default 10 minutes. */
  processingTimeoutMs?: number;
  /** How long an unused nonce stays acceptable. Default 1 hour. */
  nonceLifetimeMs?: number;
  /** Request bodies above this answer 413. Default 64 KiB. */
  maxBodyBytes?: number;
  /**
   * Accept orders for IP identifiers that are internal addresses (loopback, private, link-local, …),
   * refused otherwise with rejectedIdentifier. Test networks only, with the http-01 validator's own
   * allowPrivateAddresses.
   */
  allowPrivateAddresses?: boolean;
  /** Most orders listed at an account's orders URL. Default 1000. */
  maxOrdersListed?: number;
  /**
   * Key of the signed nonces (32 bytes): every instance serving the same store must have the same one,
   * e.g. derived from the master key. Default: a random key (one instance).
   */
  nonceKey?: Buffer;
  /**
   * The issue hook parses the CSR and verifies its signature itself (answering badCSR when it fails), so
   * finalize only decodes it instead of checking it a second time. Default false: the core checks.
   */
  issuerChecksCsr?: boolean;
  /** Clock (tests). */
  now?: () => Date;
}

type KeyMode = "jwk" | "kid" | "either";
type Handler = (ctx: RequestContext) => Promise<Reply>;

/**
 * How each POST resource must be signed (RFC 8555 §6.2), which resource its URL names (read with the
 * account, see AcmeStore.getAccountUsingNonce) and who handles it. `nonceInHandler`: the handler records
 * the nonce's use itself (ctx.nonce), in the statement of its change.
 */
const POST_ROUTES: Record<Exclude<RouteName, "directory" | "newNonce">, { keys: KeyMode; target?: Target["type"]; nonceInHandler?: true; handler: Handler }> = {
  newAccount: { keys: "jwk", nonceInHandler: true, handler: newAccount },
  revokeCert: { keys: "either", handler: revokeCert },
  keyChange: { keys: "kid", handler: keyChange },
  newOrder: { keys: "kid", handler: newOrder },
  account: { keys: "kid", handler: accountResource },
  accountOrders: { keys: "kid", handler: accountOrders },
  order: { keys: "kid", target: "order", handler: getOrder },
  finalize: { keys: "kid", target: "order", handler: finalize },
  authorization: { keys: "kid", target: "authorization", handler: authorization },
  challenge: { keys: "kid", target: "challenge", handler: challenge },
  certificate: { keys: "kid", target: "order", handler: certificate },
};

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

function header(h: HeadersLike, name: string): string | null {
  if (typeof (h as { get?: unknown }).get === "function") return (h as { get(n: string): string | null }).get(name);
  const rec = h as Record<string, string | string[] | undefined>;
  const key = Object.keys(rec).find((k) => k.toLowerCase() === name.toLowerCase());
  const v = key === undefined ? undefined : rec[key];
  return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
}

/**
 * The ACME server core (RFC 8555), framework-free. Callers resolve the platform from the URL and
 * pass the raw request; every answer, errors included, carries a fresh Replay-Nonce.
 */
export class AcmeServer {
  readonly maxBodyBytes: number;
  private readonly deps: ServerDeps;
  private readonly nonces: NonceService;
  private readonly onError: ErrorHook;
  private readonly isUnavailable: (err: unknown) => boolean;
  private readonly urlCache = new Map<string, PlatformUrls>();

  constructor(opts: AcmeServerOptions) {
    const now = opts.now ?? (() => new Date());
    this.onError = opts.onError ?? ((err, c) => logger().error({ err, ...c }, `acme ${c.stage} failed`));
    this.isUnavailable = opts.isUnavailable ?? (() => false);
    this.maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const onEvent = opts.onEvent;
    this.deps = {
      store: opts.store,
      validators: opts.validators,
      issue: opts.issue,
      getCertificateChain: opts.getCertificateChain,
      findCertificate: opts.findCertificate,
      revokeCertificate: opts.revokeCertificate,
      meta: opts.meta ?? {},
      orderLifetimeMs: opts.orderLifetimeMs ?? 24 * 3600_000,
      processingTimeoutMs: opts.processingTimeoutMs ?? DEFAULT_PROCESSING_TIMEOUT_MS,
      maxOrdersListed: opts.maxOrdersListed ?? 1000,
      issuerChecksCsr: opts.issuerChecksCsr ?? false,
      allowPrivateAddresses: opts.allowPrivateAddresses ?? false,
      now,
      emit: async (e) => {
        if (!onEvent) return;
        try {
          await onEvent(e);
        } catch (err) {
          this.onError(err, { platformId: e.platformId, stage: `onEvent(${e.type})` });
        }
      },
      reportError: (err, stage, platformId) => this.onError(err, { stage, platformId }),
      isUnavailable: this.isUnavailable,
      recentChains: new RecentChains(),
    };
    this.nonces = new NonceService(
      opts.store,
      opts.nonceLifetimeMs ?? 3600_000,
      now,
      (err) => this.onError(err, { stage: "nonce-prune" }),
      60_000,
      opts.nonceKey,
    );
  }

  /** A fresh nonce, for answers made outside handle() (e.g. the platform could not be looked up). */
  replayNonce(): string {
    return this.nonces.issue();
  }

  /** URL builder for a platform (e.g. to put the directory URL into a profile). */
  urls(platform: Pick<AcmePlatform, "baseUrl">): PlatformUrls {
    let u = this.urlCache.get(platform.baseUrl);
    if (!u) {
      u = new PlatformUrls(platform.baseUrl);
      if (this.urlCache.size > 1000) this.urlCache.clear();
      this.urlCache.set(platform.baseUrl, u);
    }
    return u;
  }

  async handle(req: AcmeRequest, platform: AcmePlatform): Promise<AcmeResponse> {
    const urls = this.urls(platform);
    let reply: Reply;
    try {
      reply = await this.dispatch(req, platform, urls);
    } catch (err) {
      if (!(err instanceof AcmeProblem)) this.onError(err, { platformId: platform.id, path: safePath(req.url), stage: "handle" });
      const p = toProblem(err, this.isUnavailable(err));
      reply = { status: p.status, json: p.toJSON(), headers: p.headers };
    }
    return this.finish(reply, req, urls, platform);
  }

  private async finish(reply: Reply, req: AcmeRequest, urls: PlatformUrls, _platform: AcmePlatform): Promise<AcmeResponse> {
    const headers: Record<string, string> = {
      ...reply.headers,
      "Cache-Control": "no-store",
      Link: [reply.headers?.Link, `<${urls.directory}>;rel="index"`].filter(Boolean).join(", "),
    };
    headers["Replay-Nonce"] = this.nonces.issue();
    let body: string | undefined;
    if (reply.raw) {
      headers["Content-Type"] = reply.raw.contentType;
      body = reply.raw.body;
    } else if (reply.json !== undefined) {
      const isProblem = reply.status >= 400;
      headers["Content-Type"] = isProblem ? PROBLEM_CONTENT_TYPE : "application/json";
      body = JSON.stringify(reply.json);
    }
    if (req.method.toUpperCase() === "HEAD" || reply.status === 204) body = undefined;
    return body === undefined ? { status: reply.status, headers } : { status: reply.status, headers, body };
  }

  private directory(platform: AcmePlatform, urls: PlatformUrls) {
    const meta = { ...this.deps.meta, ...platform.meta };
    return {
      newNonce: urls.newNonce,
      newAccount: urls.newAccount,
      newOrder: urls.newOrder,
      revokeCert: urls.revokeCert,
      keyChange: urls.keyChange,
      meta: {
        ...(meta.termsOfService ? { termsOfService: meta.termsOfService } : {}),
        ...(meta.website ? { website: meta.website } : {}),
        ...(meta.caaIdentities?.length ? { caaIdentities: meta.caaIdentities } : {}),
        externalAccountRequired: false,
      },
    };
  }

  private async dispatch(req: AcmeRequest, platform: AcmePlatform, urls: PlatformUrls): Promise<Reply> {
    const route = urls.match(req.url);
    if (!route) throw httpProblem.notFound();
    const method = req.method.toUpperCase();

    if (route.name === "directory") {
      if (method !== "GET" && method !== "HEAD") throw httpProblem.methodNotAllowed(["GET", "HEAD"]);
      return { status: 200, json: this.directory(platform, urls) };
    }
    if (route.name === "newNonce") {
      // RFC 8555 §7.2: HEAD → 200, GET → 204, never cached.
      if (method === "HEAD") return { status: 200 };
      if (method === "GET") return { status: 204 };
      throw httpProblem.methodNotAllowed(["HEAD", "GET"]);
    }
    if (method !== "POST") throw httpProblem.methodNotAllowed(["POST"]);
    const spec = POST_ROUTES[route.name];

    // RFC 8555 §6.2: application/jose+json, a bounded body, a flattened JWS.
    const contentType = (header(req.headers, "content-type") ?? "").split(";")[0].trim().toLowerCase();
    if (contentType !== "application/jose+json") throw httpProblem.unsupportedMediaType();
    if (req.bodyTooLarge || (req.body && req.body.length > this.maxBodyBytes)) throw httpProblem.payloadTooLarge(this.maxBodyBytes);
    if (!req.body || req.body.length === 0) throw problem.malformed("Request body is empty");
    const jws = parseJwsBody(req.body, { requireNonce: true });

    // §6.4: the signed URL must be the URL of this resource as configured.
    if (jws.header.url !== route.canonicalUrl) throw problem.unauthorized('JWS "url" does not match the request URL');

    // §6.5: a nonce is used up only by a request whose signature verifies, so that no one can burn
    // someone else's nonces.
    const nonce = this.nonces.check(jws.header.nonce);
    const target = spec.target && route.id ? { type: spec.target, id: route.id } : undefined;
    const inHandler = spec.nonceInHandler && nonce !== null;
    const { account, jwk, nonceFresh, ...read } = await this.authenticate(jws, spec.keys, platform, urls, inHandler ? null : nonce, target);
    if (!nonceFresh && !inHandler) throw problem.badNonce(BAD_NONCE);
    if (account && account.status !== "valid") throw httpProblem.deactivatedAccount();

    const ctx: RequestContext = { deps: this.deps, platform, urls, route, now: this.deps.now(), jws, account, jwk, ...read, ...(inHandler ? { nonce } : {}) };
    return spec.handler(ctx);
  }

  private async authenticate(jws: ParsedJws, mode: KeyMode, platform: AcmePlatform, urls: PlatformUrls, nonce: UsedNonce | null, target?: TargetRef) {
    if (jws.header.jwk) {
      if (mode === "kid") throw problem.malformed('This resource requires a JWS signed with "kid" (the account URL)');
      await verifyJws(jws, jws.header.jwk);
      return {
        account: null as AccountRecord | null,
        jwk: { key: jws.header.jwk, thumbprint: jwkThumbprint(jws.header.jwk) },
        nonceFresh: nonce ? await this.deps.store.useNonce(nonce.value, nonce.issuedAt) : false,
      };
    }
    if (mode === "jwk") throw problem.malformed('This resource requires a JWS signed with "jwk"');
    const id = urls.accountIdFromKid(jws.header.kid!);
    // The account and the nonce's use in one round trip; the use is taken back if the request fails here.
    const { account, nonceFresh, target: found } = id ? await this.deps.store.getAccountUsingNonce(id, nonce, target) : { account: null, nonceFresh: false };
    try {
      if (!account || account.platformId !== platform.id) throw problem.accountDoesNotExist("No account exists at this kid");
      await verifyJws(jws, account.jwk);
    } catch (e) {
      if (nonceFresh) await this.deps.store.releaseNonce(nonce!.value);
      throw e;
    }
    return { account, jwk: null, nonceFresh, ...(found !== undefined ? { target: found } : {}) };
  }
}

function safePath(url: string): string | undefined {
  try {
    return redactAcmePath(new URL(url).pathname);
  } catch {
    return undefined;
  }
}

export type { RouteMatch };
