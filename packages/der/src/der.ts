// A minimal, strict DER reader and writer for the hot paths (attestation and CSR checks, certificate
// issuance, the device simulator's certificates). The reader works in place and throws DerError on
// anything that is not plain DER: indefinite or non-minimal lengths, high tag numbers, non-minimal OIDs,
// lengths past the enclosing element. Callers fall back to the full ASN.1 parsers (asn1js / @peculiar)
// when it throws, so anything unusual is treated exactly as before.

export class DerError extends Error {
  override readonly name = "DerError";
}

/** One DER element: its tag byte and where its header and contents are. */
export interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first contents byte. */
  body: number;
  /** Offset just past the contents. */
  end: number;
}

/** Reads the element at `pos`, which must end at or before `limit`. */
export function readTlv(buf: Uint8Array, pos: number, limit: number = buf.length): Tlv {
  if (pos + 2 > limit) throw new DerError("truncated element");
  const tag = buf[pos]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError("high tag number");
  let len = buf[pos + 1]!;
  let body = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new DerError("indefinite length");
    if (n > 4) throw new DerError("length too long");
    if (body + n > limit) throw new DerError("truncated length");
    if (buf[body] === 0) throw new DerError("non-minimal length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[body + i]!;
    if (len < 0x80) throw new DerError("non-minimal length");
    body += n;
  }
  const end = body + len;
  if (end > limit) throw new DerError("length exceeds the enclosing element");
  return { tag, start: pos, body, end };
}

/** Reads an element at `pos` and checks its tag. */
export function expectTlv(buf: Uint8Array, pos: number, limit: number, tag: number, what: string): Tlv {
  const t = readTlv(buf, pos, limit);
  if (t.tag !== tag) throw new DerError(`${what}: unexpected tag 0x${t.tag.toString(16)}`);
  return t;
}

/** The elements inside a constructed element, which must fill it exactly. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  if (!(parent.tag & 0x20)) throw new DerError("not a constructed element");
  const out: Tlv[] = [];
  let pos = parent.body;
  while (pos < parent.end) {
    const t = readTlv(buf, pos, parent.end);
    out.push(t);
    pos = t.end;
  }
  return out;
}

/** Dotted text of an OBJECT IDENTIFIER element (tag 0x06), refusing non-minimal encodings. */
export function readOid(buf: Uint8Array, t: Tlv): string {
  if (t.tag !== 0x06) throw new DerError("not an OBJECT IDENTIFIER");
  if (t.end === t.body) throw new DerError("empty OBJECT IDENTIFIER");
  const parts: number[] = [];
  let value = 0;
  let fresh = true;
  for (let i = t.body; i < t.end; i++) {
    const b = buf[i]!;
    if (fresh && b === 0x80) throw new DerError("non-minimal OBJECT IDENTIFIER");
    if (value > 0x1fffffffffff) throw new DerError("OBJECT IDENTIFIER arc too large");
    value = value * 128 + (b & 0x7f);
    fresh = !(b & 0x80);
    if (fresh) {
      parts.push(value);
      value = 0;
    }
  }
  if (!fresh) throw new DerError("truncated OBJECT IDENTIFIER");
  const first = parts[0]!;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...parts.slice(1)].join(".");
}

const digits = (buf: Uint8Array, from: number, n: number): number => {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const c = buf[i]! - 0x30;
    if (c < 0 || c > 9) throw new DerError("time is not digits");
    v = v * 10 + c;
  }
  return v;
};

/**
 * A DER time (RFC 5280 §4.1.2.5): UTCTime YYMMDDHHMMSSZ (YY < 50 is 20YY) or GeneralizedTime
 * YYYYMMDDHHMMSSZ. Other forms (fractions, offsets) are refused.
 */
