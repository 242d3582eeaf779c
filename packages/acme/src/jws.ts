import { createHash, createPublicKey, verify, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import { decodeBase64url, isPlainObject, parseJsonBytes } from "./encoding";
import { AcmeProblem, problem } from "./problems";
import type { PublicJwk } from "./types";

// JWS handling per RFC 8555 §6.2: flattened JSON serialization only, everything in the protected
// header, exactly one of jwk/kid, an asymmetric algorithm.

export const SUPPORTED_ALGORITHMS = ["ES256", "ES384", "RS256", "EdDSA"] as const;
export type SupportedAlgorithm = (typeof SUPPORTED_ALGORITHMS)[number];

const ALLOWED_TOP_LEVEL = new Set(["protected", "payload", "signature"]);
const ALLOWED_HEADER = new Set(["alg", "nonce", "url", "jwk", "kid"]);
const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 8192;

export interface ProtectedHeader {
  alg: SupportedAlgorithm;
  nonce?: string;
  url: string;
  jwk?: PublicJwk;
  kid?: string;
}

/** A syntactically valid JWS whose signature is not checked yet. */
export interface ParsedJws {
  header: ProtectedHeader;
  /** Decoded payload; null for POST-as-GET (empty payload, RFC 8555 §6.3). */
  payload: Record<string, unknown> | null;
  /** The three base64url members, for signature verification. */
  serialized: { protected: string; payload: string; signature: string };
}

const badAlg = (detail: string) => new AcmeProblem("badSignatureAlgorithm", detail, { extra: { algorithms: [...SUPPORTED_ALGORITHMS] } });

function decodeJsonMember(value: string, what: string): unknown {
  const bytes = decodeBase64url(value);
  if (!bytes) throw problem.malformed(`JWS ${what} is not valid base64url`);
  const parsed = parseJsonBytes(bytes);
  if (!parsed) throw problem.malformed(`JWS ${what} is not valid JSON`);
  return parsed.value;
}

/** Parses the request body (bytes) as a flattened JWS. */
export function parseJwsBody(body: Uint8Array, opts: { requireNonce: boolean }): ParsedJws {
  const parsed = parseJsonBytes(body);
  if (!parsed) throw problem.malformed("Request body is not valid JSON");
  return parseJwsObject(parsed.value, opts);
}

/** Parses a flattened JWS given as a JSON value (the body, or keyChange's inner JWS). */
export function parseJwsObject(value: unknown, opts: { requireNonce: boolean }): ParsedJws {
  if (!isPlainObject(value)) throw problem.malformed("JWS must be a JSON object (flattened serialization)");
  if ("signatures" in value) throw problem.malformed("JWS general serialization is not supported; use flattened");
  if ("header" in value) throw problem.malformed("JWS unprotected header is not allowed (RFC 8555 §6.2)");
  for (const k of Object.keys(value)) {
    if (!ALLOWED_TOP_LEVEL.has(k)) throw problem.malformed(`Unexpected JWS member "${k}"`);
  }
  const { protected: prot, payload, signature } = value;
  if (typeof prot !== "string" || prot === "") throw problem.malformed("JWS protected header is missing");
  if (typeof payload !== "string") throw problem.malformed("JWS payload is missing");
  if (typeof signature !== "string" || signature === "") throw problem.malformed("JWS signature is missing");
  if (!decodeBase64url(signature)) throw problem.malformed("JWS signature is not valid base64url");

  const header = parseHeader(decodeJsonMember(prot, "protected header"), opts);

  let body: Record<string, unknown> | null = null;
  if (payload !== "") {
    const p = decodeJsonMember(payload, "payload");
    if (!isPlainObject(p)) throw problem.malformed("JWS payload must be a JSON object");
    body = p;
  }
  return { header, payload: body, serialized: { protected: prot, payload, signature } };
}

function parseHeader(h: unknown, opts: { requireNonce: boolean }): ProtectedHeader {
  if (!isPlainObject(h)) throw problem.malformed("JWS protected header must be a JSON object");
  const alg = h.alg;
  if (typeof alg !== "string") throw problem.malformed('JWS protected header has no "alg"');
  if (!(SUPPORTED_ALGORITHMS as readonly string[]).includes(alg)) {
    throw badAlg(`Unsupported JWS algorithm "${alg}"`);
  }
  for (const k of Object.keys(h)) {
    if (!ALLOWED_HEADER.has(k)) throw problem.malformed(`Unsupported JWS protected header field "${k}"`);
  }
  if (typeof h.url !== "string" || h.url === "") throw problem.malformed('JWS protected header has no "url"');
  if (h.nonce !== undefined && typeof h.nonce !== "string") throw problem.badNonce('JWS "nonce" must be a string');
  if (opts.requireNonce && h.nonce === undefined) throw problem.badNonce('JWS protected header has no "nonce"');
  const hasJwk = h.jwk !== undefined;
  const hasKid = h.kid !== undefined;
  if (hasJwk === hasKid) throw problem.malformed('JWS protected header must have exactly one of "jwk" and "kid"');
  if (hasKid && (typeof h.kid !== "string" || h.kid === "")) throw problem.malformed('JWS "kid" must be a string');
  const header: ProtectedHeader = { alg: alg as SupportedAlgorithm, url: h.url };
  if (typeof h.nonce === "string") header.nonce = h.nonce;
  if (hasKid) header.kid = h.kid as string;
  if (hasJwk) header.jwk = publicJwk(h.jwk, header.alg);
  return header;
}

/**
 * Checks that a JWK is a public key fit for `alg` and returns just its public members (the ones the
 * RFC 7638 thumbprint covers), which is what gets stored.
 */
export function publicJwk(jwk: unknown, alg: SupportedAlgorithm): PublicJwk {
  if (!isPlainObject(jwk)) throw problem.malformed('JWS "jwk" must be a JSON object');
  for (const m of PRIVATE_JWK_MEMBERS) {
    if (m in jwk) throw problem.malformed('JWS "jwk" must be a public key');
  }
  const str = (name: string): string => {
    const v = jwk[name];
    if (typeof v !== "string" || !decodeBase64url(v)) throw problem.badPublicKey(`JWK member "${name}" is missing or invalid`);
    return v;
  };
  switch (jwk.kty) {
    case "EC": {
      const crv = jwk.crv;
      const want = alg === "ES256" ? "P-256" : alg === "ES384" ? "P-384" : null;
      if (!want) throw badAlg(`Algorithm ${alg} does not match an EC key`);
      if (crv !== want) throw badAlg(`Algorithm ${alg} requires curve ${want}`);
      return { kty: "EC", crv: want, x: str("x"), y: str("y") };
    }
    case "RSA": {
      if (alg !== "RS256") throw badAlg(`Algorithm ${alg} does not match an RSA key`);
      const n = str("n");
      const e = str("e");
      const nBytes = decodeBase64url(n)!;
      const bits = nBytes.length * 8 - Math.clz32(nBytes[0] ?? 0) + 24;
      if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
        throw problem.badPublicKey(`RSA key size must be between ${MIN_RSA_BITS} and ${MAX_RSA_BITS} bits`);
      }
      return { kty: "RSA", n, e };
    }
    case "OKP": {
      if (alg !== "EdDSA") throw badAlg(`Algorithm ${alg} does not match an OKP key`);
      if (jwk.crv !== "Ed25519") throw problem.badPublicKey("Only Ed25519 OKP keys are supported");
      return { kty: "OKP", crv: "Ed25519", x: str("x") };
    }
    default:
      throw problem.badPublicKey("Unsupported JWK key type");
  }
}

