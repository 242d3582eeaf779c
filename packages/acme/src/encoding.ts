import { createHash, randomBytes } from "node:crypto";

const B64URL = /^[A-Za-z0-9_-]*$/;

/** Strict base64url without padding (RFC 8555 §6.1 / RFC 7515 §2); null when invalid. */
export function decodeBase64url(s: string): Buffer | null {
  if (!B64URL.test(s) || s.length % 4 === 1) return null;
  const buf = Buffer.from(s, "base64url");
  // Reject non-canonical encodings (stray bits in the last character).
  return buf.toString("base64url") === s ? buf : null;
}

export function encodeBase64url(b: Uint8Array): string {
  return Buffer.from(b).toString("base64url");
}

/** `bytes` random bytes as base64url (tokens, nonces). */
export function randomToken(bytes: number): string {
  return randomBytes(bytes).toString("base64url");
}

export function sha256(data: string | Uint8Array): Buffer {
  return createHash("sha256").update(data).digest();
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Strict UTF-8 then JSON; null when either fails. */
export function parseJsonBytes(bytes: Uint8Array): { value: unknown } | null {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return null;
  }
  try {
    return { value: JSON.parse(text) };
  } catch {
    return null;
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
