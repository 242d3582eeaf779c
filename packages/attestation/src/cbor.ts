// Bounded decoding of the device-attest-01 `attObj` (draft-ietf-acme-device-attest: a WebAuthn-style
// CBOR map {fmt, attStmt, authData?}). A structural pre-scan walks the bytes with hard limits before
// cbor-x builds any value, so a declared length larger than the input, deep nesting or huge item counts
// cost a few comparisons, never an allocation.
import { Decoder } from "cbor-x";
import { AttestationError } from "@attested/errors";

export interface CborLimits {
  /** Largest accepted input, in bytes. */
  maxBytes: number;
  /** Deepest nesting of arrays and maps (the top-level map is depth 1). */
  maxDepth: number;
  /** Largest array length or map size. */
  maxCollection: number;
  /** Most data items in the whole input. */
  maxItems: number;
}

export const DEFAULT_CBOR_LIMITS: CborLimits = {
  maxBytes: 64 * 1024,
  maxDepth: 8,
  maxCollection: 64,
  maxItems: 1024,
};

export interface AttestationObject {
  fmt: string;
  attStmt: { x5c: Buffer[] };
  /** WebAuthn authenticator data; Apple may leave it out (docs/protocol.md#the-attestation-object: accept both). */
  authData?: Buffer;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Checks that `bytes` is exactly one well-formed CBOR data item within `limits`. Only the subset a
 * WebAuthn attestation object uses is accepted: definite lengths (CTAP2 canonical CBOR), no tags, and
 * maps without duplicate text keys (an ambiguous map could read differently to different parsers).
 */
export function scanCbor(bytes: Uint8Array, limits: CborLimits = DEFAULT_CBOR_LIMITS): void {
  if (bytes.length > limits.maxBytes) {
    throw new AttestationError("tooLarge", `attObj is ${bytes.length} bytes; the limit is ${limits.maxBytes}`);
  }
  if (bytes.length === 0) throw new AttestationError("malformedCbor", "attObj is empty");
  let pos = 0;
  let items = 0;
  const bad = (what: string): never => {
    throw new AttestationError("malformedCbor", `attObj is not well-formed CBOR: ${what} at byte ${pos}`);
  };

  // Reads the argument of a head; returns it as a number (lengths beyond 2^53 are refused anyway).
  const readArgument = (info: number): number => {
    if (info < 24) return info;
    const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
    if (size === 0) return info === 31 ? bad("indefinite length (not allowed)") : bad("reserved additional information");
    if (pos + size > bytes.length) bad("truncated head");
    let value = 0;
    for (let i = 0; i < size; i++) value = value * 256 + bytes[pos + i]!;
    pos += size;
    return value; // for 8-byte values above 2^53 this is imprecise but only ever compared as "too big"
  };

  // Returns the decoded text of a text string item (used to spot duplicate map keys), else undefined.
  const item = (depth: number): string | undefined => {
    if (++items > limits.maxItems) {
      throw new AttestationError("tooLarge", `attObj has more than ${limits.maxItems} CBOR items`);
    }
    if (pos >= bytes.length) bad("truncated input");
    const initial = bytes[pos++]!;
    const major = initial >> 5;
    const info = initial & 0x1f;
    switch (major) {
      case 0: // unsigned integer
      case 1: // negative integer
        readArgument(info);
        return;
      case 2: // byte string
      case 3: {
        // text string
        const start = pos - 1;
        const len = readArgument(info);
        if (len > bytes.length - pos) {
          pos = start;
          bad(`declared length ${len} exceeds the remaining input`);
        }
        let text: string | undefined;
        if (major === 3) {
          try {
            text = utf8.decode(bytes.subarray(pos, pos + len));
          } catch {
            bad("text string is not UTF-8");
          }
        }
        pos += len;
        return text;
      }
      case 4: // array
      case 5: {
        // map
        const count = readArgument(info);
        if (depth + 1 > limits.maxDepth) {
          throw new AttestationError("tooLarge", `attObj nests deeper than ${limits.maxDepth} levels`);
        }
        if (count > limits.maxCollection) {
          throw new AttestationError("tooLarge", `attObj has a collection of ${count} entries; the limit is ${limits.maxCollection}`);
        }
        const entries = major === 5 ? count * 2 : count;
        if (entries > bytes.length - pos) bad(`declared ${count} entries exceed the remaining input`);
        if (major === 4) {
          for (let i = 0; i < count; i++) item(depth + 1);
          return;
        }
        const keys = new Set<string>();
        for (let i = 0; i < count; i++) {
          const key = item(depth + 1);
          if (key !== undefined) {
            if (keys.has(key)) bad("duplicate map key");
            keys.add(key);
          }
          item(depth + 1);
        }
        return;
      }
      case 6:
        return bad("tags are not allowed");
      default: {
        // major 7: simple values and floats
        if (info === 31) bad("unexpected break");
        if (info >= 28) bad("reserved additional information");
        if (info === 24) {
          if (pos >= bytes.length) bad("truncated simple value");
          if (bytes[pos]! < 32) bad("non-canonical simple value");
          pos += 1;
        } else if (info >= 25) {
          const size = info === 25 ? 2 : info === 26 ? 4 : 8;
          if (pos + size > bytes.length) bad("truncated float");
          pos += size;
        }
        return;
      }
    }
  };

  item(0);
  if (pos !== bytes.length) bad("trailing bytes after the attestation object");
}

// Maps decode to Map (no object prototype games), no record/structure extensions; byte strings are
// copied so the result does not alias the caller's buffer.
const decoder = new Decoder({ mapsAsObjects: false, useRecords: false, copyBuffers: true });

function toBuffer(v: unknown): Buffer | null {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return null;
}

/**
 * Decodes an attestation object within limits. Throws AttestationError: tooLarge, malformedCbor,
 * unsupportedFormat (fmt other than "apple") or missingChain (no x5c certificates).
 */
export function decodeAttestationObject(bytes: Uint8Array, limits: CborLimits = DEFAULT_CBOR_LIMITS): AttestationObject {
  scanCbor(bytes, limits);
  let value: unknown;
  try {
    value = decoder.decode(bytes);
  } catch (e) {
    throw new AttestationError("malformedCbor", `attObj could not be decoded: ${(e as Error).message}`);
  }
  if (!(value instanceof Map)) throw new AttestationError("malformedCbor", "attObj is not a CBOR map");
  const fmt = value.get("fmt");
  if (typeof fmt !== "string") throw new AttestationError("malformedCbor", "attObj.fmt is missing or not a text string");
  if (fmt !== "apple") throw new AttestationError("unsupportedFormat", `attestation format "${fmt.slice(0, 64)}" is not supported (only "apple")`);

  const attStmt = value.get("attStmt");
  if (!(attStmt instanceof Map)) throw new AttestationError("malformedCbor", "attObj.attStmt is missing or not a map");
  const x5c = attStmt.get("x5c");
  if (x5c === undefined) throw new AttestationError("missingChain", "attStmt.x5c is missing");
  if (!Array.isArray(x5c)) throw new AttestationError("malformedCbor", "attStmt.x5c is not an array");
  if (x5c.length === 0) throw new AttestationError("missingChain", "attStmt.x5c is empty");
  const certs = x5c.map((c, i) => {
    const b = toBuffer(c);
    if (!b) throw new AttestationError("malformedCbor", `attStmt.x5c[${i}] is not a byte string`);
    return b;
  });

  const out: AttestationObject = { fmt, attStmt: { x5c: certs } };
  const authData = value.get("authData");
  if (authData !== undefined) {
    const b = toBuffer(authData);
    if (!b) throw new AttestationError("malformedCbor", "attObj.authData is not a byte string");
    out.authData = b;
  }
  return out;
}
