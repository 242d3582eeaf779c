import { AsnConvert } from "@peculiar/asn1-schema";
import { SubjectPublicKeyInfo } from "@peculiar/asn1-x509";
import * as asn1js from "asn1js";
import { createPublicKey, verify, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import { DerError, children, expectTlv, readOid, readTlv, type Tlv } from "@attested/der";
import { attributeFromOid, attributeKeys, formatDn, fromX509Name, type DnAttribute } from "./dn";
import { bytes, toBuffer, type Binary } from "./encoding";
import { crypto, x509 } from "./provider";
import { UPN_OID, parseSans, type CsrSans } from "./san";
import type { TemplateContext } from "./template";
import { PkiError } from "@attested/errors";

const MAX_CSR_BYTES = 64 * 1024;
const RSA_OID = "1.2.840.113549.1.1.1";
const EC_OID = "1.2.840.10045.2.1";
const NAMED_CURVES: Record<string, "P-256" | "P-384" | "P-521"> = {
  "1.2.840.10045.3.1.7": "P-256",
  "1.3.132.0.34": "P-384",
  "1.3.132.0.35": "P-521",
};
export const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 8192;

export interface PublicKeyInfo {
  /** "RSA 2048", "EC P-256", ... for events and the certificate detail page. */
  description: string;
  type: "RSA" | "EC";
  /** DER SubjectPublicKeyInfo, as it will appear in the certificate. */
  spki: Buffer;
}

/**
 * Accepts RSA keys of 2048 to 8192 bits with an odd exponent ≥ 3 and EC keys on P-256, P-384, P-521
 * (importing the point checks it lies on the curve). Anything else is a `badPublicKey`.
 */
export async function checkPublicKey(spkiDer: Binary): Promise<PublicKeyInfo> {
  return (await inspectPublicKey(toBuffer(spkiDer))).info;
}

interface InspectedKey {
  info: PublicKeyInfo;
  /** The imported key, when node:crypto imported it (the fast path): reused to check the CSR signature. */
  key?: KeyObject;
}

/** The parts of a strict-DER SubjectPublicKeyInfo whose re-encoding is byte-identical (else undefined). */
function readSpki(spki: Buffer): { oid: string; params?: Tlv } | undefined {
  try {
    const outer = expectTlv(spki, 0, spki.length, 0x30, "SubjectPublicKeyInfo");
    if (outer.end !== spki.length) return undefined;
    const [alg, bits, ...rest] = children(spki, outer);
    if (!alg || !bits || rest.length || alg.tag !== 0x30 || bits.tag !== 0x03) return undefined;
    if (bits.end - bits.body < 1 || spki[bits.body] !== 0) return undefined; // unused bits must be 0
    const [id, params, ...more] = children(spki, alg);
    if (!id || more.length) return undefined;
    // Parameters: none, NULL or a named curve (anything else, e.g. explicit curve parameters, is left to asn1-schema)
    if (params && !(params.tag === 0x05 && params.end === params.body) && params.tag !== 0x06) return undefined;
    if (params?.tag === 0x06) readOid(spki, params);
    return { oid: readOid(spki, id), params };
  } catch (e) {
    if (e instanceof DerError) return undefined;
    throw e;
  }
}

/** True when `spki` is a SubjectPublicKeyInfo in strict DER, which asn1-schema re-encodes to the same bytes. */
export const isStrictSpki = (spki: Buffer): boolean => readSpki(spki) !== undefined;

const NODE_CURVES = { "P-256": "prime256v1", "P-384": "secp384r1", "P-521": "secp521r1" } as const;

/**
 * checkPublicKey, importing the key with node:crypto as WebCrypto's importKey does internally
 * (createPublicKey, then the key type and curve checks), without its per-call overhead. Keys the
 * strict DER reader does not take go through the original WebCrypto path.
 */
async function inspectPublicKey(spki: Buffer): Promise<InspectedKey> {
  const parts = readSpki(spki);
  if (!parts) return { info: await checkPublicKeyWebCrypto(spki) };
  // Strict DER: asn1-schema's parse-and-serialize (the old normalization) gives these very bytes.
  const der = Buffer.from(spki);
  if (parts.oid === RSA_OID) {
    const key = importOrFailNode(der, "RSA", "rsa");
    const { modulusLength, publicExponent } = key.asymmetricKeyDetails as { modulusLength: number; publicExponent: bigint };
    const e = publicExponent;
    if (modulusLength < MIN_RSA_BITS)
      throw new PkiError("badPublicKey", `RSA keys must have at least ${MIN_RSA_BITS} bits; this one has ${modulusLength}`, "csr");
    if (modulusLength > MAX_RSA_BITS)
      throw new PkiError("badPublicKey", `RSA keys may have at most ${MAX_RSA_BITS} bits; this one has ${modulusLength}`, "csr");
    if (e < 3n || e % 2n === 0n) throw new PkiError("badPublicKey", `RSA public exponent ${e} is not allowed`, "csr");
    return { info: { description: `RSA ${modulusLength}`, type: "RSA", spki: der }, key };
  }
  if (parts.oid === EC_OID) {
    let curveOid: string | undefined;
    if (parts.params?.tag === 0x06) curveOid = readOid(spki, parts.params); // checked by readSpki
    const curve = curveOid ? NAMED_CURVES[curveOid] : undefined;
    if (!curve) throw new PkiError("badPublicKey", `EC keys must be on P-256, P-384 or P-521${curveOid ? `, not ${curveOid}` : ""}`, "csr");
    const key = importOrFailNode(der, `EC ${curve}`, "ec");
    if (key.asymmetricKeyDetails?.namedCurve !== NODE_CURVES[curve]) {
      throw new PkiError("badPublicKey", `The EC ${curve} public key is malformed`, "csr", undefined, { cause: new Error("Named curve mismatch") });
    }
    return { info: { description: `EC ${curve}`, type: "EC", spki: der }, key };
  }
  throw new PkiError("badPublicKey", `Unsupported public key algorithm ${parts.oid}: use RSA or EC`, "csr");
}

function importOrFailNode(spki: Buffer, what: string, type: "rsa" | "ec"): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spki, format: "der", type: "spki" });
  } catch (cause) {
    throw new PkiError("badPublicKey", `The ${what} public key is malformed`, "csr", undefined, { cause });
  }
  if (key.asymmetricKeyType !== type) {
    throw new PkiError("badPublicKey", `The ${what} public key is malformed`, "csr", undefined, { cause: new Error("Invalid key type") });
  }
  return key;
}

