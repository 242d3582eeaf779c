// A few DER building blocks (X.690), enough for the simulator's hot path: the attestation leaf and the
// CSR are assembled from them and signed with node:crypto instead of going through a generic ASN.1
// schema library on every enrollment. The output is the same DER @peculiar/x509 produces (see the
// equivalence tests in attestation.test.ts and csr.test.ts).

/** Length octets: short form below 128, else long form with the minimum number of bytes. */
function lengthOctets(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return [0x80 | out.length, ...out];
}

/** One TLV: `tag` (a single identifier octet) around the concatenated `parts`. */
export function tlv(tag: number, ...parts: Uint8Array[]): Buffer {
  let len = 0;
  for (const p of parts) len += p.length;
  const head = lengthOctets(len);
  const out = Buffer.allocUnsafe(1 + head.length + len);
  out[0] = tag;
  for (let i = 0; i < head.length; i++) out[1 + i] = head[i]!;
  let at = 1 + head.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const seq = (...parts: Uint8Array[]) => tlv(0x30, ...parts);
export const set = (...parts: Uint8Array[]) => tlv(0x31, ...parts);
export const octetString = (bytes: Uint8Array) => tlv(0x04, bytes);
export const nullValue = Buffer.from([0x05, 0x00]);
export const booleanTrue = Buffer.from([0x01, 0x01, 0xff]);
/** [n] EXPLICIT / constructed context-specific tag. */
export const explicit = (n: number, ...parts: Uint8Array[]) => tlv(0xa0 | n, ...parts);
/** BIT STRING with no unused bits (signatures, keys). */
export const bitString = (bytes: Uint8Array) => tlv(0x03, Buffer.from([0]), bytes);

const oidCache = new Map<string, Buffer>();
export const OID_RE = /^[0-2](?:\.(?:0|[1-9][0-9]*))+$/;

/** OBJECT IDENTIFIER from dotted text (cached: the simulator uses a few dozen). */
export function oid(dotted: string): Buffer {
  let der = oidCache.get(dotted);
  if (der) return der;
  if (!OID_RE.test(dotted)) throw new RangeError(`not an OID: ${dotted}`);
  const arcs = dotted.split(".").map((a) => BigInt(a));
  const first = arcs[0]! * 40n + arcs[1]!;
  const body: number[] = [];
  for (const arc of [first, ...arcs.slice(2)]) {
    const chunk: number[] = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) chunk.unshift(Number(v & 0x7fn) | 0x80);
    body.push(...chunk);
  }
  der = tlv(0x06, Buffer.from(body));
  if (oidCache.size < 1000) oidCache.set(dotted, der);
  return der;
}

/** INTEGER from unsigned big-endian bytes: leading zeros dropped, one 00 added when the top bit is set. */
export function unsignedInteger(bytes: Uint8Array): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  let body = bytes.subarray(i);
  if (body.length === 0) body = new Uint8Array([0]);
  return body[0]! > 0x7f ? tlv(0x02, Buffer.from([0]), body) : tlv(0x02, body);
}

/** INTEGER for small non-negative numbers. */
export function smallInteger(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) throw new RangeError(`unsupported INTEGER ${n}`);
  const bytes: number[] = [];
  let v = n;
  do {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (v > 0);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return tlv(0x02, Buffer.from(bytes));
}

const two = (n: number) => (n < 10 ? `0${n}` : String(n));

/** X.509 Time: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5), whole seconds. */
export function time(d: Date): Buffer {
  const y = d.getUTCFullYear();
  const rest = `${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}Z`;
  return y > 2049 ? tlv(0x18, Buffer.from(`${String(y).padStart(4, "0")}${rest}`, "latin1")) : tlv(0x17, Buffer.from(`${two(y % 100)}${rest}`, "latin1"));
}

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }. */
export function extension(id: string, critical: boolean, value: Uint8Array): Buffer {
  return critical ? seq(oid(id), booleanTrue, octetString(value)) : seq(oid(id), octetString(value));
}

/**
 * KeyUsage as a named BIT STRING (bit 0 = digitalSignature ... bit 8 = decipherOnly), trailing zero
 * bits removed as DER requires.
 */
export function keyUsageValue(flags: number): Buffer {
  if (flags === 0) return Buffer.from([0x03, 0x01, 0x00]);
  let highest = 0;
  for (let b = 0; b < 9; b++) if (flags & (1 << b)) highest = b;
  const nBytes = (highest >> 3) + 1;
  const bytes = Buffer.alloc(nBytes);
  for (let b = 0; b <= highest; b++) if (flags & (1 << b)) bytes[b >> 3]! |= 0x80 >> (b & 7);
  const unused = nBytes * 8 - (highest + 1);
  return tlv(0x03, Buffer.from([unused]), bytes);
}