/**
 * RFC 7638 SHA-256 thumbprint: the required members in lexicographic order, no whitespace. Synchronous
 * (a WebCrypto digest costs a thread-pool round trip per new account).
 */
export function jwkThumbprint(jwk: PublicJwk): string {
  const members =
    jwk.kty === "EC"
      ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
      : jwk.kty === "RSA"
        ? { e: jwk.e, kty: jwk.kty, n: jwk.n }
        : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return createHash("sha256").update(JSON.stringify(members)).digest("base64url");
}

// node:crypto names of the hashes of each JWS algorithm (EdDSA hashes internally).
const HASH: Record<SupportedAlgorithm, string | null> = { ES256: "sha256", ES384: "sha384", RS256: "sha256", EdDSA: null };

/**
 * Verifies the JWS signature with `jwk` (the embedded key, or the account key for kid). The key is
 * checked against the header's algorithm first, so an account key cannot be used with another alg.
 * node:crypto: the header has been restricted to alg/nonce/url/jwk/kid by parseJwsObject, so all that
 * is left of JWS verification (RFC 7515 §5.2) is the signature over "protected.payload". The check runs
 * on the libuv thread pool, leaving the event loop to other requests.
 */
export async function verifyJws(jws: ParsedJws, jwk: PublicJwk): Promise<void> {
  const alg = jws.header.alg;
  const checked = publicJwk(jwk, alg);
  let key: KeyObject;
  try {
    key = keyObjectCached(checked);
  } catch {
    throw problem.badPublicKey("JWK could not be imported");
  }
  const data = Buffer.from(`${jws.serialized.protected}.${jws.serialized.payload}`, "ascii");
  const signature = decodeBase64url(jws.serialized.signature)!;
  let ok = false;
  try {
    // JWS ECDSA signatures are r||s (RFC 7518 §3.4), not DER.
    ok = await verifyOffLoop(HASH[alg], data, alg.startsWith("ES") ? { key, dsaEncoding: "ieee-p1363" } : key, signature);
  } catch {
    ok = false;
  }
  if (!ok) throw problem.malformed("JWS signature is invalid");
}

const verifyOffLoop = promisify(verify);

// Imported public keys by their public JWK members. An account signs ~8 requests per enrollment and
// importing is a good part of a verification; the mapping is a pure function of the key, so the cache
// is correct whatever other instances do (a key change is a different JWK, hence another entry).
const KEY_CACHE_MAX = 2000;
const keyCache = new Map<string, KeyObject>();

function keyObjectCached(jwk: PublicJwk): KeyObject {
  const id = JSON.stringify(jwk);
  let key = keyCache.get(id);
  if (key) {
    // Most recently used last: Map keeps insertion order, so the first entry is the oldest.
    keyCache.delete(id);
    keyCache.set(id, key);
    return key;
  }
  key = createPublicKey({ key: { ...jwk }, format: "jwk" });
  if (keyCache.size >= KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value!);
  keyCache.set(id, key);
  return key;
}
