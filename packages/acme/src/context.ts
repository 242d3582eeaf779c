import type { z } from "zod";
import type { ParsedJws } from "./jws";
import { problem } from "./problems";
import type { AcmeStore, Target, UsedNonce } from "./store";
import type {
  AccountRecord,
  AcmeEvent,
  AcmePlatform,
  CertificateChainHook,
  DirectoryMetaOptions,
  FindCertificateHook,
  IssueHook,
  PublicJwk,
  RevokeCertificateHook,
  Validators,
} from "./types";
import type { PlatformUrls, RouteMatch } from "./urls";

/** What the resource handlers need from the server (internal). */
export interface ServerDeps {
  store: AcmeStore;
  validators: Validators;
  issue: IssueHook;
  getCertificateChain: CertificateChainHook;
  findCertificate: FindCertificateHook;
  revokeCertificate: RevokeCertificateHook;
  meta: DirectoryMetaOptions;
  orderLifetimeMs: number;
  processingTimeoutMs: number;
  maxOrdersListed: number;
  /** See AcmeServerOptions.issuerChecksCsr. */
  issuerChecksCsr: boolean;
  /** See AcmeServerOptions.allowPrivateAddresses. */
  allowPrivateAddresses: boolean;
  now(): Date;
  emit(e: AcmeEvent): Promise<void>;
  /** Chains this process just issued, by certificate id: the download that follows finalize reads no database. */
  recentChains: RecentChains;
  reportError(err: unknown, stage: string, platformId?: string): void;
  /** See AcmeServerOptions.isUnavailable. */
  isUnavailable(err: unknown): boolean;
}

/**
 * The last chains issued here (a certificate never changes once issued, so nothing goes stale), kept a
 * few minutes: a device downloads its certificate right after finalize, usually over the same connection.
 */
export class RecentChains {
  private readonly chains = new Map<string, { pem: string; at: number }>();
  constructor(
    private readonly max = 2000,
    private readonly ttlMs = 5 * 60_000,
  ) {}

  set(certificateId: string, pem: string, now: number): void {
    if (this.chains.size >= this.max) this.chains.delete(this.chains.keys().next().value!);
    this.chains.set(certificateId, { pem, at: now });
  }

  get(certificateId: string, now: number): string | null {
    const c = this.chains.get(certificateId);
    if (!c) return null;
    if (now - c.at > this.ttlMs) {
      this.chains.delete(certificateId);
      return null;
    }
    return c.pem;
  }
}

/** One authenticated POST request (RFC 8555 §6.2), after signature and nonce checks. */
export interface RequestContext {
  deps: ServerDeps;
  platform: AcmePlatform;
  urls: PlatformUrls;
  route: RouteMatch;
  now: Date;
  jws: ParsedJws;
  /** The signing account (kid requests). */
  account: AccountRecord | null;
  /** The embedded key and its thumbprint (jwk requests). */
  jwk: { key: PublicJwk; thumbprint: string } | null;
  /** The resource the URL names, read with the account (routes that name one); null if it does not exist. */
  target?: Target | null;
  /** The request's nonce, not yet recorded as used: on routes whose handler records it with its change. */
  nonce?: UsedNonce;
}

export const BAD_NONCE = "JWS has an invalid or already used nonce";

/** Records the use of ctx.nonce (left to the handler); badNonce when it was used already. */
export async function useRequestNonce(ctx: RequestContext): Promise<void> {
  if (ctx.nonce && !(await ctx.deps.store.useNonce(ctx.nonce.value, ctx.nonce.issuedAt))) throw problem.badNonce(BAD_NONCE);
}

export interface Reply {
  status: number;
  json?: unknown;
  /** Raw body with its content type (certificate download). */
  raw?: { body: string; contentType: string };
  headers?: Record<string, string>;
}

export function requireAccount(ctx: RequestContext): AccountRecord {
  if (!ctx.account) throw problem.malformed('This resource requires a JWS signed with "kid"');
  return ctx.account;
}

/** The resource the URL names, as read with the account; 404 when there is none. */
export function requireTarget<T extends Target["type"]>(ctx: RequestContext, type: T, what: string): Extract<Target, { type: T }> {
  if (ctx.target === undefined || (ctx.target && ctx.target.type !== type)) throw new Error(`route ${ctx.route.name} has no ${type} target`);
  if (!ctx.target) throw problem.malformed(`${what} not found`, { status: 404 });
  return ctx.target as Extract<Target, { type: T }>;
}

/** RFC 8555 §6.3: POST-as-GET has an empty payload. */
export function requirePostAsGet(ctx: RequestContext): void {
  if (ctx.jws.payload !== null) throw problem.malformed("POST-as-GET requests must have an empty payload");
}

/** Validates a JSON payload; unknown fields are ignored as RFC 8555 asks. */
export function parsePayload<T extends z.ZodType>(ctx: RequestContext, schema: T): z.infer<T> {
  if (ctx.jws.payload === null) throw problem.malformed("This request needs a JSON payload");
  const r = schema.safeParse(ctx.jws.payload);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue.path.length ? `${issue.path.join(".")}: ` : "";
    throw problem.malformed(`Invalid payload: ${where}${issue.message}`);
  }
  return r.data;
}