/** The original checkPublicKey (asn1-schema and WebCrypto), for keys the strict DER reader does not take. */
async function checkPublicKeyWebCrypto(spkiDer: Binary): Promise<PublicKeyInfo> {
  let info: SubjectPublicKeyInfo;
  try {
    info = AsnConvert.parse(bytes(toBuffer(spkiDer)), SubjectPublicKeyInfo);
  } catch (cause) {
    throw new PkiError("badPublicKey", "The public key is not a valid SubjectPublicKeyInfo", "csr", undefined, { cause });
  }
  const spki = Buffer.from(AsnConvert.serialize(info));
  const oid = info.algorithm.algorithm;
  if (oid === RSA_OID) {
    const key = await importOrFail(spki, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, "RSA");
    const { modulusLength, publicExponent } = key.algorithm as RsaHashedKeyAlgorithm;
    const e = BigInt(`0x${Buffer.from(publicExponent).toString("hex") || "0"}`);
    if (modulusLength < MIN_RSA_BITS)
      throw new PkiError("badPublicKey", `RSA keys must have at least ${MIN_RSA_BITS} bits; this one has ${modulusLength}`, "csr");
    if (modulusLength > MAX_RSA_BITS)
      throw new PkiError("badPublicKey", `RSA keys may have at most ${MAX_RSA_BITS} bits; this one has ${modulusLength}`, "csr");
    if (e < 3n || e % 2n === 0n) throw new PkiError("badPublicKey", `RSA public exponent ${e} is not allowed`, "csr");
    return { description: `RSA ${modulusLength}`, type: "RSA", spki };
  }
  if (oid === EC_OID) {
    let curveOid: string | undefined;
    try {
      const params = info.algorithm.parameters ? asn1js.fromBER(info.algorithm.parameters).result : undefined;
      if (params instanceof asn1js.ObjectIdentifier) curveOid = params.valueBlock.toString();
    } catch {
      curveOid = undefined;
    }
    const curve = curveOid ? NAMED_CURVES[curveOid] : undefined;
    if (!curve) throw new PkiError("badPublicKey", `EC keys must be on P-256, P-384 or P-521${curveOid ? `, not ${curveOid}` : ""}`, "csr");
    await importOrFail(spki, { name: "ECDSA", namedCurve: curve }, `EC ${curve}`);
    return { description: `EC ${curve}`, type: "EC", spki };
  }
  throw new PkiError("badPublicKey", `Unsupported public key algorithm ${oid}: use RSA or EC`, "csr");
}