/** One TLV read from `buf` at `at`: its tag, where its content starts and where it ends. */
export function readTlv(buf: Uint8Array, at: number): { tag: number; start: number; end: number } {
  const tag = buf[at]!;
  let len = buf[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new RangeError("unsupported DER length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i]!;
    start += n;
  }
  const end = start + len;
  if (end > buf.length) throw new RangeError("truncated DER");
  return { tag, start, end };
}

/** The TBSCertificate and the subject Name of a DER certificate, each as its whole TLV. */
export function certificateParts(der: Uint8Array): { tbs: Buffer; subject: Buffer } {
  const cert = readTlv(der, 0);
  const tbs = readTlv(der, cert.start);
  let at = tbs.start;
  const skip = () => (at = readTlv(der, at).end);
  if (der[at] === 0xa0) skip(); // version
  skip(); // serial number
  skip(); // signature algorithm
  skip(); // issuer
  skip(); // validity
  const subjectStart = at;
  skip();
  return { tbs: Buffer.from(der.subarray(cert.start, tbs.end)), subject: Buffer.from(der.subarray(subjectStart, at)) };
}

// Name attribute types by short name, as @peculiar/x509's Name knows them.
const NAME_TYPES: Record<string, string> = {
  CN: "2.5.4.3",
  L: "2.5.4.7",
  ST: "2.5.4.8",
  O: "2.5.4.10",
  OU: "2.5.4.11",
  C: "2.5.4.6",
  DC: "0.9.2342.19200300.100.1.25",
  E: "1.2.840.113549.1.9.1",
  G: "2.5.4.42",
  I: "2.5.4.43",
  SN: "2.5.4.4",
  T: "2.5.4.12",
};
const IA5_TYPES = new Set([NAME_TYPES.E, NAME_TYPES.DC]);
const PRINTABLE_RE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
const ASCII_RE = /^[\x00-\x7f]*$/;

/**
 * A Name from RDNs of [type, value] pairs (types as short names or OIDs), with @peculiar/x509's choice of
 * string types: IA5String for emailAddress and domainComponent, PrintableString when the value allows
 * it, UTF8String otherwise. Attributes of one RDN are grouped by type in order of first appearance, as
 * its JSON form does. Returns null for what that encoder treats specially (quoted or escaped values,
 * `#hex` DER values, unknown type names, non-ASCII IA5 values): the caller then uses the library.
 */
export function encodeName(rdns: readonly (readonly (readonly [string, string])[])[]): Buffer | null {
  const out: Buffer[] = [];
  for (const rdn of rdns) {
    const byType = new Map<string, string[]>();
    for (const [type, value] of rdn) {
      const list = byType.get(type);
      if (list) list.push(value);
      else byType.set(type, [value]);
    }
    const attrs: Buffer[] = [];
    for (const [type, values] of byType) {
      const id = OID_RE.test(type) ? type : /[\d.]/.test(type) ? null : (Object.hasOwn(NAME_TYPES, type) ? NAME_TYPES[type]! : null);
      if (!id) return null;
      for (const value of values) {
        if (value.startsWith("#") || value.includes('"') || value.includes("\\")) return null;
        let v: Buffer;
        if (IA5_TYPES.has(id)) {
          if (!ASCII_RE.test(value)) return null;
          v = tlv(0x16, Buffer.from(value, "latin1"));
        } else if (PRINTABLE_RE.test(value)) v = tlv(0x13, Buffer.from(value, "latin1"));
        else v = tlv(0x0c, Buffer.from(value, "utf8"));
        attrs.push(seq(oid(id), v));
      }
    }
    out.push(set(...attrs));
  }
  return seq(...out);
}

// SubjectPublicKeyInfo prefixes of uncompressed EC points (id-ecPublicKey, the named curve, BIT STRING).
const EC_SPKI_PREFIX: Record<string, { prefix: Buffer; size: number }> = {
  "P-256": { prefix: Buffer.from("3059301306072a8648ce3d020106082a8648ce3d030107034200", "hex"), size: 32 },
  "P-384": { prefix: Buffer.from("3076301006072a8648ce3d020106052b81040022036200", "hex"), size: 48 },
};

/**
 * The SPKI DER of a P-256 or P-384 public JWK (the same bytes as KeyObject#export({type: "spki"}),
 * which goes through OpenSSL's encoder and costs far more); null for other keys.
 */
export function ecSpkiFromJwk(jwk: { kty?: string; crv?: string; x?: string; y?: string }): Buffer | null {
  const shape = jwk.kty === "EC" && jwk.crv ? EC_SPKI_PREFIX[jwk.crv] : undefined;
  if (!shape || !jwk.x || !jwk.y) return null;
  const x = Buffer.from(jwk.x, "base64url");
  const y = Buffer.from(jwk.y, "base64url");
  if (x.length > shape.size || y.length > shape.size) return null;
  const out = Buffer.alloc(shape.prefix.length + 1 + 2 * shape.size);
  shape.prefix.copy(out, 0);
  out[shape.prefix.length] = 0x04;
  x.copy(out, shape.prefix.length + 1 + shape.size - x.length);
  y.copy(out, out.length - y.length);
  return out;
}