export function readTime(buf: Uint8Array, t: Tlv): Date {
  const len = t.end - t.body;
  let year: number;
  let p: number;
  if (t.tag === 0x17 && len === 13) {
    const yy = digits(buf, t.body, 2);
    year = yy < 50 ? 2000 + yy : 1900 + yy;
    p = t.body + 2;
  } else if (t.tag === 0x18 && len === 15) {
    year = digits(buf, t.body, 4);
    p = t.body + 4;
  } else throw new DerError("not a DER time");
  if (buf[t.end - 1] !== 0x5a) throw new DerError("time is not in UTC (Z)");
  const month = digits(buf, p, 2);
  const day = digits(buf, p + 2, 2);
  const hour = digits(buf, p + 4, 2);
  const minute = digits(buf, p + 6, 2);
  const second = digits(buf, p + 8, 2);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) throw new DerError("time out of range");
  const d = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (year < 100) d.setUTCFullYear(year);
  if (d.getUTCDate() !== day) throw new DerError("no such day");
  return d;
}

// ---- writer ----

/** The DER header (tag and length) of an element with `len` contents bytes. */
function header(tag: number, len: number): Buffer {
  if (len < 0x80) return Buffer.from([tag, len]);
  const bytes: number[] = [];
  for (let l = len; l > 0; l = Math.floor(l / 256)) bytes.unshift(l & 0xff);
  return Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
}

/** One element: `tag` around the concatenated `parts`. */
export function tlv(tag: number, ...parts: Uint8Array[]): Buffer {
  let len = 0;
  for (const p of parts) len += p.length;
  const h = header(tag, len);
  return Buffer.concat([h, ...parts], h.length + len);
}

export const sequence = (...parts: Uint8Array[]): Buffer => tlv(0x30, ...parts);

const oidCache = new Map<string, Buffer>();
/** An OBJECT IDENTIFIER element from dotted text. */
export function oid(dotted: string): Buffer {
  let hit = oidCache.get(dotted);
  if (hit) return hit;
  const arcs = dotted.split(".").map(Number);
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0) || arcs[0]! > 2 || (arcs[0]! < 2 && arcs[1]! > 39)) {
    throw new TypeError(`not an OID: ${dotted}`);
  }
  const out: number[] = [];
  for (const arc of [arcs[0]! * 40 + arcs[1]!, ...arcs.slice(2)]) {
    const sub: number[] = [arc % 128];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) sub.unshift((v % 128) | 0x80);
    out.push(...sub);
  }
  hit = tlv(0x06, Buffer.from(out));
  if (oidCache.size < 1024) oidCache.set(dotted, hit);
  return hit;
}

/** A non-negative INTEGER from big-endian magnitude bytes (minimal, with a 00 when the top bit is set). */
export function unsignedInteger(magnitude: Uint8Array): Buffer {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const m = magnitude.subarray(i);
  return m.length === 0 ? Buffer.from([0x02, 0x01, 0x00]) : m[0]! & 0x80 ? tlv(0x02, Buffer.from([0]), m) : tlv(0x02, m);
}

export const octetString = (b: Uint8Array): Buffer => tlv(0x04, b);
export const bitString = (b: Uint8Array, unusedBits = 0): Buffer => tlv(0x03, Buffer.from([unusedBits]), b);
export const BOOLEAN_TRUE = Buffer.from([0x01, 0x01, 0xff]);
export const NULL = Buffer.from([0x05, 0x00]);

const pad = (n: number, w: number) => String(n).padStart(w, "0");
/** X.509 Time as @peculiar/asn1-x509 writes it: UTCTime through 2049, GeneralizedTime after. */
export function time(date: Date): Buffer {
  const d = new Date(date);
  d.setUTCMilliseconds(0);
  const y = d.getUTCFullYear();
  const rest = `${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}`;
  return y > 2049 ? tlv(0x18, Buffer.from(`${pad(y, 4)}${rest}Z`, "latin1")) : tlv(0x17, Buffer.from(`${pad(y % 100, 2)}${rest}Z`, "latin1"));
}

/** A string's code units' low bytes, as asn1js encodes PrintableString and IA5String. */
export const latin1 = (s: string): Buffer => Buffer.from(s, "latin1");

/** UTF-8 as asn1js encodes UTF8String (through encodeURIComponent, which refuses lone surrogates: so does this). */
export function utf8(s: string): Buffer {
  if (/[\uD800-\uDFFF]/.test(s)) encodeURIComponent(s); // throws URIError on a lone surrogate, as asn1js did
  return Buffer.from(s, "utf8");
}