async function importOrFail(spki: Buffer, alg: RsaHashedImportParams | EcKeyImportParams, what: string): Promise<CryptoKey> {
  try {
    return await crypto.subtle.importKey("spki", bytes(spki), alg, true, ["verify"]);
  } catch (cause) {
    throw new PkiError("badPublicKey", `The ${what} public key is malformed`, "csr", undefined, { cause });
  }
}

export interface ParsedCsr {
  der: Buffer;
  subject: DnAttribute[];
  subjectDn: string;
  sans: CsrSans;
  publicKey: PublicKeyInfo;
}

/** Parses a PKCS#10 request (PEM or DER), verifies its self-signature and checks its key. */
export async function parseCsr(input: string | Binary): Promise<ParsedCsr> {
  const size = typeof input === "string" ? input.length : input.byteLength;
  if (size === 0) throw new PkiError("badCSR", "The CSR is empty", "csr");
  if (size > MAX_CSR_BYTES * 2) throw new PkiError("badCSR", "The CSR is too large", "csr");
  let der: Uint8Array<ArrayBuffer>;
  try {
    der = typeof input === "string" ? new Uint8Array(x509.PemConverter.decodeFirst(input)) : bytes(toBuffer(input));
    if (der.byteLength > MAX_CSR_BYTES) throw new Error("too large");
  } catch (cause) {
    throw new PkiError("badCSR", "The CSR is not a valid PKCS#10 certificate request", "csr", undefined, { cause });
  }
  const layout = readCsr(Buffer.from(der.buffer, der.byteOffset, der.byteLength));
  return layout ? parseCsrFast(der, layout) : parseCsrDer(der);
}

/**
 * The original parseCsr after decoding, entirely through @peculiar/x509 and WebCrypto: used for every
 * CSR the strict DER reader does not take, and the reference the fast path is tested against.
 */
export async function parseCsrDer(der: Uint8Array<ArrayBuffer>): Promise<ParsedCsr> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(der);
  } catch (cause) {
    throw new PkiError("badCSR", "The CSR is not a valid PKCS#10 certificate request", "csr", undefined, { cause });
  }
  let spki: ArrayBuffer;
  try {
    spki = csr.publicKey.rawData; // parsed lazily: a malformed key throws here
  } catch (cause) {
    throw new PkiError("badPublicKey", "The CSR public key is malformed", "csr", undefined, { cause });
  }
  const publicKey = await checkPublicKeyWebCrypto(spki);
  await verifyWithPeculiar(csr);
  const { subject, sans } = subjectAndSansWithPeculiar(csr);
  return { der: Buffer.from(csr.rawData), subject, subjectDn: formatDn(subject), sans, publicKey };
}

async function verifyWithPeculiar(csr: x509.Pkcs10CertificateRequest): Promise<void> {
  let verified = false;
  try {
    verified = await csr.verify();
  } catch (cause) {
    throw new PkiError("badCSR", "The CSR signature cannot be checked (unsupported signature algorithm?)", "csr", undefined, { cause });
  }
  if (!verified) throw new PkiError("badCSR", "The CSR signature does not verify with its own public key", "csr");
}

