import "reflect-metadata";
import { exportJWK, FlattenedSign, generateKeyPair, type JWK } from "jose";
import type { AcmeResponse, AcmeServer } from "../server";
import type { AcmePlatform } from "../types";

// A small ACME client (jose-based) that talks to AcmeServer.handle directly, for tests only.

export type Alg = "ES256" | "ES384" | "RS256" | "EdDSA";

export interface ClientKey {
  alg: Alg;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

export async function generateClientKey(alg: Alg = "ES256"): Promise<ClientKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === "RS256" ? { modulusLength: 2048 } : {}) });
  const jwk = await exportJWK(publicKey);
  return { alg, privateKey, publicKey, jwk };
}

export interface Reply {
  status: number;
  headers: Record<string, string>;
  text: string;
  json: any;
}

export function toReply(r: AcmeResponse): Reply {
  const text = r.body === undefined ? "" : typeof r.body === "string" ? r.body : Buffer.from(r.body).toString("utf8");
  let json: unknown;
  if (/json/.test(r.headers["Content-Type"] ?? "") && text) json = JSON.parse(text);
  return { status: r.status, headers: r.headers, text, json };
}

export interface SignOptions {
  key?: ClientKey;
  /** Sign with the embedded jwk instead of kid. */
  useJwk?: boolean;
  nonce?: string | null;
  url?: string;
  kid?: string;
  extraHeader?: Record<string, unknown>;
}

export async function signJws(
  payload: unknown | "",
  header: Record<string, unknown>,
  key: ClientKey,
): Promise<{ protected: string; payload: string; signature: string }> {
  const bytes = payload === "" ? new Uint8Array() : new TextEncoder().encode(JSON.stringify(payload));
  const jws = await new FlattenedSign(bytes).setProtectedHeader({ alg: key.alg, ...header }).sign(key.privateKey);
  return { protected: jws.protected!, payload: jws.payload, signature: jws.signature };
}

export class TestClient {
  kid: string | null = null;
  private nonce: string | null = null;
  directoryJson: Record<string, any> | null = null;

  constructor(
    readonly server: AcmeServer,
    readonly platform: AcmePlatform,
    public key: ClientKey,
  ) {}

  static async create(server: AcmeServer, platform: AcmePlatform, alg: Alg = "ES256") {
    return new TestClient(server, platform, await generateClientKey(alg));
  }

  get base() {
    return this.platform.baseUrl;
  }

  async raw(method: string, url: string, init: { headers?: Record<string, string>; body?: Uint8Array | null } = {}) {
    const res = await this.server.handle({ method, url, headers: new Headers(init.headers ?? {}), body: init.body ?? null }, this.platform);
    const reply = toReply(res);
    if (reply.headers["Replay-Nonce"]) this.nonce = reply.headers["Replay-Nonce"];
    return reply;
  }

  async directory() {
    const r = await this.raw("GET", `${this.base}/directory`);
    this.directoryJson = r.json;
    return r;
  }

  /** A new nonce for explicit use (not cached for the next request). */
  async freshNonce(): Promise<string> {
    const r = await this.server.handle({ method: "HEAD", url: `${this.base}/new-nonce`, headers: {}, body: null }, this.platform);
    return r.headers["Replay-Nonce"];
  }

  async takeNonce(): Promise<string> {
    const n = this.nonce ?? (await this.freshNonce());
    this.nonce = null;
    return n;
  }

  async jws(url: string, payload: unknown | "", opts: SignOptions = {}) {
    const key = opts.key ?? this.key;
    const header: Record<string, unknown> = { url: opts.url ?? url, ...opts.extraHeader };
    const nonce = opts.nonce === undefined ? await this.takeNonce() : opts.nonce;
    if (nonce !== null) header.nonce = nonce;
    if (opts.useJwk || !(opts.kid ?? this.kid)) header.jwk = key.jwk;
    else header.kid = opts.kid ?? this.kid;
    return signJws(payload, header, key);
  }

  async post(url: string, payload: unknown | "", opts: SignOptions = {}): Promise<Reply> {
    const body = new TextEncoder().encode(JSON.stringify(await this.jws(url, payload, opts)));
    return this.raw("POST", url, { headers: { "Content-Type": "application/jose+json" }, body });
  }

  async newAccount(payload: Record<string, unknown> = { termsOfServiceAgreed: true }) {
    const r = await this.post(`${this.base}/new-account`, payload, { useJwk: true });
    if (r.status === 201 || r.status === 200) this.kid = r.headers.Location;
    return r;
  }

  async newOrder(identifiers: { type: string; value: string }[], extra: Record<string, unknown> = {}) {
    return this.post(`${this.base}/new-order`, { identifiers, ...extra });
  }

  postAsGet(url: string) {
    return this.post(url, "");
  }
}
