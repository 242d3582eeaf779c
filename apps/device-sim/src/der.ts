// The simulator's DER building blocks beyond @attested/der's (X.690): the attestation leaf and the CSR
// are assembled from them and signed with node:crypto instead of going through a generic ASN.1 schema
// library on every enrollment. The output is the same DER @peculiar/x509 produces (see the equivalence
// tests in attestation.test.ts and csr.test.ts).
import { BOOLEAN_TRUE, bitString, NULL, octetString, oid, readTlv, sequence, time, tlv, unsignedInteger } from "@attested/der";

export { bitString, oid, readTlv, time, tlv, unsignedInteger };
export const seq = sequence;
export const nullValue = NULL;
export const set = (...parts: Uint8Array[]) => tlv(0x31, ...parts);
/** [n] EXPLICIT / constructed context-specific tag. */
export const explicit = (n: number, ...parts: Uint8Array[]) => tlv(0xa0 | n, ...parts);
export const OID_RE = /^[0-2](?:\.(?:0|[1-9][0-9]*))+$/;

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

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }. */
export function extension(id: string, critical: boolean, value: Uint8Array): Buffer {
  return critical ? seq(oid(id), BOOLEAN_TRUE, octetString(value)) : seq(oid(id), octetString(value));
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

/** The TBSCertificate and the subject Name of a DER certificate, each as its whole TLV. */
export function certificateParts(der: Uint8Array): { tbs: Buffer; subject: Buffer } {
  const cert = readTlv(der, 0);
  const tbs = readTlv(der, cert.body);
  let at = tbs.body;
  const skip = () => (at = readTlv(der, at).end);
  if (der[at] === 0xa0) skip(); // version
  skip(); // serial number
  skip(); // signature algorithm
  skip(); // issuer
  skip(); // validity
  const subjectStart = at;
  skip();
  return { tbs: Buffer.from(der.subarray(tbs.start, tbs.end)), subject: Buffer.from(der.subarray(subjectStart, at)) };
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
      const id = OID_RE.test(type) ? type : /[\d.]/.test(type) ? null : Object.hasOwn(NAME_TYPES, type) ? NAME_TYPES[type]! : null;
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