function subjectAndSansWithPeculiar(csr: x509.Pkcs10CertificateRequest): { subject: DnAttribute[]; sans: CsrSans } {
  let subject: DnAttribute[];
  let sans: CsrSans = { othername: [], rfc822name: [], dnsname: [], uri: [], ipaddress: [] };
  try {
    subject = fromX509Name(csr.subjectName);
    const sanExt = csr.extensions.find((e) => e.type === "2.5.29.17");
    if (sanExt) sans = parseSans(sanExt.value);
  } catch (cause) {
    throw new PkiError("badCSR", "The CSR subject or subjectAltName is malformed", "csr", undefined, { cause });
  }
  return { subject, sans };
}

/** What the strict reader found in a CSR. */
interface CsrLayout {
  /** certificationRequestInfo, DER: what the signature covers. */
  tbs: Buffer;
  spki: Buffer;
  signatureAlgorithm: string;
  /** The AlgorithmIdentifier parameters, absent or NULL. */
  signatureParams: "absent" | "null" | "other";
  signature: Buffer;
  /** The subject as parseCsrDer reads it, or undefined when the fast reader leaves it to @peculiar. */
  subject?: DnAttribute[];
  /** The SANs as parseCsrDer reads them, or undefined when the fast reader leaves them to @peculiar. */
  sans?: CsrSans;
}

const EXTENSION_REQUEST = "1.2.840.113549.1.9.14";
const CHALLENGE_PASSWORD = "1.2.840.113549.1.9.7";
// Extensions @peculiar/x509 parses when a CSR's extensions are read (ExtensionFactory): a malformed one
// makes parseCsrDer refuse the CSR. The fast reader checks the ones devices send and leaves the rest to it.
const PECULIAR_PARSED_EXTENSIONS = new Set([
  "2.5.29.32",
  "2.5.29.19",
  "2.5.29.37",
  "2.5.29.15",
  "2.5.29.14",
  "2.5.29.35",
  "2.5.29.17",
  "2.5.29.31",
  "1.3.6.1.5.5.7.1.1",
  "2.5.29.18",
]);

/**
 * Reads a CSR's structure with the strict DER reader: returns undefined (use parseCsrDer) unless it is
 * plain DER of exactly the shape @peculiar/asn1-csr parses, so both paths accept the same CSRs.
 */
function readCsr(der: Buffer): CsrLayout | undefined {
  try {
    const outer = expectTlv(der, 0, der.length, 0x30, "CertificationRequest");
    if (outer.end !== der.length) return undefined;
    const [cri, alg, sig, ...rest] = children(der, outer);
    if (!cri || !alg || !sig || rest.length || cri.tag !== 0x30 || alg.tag !== 0x30 || sig.tag !== 0x03) return undefined;
    if (sig.end - sig.body < 1 || der[sig.body] !== 0) return undefined;
    const [algId, algParams, ...algMore] = children(der, alg);
    if (!algId || algMore.length) return undefined;
    const signatureAlgorithm = readOid(der, algId);
    const signatureParams = !algParams ? "absent" : algParams.tag === 0x05 && algParams.end === algParams.body ? "null" : "other";

    const [version, name, spki, attrs, ...criMore] = children(der, cri);
    if (!version || !name || !spki || !attrs || criMore.length) return undefined;
    if (version.tag !== 0x02 || version.end === version.body || name.tag !== 0x30 || spki.tag !== 0x30 || attrs.tag !== 0xa0) return undefined;
    const spkiBytes = der.subarray(spki.start, spki.end);
    if (!readSpki(spkiBytes)) return undefined;

    // subject: SEQUENCE OF SET OF SEQUENCE { OID, ANY } (the shape is required; the values may be left to @peculiar)
    let subject: DnAttribute[] | undefined = [];
    for (const rdn of children(der, name)) {
      if (rdn.tag !== 0x31) return undefined;
      const atvs = children(der, rdn);
      for (const atv of atvs) {
        if (atv.tag !== 0x30) return undefined;
        const [type, value, ...more] = children(der, atv);
        if (!type || !value || more.length) return undefined;
        const oid = readOid(der, type);
        const text = atvs.length === 1 ? directoryString(der, value) : undefined;
        if (text === undefined) subject = undefined;
        else subject?.push(attributeFromOid(oid, text));
      }
      if (atvs.length !== 1) subject = undefined;
    }

    // attributes: SET OF SEQUENCE { OID, SET OF ANY }; at most one extensionRequest with one value
    let sans: CsrSans | undefined = { othername: [], rfc822name: [], dnsname: [], uri: [], ipaddress: [] };
    let seenExtensionRequest = false;
    for (const attr of children(der, attrs)) {
      if (attr.tag !== 0x30) return undefined;
      const [type, values, ...more] = children(der, attr);
      if (!type || !values || more.length || values.tag !== 0x31) return undefined;
      const oid = readOid(der, type);
      const items = children(der, values);
      if (oid === CHALLENGE_PASSWORD) return undefined;
      if (oid !== EXTENSION_REQUEST) continue;
      if (seenExtensionRequest || items.length !== 1) return undefined;
      seenExtensionRequest = true;
      const list = items[0]!;
      if (list.tag !== 0x30) return undefined;
      let sanSeen = false;
      for (const ext of children(der, list)) {
        if (ext.tag !== 0x30) return undefined;
        const parts = children(der, ext);
        const critical = parts.length === 3 ? parts[1] : undefined;
        const value = parts[parts.length - 1];
        if (parts.length < 2 || parts.length > 3 || !value || value.tag !== 0x04) return undefined;
        if (critical && (critical.tag !== 0x01 || critical.end - critical.body !== 1 || (der[critical.body] !== 0xff && der[critical.body] !== 0)))
          return undefined;
        const extOid = readOid(der, parts[0]!);
        const inner = der.subarray(value.body, value.end);
        if (extOid === "2.5.29.17") {
          const read = readGeneralNames(inner);
          if (!read) return undefined;
          if (!sanSeen) sans = read; // the first SAN extension counts, as in parseCsrDer
          sanSeen = true;
        } else if (extOid === "2.5.29.15") {
          if (!isBitString(inner)) return undefined;
        } else if (extOid === "2.5.29.37") {
          if (!isOidSequence(inner)) return undefined;
        } else if (PECULIAR_PARSED_EXTENSIONS.has(extOid)) return undefined;
      }
    }
    if (!seenExtensionRequest) sans = { othername: [], rfc822name: [], dnsname: [], uri: [], ipaddress: [] };
    return {
      tbs: der.subarray(cri.start, cri.end),
      spki: spkiBytes,
      signatureAlgorithm,
      signatureParams,
      signature: der.subarray(sig.body + 1, sig.end),
      subject,
      sans,
    };
  } catch (e) {
    if (e instanceof DerError) return undefined;
    throw e;
  }
}

const PRINTABLE_STRING = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A PrintableString, IA5String (ASCII) or UTF8String value as asn1js decodes it; undefined for anything else. */
function directoryString(der: Buffer, t: Tlv): string | undefined {
  const raw = der.subarray(t.body, t.end);
  if (t.tag === 0x13 || t.tag === 0x16) {
    const s = raw.toString("latin1");
    if (t.tag === 0x13 ? !PRINTABLE_STRING.test(s) : !/^[\x00-\x7f]*$/.test(s)) return undefined;
    return s;
  }
  if (t.tag === 0x0c) {
    if (raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf) return undefined; // a BOM: leave it to asn1js
    try {
      return utf8.decode(raw);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** GeneralNames of the kinds devices send (rfc822Name, dNSName, URI in ASCII; UPN otherName), else undefined. */
function readGeneralNames(value: Buffer): CsrSans | undefined {
  const out: CsrSans = { othername: [], rfc822name: [], dnsname: [], uri: [], ipaddress: [] };
  const seq = readTlv(value, 0);
  if (seq.tag !== 0x30 || seq.end !== value.length) return undefined;
  for (const gn of children(value, seq)) {
    const ascii = () => {
      const s = value.subarray(gn.body, gn.end).toString("latin1");
      return /^[\x00-\x7f]*$/.test(s) ? s : undefined;
    };
    if (gn.tag === 0x81 || gn.tag === 0x82 || gn.tag === 0x86) {
      const s = ascii();
      if (s === undefined) return undefined;
      (gn.tag === 0x81 ? out.rfc822name : gn.tag === 0x82 ? out.dnsname : out.uri).push(s);
    } else if (gn.tag === 0xa0) {
      const [typeId, explicit, ...more] = children(value, gn);
      if (!typeId || !explicit || more.length || explicit.tag !== 0xa0 || readOid(value, typeId) !== UPN_OID) return undefined;
      const [str, ...extra] = children(value, explicit);
      if (!str || extra.length || str.tag !== 0x0c) return undefined;
      const s = directoryString(value, str);
      if (s === undefined) return undefined;
      out.othername.push(s);
    } else return undefined;
  }
  return out;
}

const isBitString = (value: Buffer): boolean => {
  const t = readTlv(value, 0);
  return t.tag === 0x03 && t.end === value.length && t.end - t.body >= 2 && value[t.body]! <= 7;
};

const isOidSequence = (value: Buffer): boolean => {
  const t = readTlv(value, 0);
  if (t.tag !== 0x30 || t.end !== value.length) return false;
  const items = children(value, t);
  for (const i of items) readOid(value, i);
  return items.length > 0;
};

// The native check runs on the libuv thread pool (a P-384 verification is about a millisecond).
const verifyOffLoop = promisify(verify);

// Signature algorithms checked natively (the others, e.g. SHA-1 or RSA-PSS, go through @peculiar/x509).
const NATIVE_SIGNATURES: Record<string, { hash: string; key: "ec" | "rsa"; params: ReadonlyArray<CsrLayout["signatureParams"]> }> = {
  "1.2.840.10045.4.3.2": { hash: "sha256", key: "ec", params: ["absent"] },
  "1.2.840.10045.4.3.3": { hash: "sha384", key: "ec", params: ["absent"] },
  "1.2.840.10045.4.3.4": { hash: "sha512", key: "ec", params: ["absent"] },
  "1.2.840.113549.1.1.11": { hash: "sha256", key: "rsa", params: ["null", "absent"] },
  "1.2.840.113549.1.1.12": { hash: "sha384", key: "rsa", params: ["null", "absent"] },
  "1.2.840.113549.1.1.13": { hash: "sha512", key: "rsa", params: ["null", "absent"] },
};

async function parseCsrFast(der: Uint8Array<ArrayBuffer>, layout: CsrLayout): Promise<ParsedCsr> {
  let peculiar: x509.Pkcs10CertificateRequest | undefined;
  const asPeculiar = () => {
    try {
      return (peculiar ??= new x509.Pkcs10CertificateRequest(der));
    } catch (cause) {
      throw new PkiError("badCSR", "The CSR is not a valid PKCS#10 certificate request", "csr", undefined, { cause });
    }
  };
  const { info: publicKey, key } = await inspectPublicKey(layout.spki);
  // A signature that verifies natively verifies for WebCrypto too (same OpenSSL check); anything else
  // (other algorithms, or a signature OpenSSL rejects) gets the original verdict and message.
  const native = NATIVE_SIGNATURES[layout.signatureAlgorithm];
  let verified = false;
  if (native && key && native.params.includes(layout.signatureParams) && key.asymmetricKeyType === native.key) {
    try {
      verified = await verifyOffLoop(native.hash, layout.tbs, key, layout.signature);
    } catch {
      verified = false;
    }
  }
  if (!verified) await verifyWithPeculiar(asPeculiar());
  const { subject, sans } = layout.subject && layout.sans ? { subject: layout.subject, sans: layout.sans } : subjectAndSansWithPeculiar(asPeculiar());
  return { der: Buffer.from(der), subject, subjectDn: formatDn(subject), sans, publicKey };
}

/** The `/csr` part of a template context: subject attributes by every name, and SAN lists. */
export function csrContext(csr: Pick<ParsedCsr, "subject" | "sans">): NonNullable<TemplateContext["csr"]> {
  const subject: Record<string, string | string[]> = {};
  for (const a of csr.subject) {
    for (const key of attributeKeys(a.oid)) {
      const prev = subject[key];
      subject[key] = prev === undefined ? a.value : ([] as string[]).concat(prev, a.value);
    }
  }
  return { subject, san: { ...csr.sans } };
}
