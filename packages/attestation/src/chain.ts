// Certificate path validation for the attestation chain: x5c is leaf first, then the intermediates
// ("Apple Enterprise Attestation Sub CA 1"), and must end at one of the trusted roots
// (docs/protocol.md#apples-chain-and-root).
// Signatures and issuer checks use OpenSSL through node:crypto; the fields read per request come from a strict
// DER reader (./der), with @peculiar/x509 for names in messages and for anything the reader refuses.
import { X509Certificate as NodeCertificate, verify, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import { AsnConvert } from "@peculiar/asn1-schema";
import { Certificate } from "@peculiar/asn1-x509";
import { certificateFingerprint } from "./apple-leaf";
import { DerError, children, expectTlv, readOid, readTime } from "@attested/der";
import { UNDERSTOOD_CRITICAL_EXTENSIONS } from "./oids";
import { x509 } from "./x509";
import { AttestationError } from "@attested/errors";

/** Longest x5c accepted (Apple sends two: leaf and Sub CA). */
export const MAX_CHAIN_LENGTH = 5;

// Signature algorithms accepted anywhere in the path: no SHA-1, no MD5.
const ACCEPTED_SIGNATURE_ALGORITHMS = new Set([
  "1.2.840.10045.4.3.2", // ecdsa-with-SHA256
  "1.2.840.10045.4.3.3", // ecdsa-with-SHA384 (Apple)
  "1.2.840.10045.4.3.4", // ecdsa-with-SHA512
  "1.2.840.113549.1.1.10", // RSASSA-PSS
  "1.2.840.113549.1.1.11", // sha256WithRSAEncryption
  "1.2.840.113549.1.1.12", // sha384WithRSAEncryption
  "1.2.840.113549.1.1.13", // sha512WithRSAEncryption
  "1.3.101.112", // Ed25519
]);

export interface CertificateExtension {
  /** extnID, dotted. */
  type: string;
  critical: boolean;
  /** The contents of the extnValue OCTET STRING. */
  value: Buffer;
}

export interface ParsedCertificate {
  der: Buffer;
  /** The TBSCertificate DER and the signature (BIT STRING contents) when the strict reader read them. */
  tbs?: Buffer;
  signatureValue?: Buffer;
  /** The outer signatureAlgorithm equals the one inside the TBSCertificate (RFC 5280 §4.1.1.2). */
  signatureAlgorithmsMatch?: boolean;
  node: NodeCertificate;
  /** @peculiar/x509's view of the certificate, parsed on first use (names for messages, basicConstraints). */
  readonly cert: x509.X509Certificate;
  /** Lowercase hex SHA-256 of the DER. */
  fingerprint: string;
  signatureAlgorithm: string;
  notBefore: Date;
  notAfter: Date;
  /** The extensions in certificate order (duplicates kept: parseAppleLeaf refuses them). */
  extensions: CertificateExtension[];
  /** The SubjectPublicKeyInfo, DER. */
  publicKeySpki: Buffer;
}

/** The fields verification needs, read straight from strict DER; throws DerError on anything else. */
function readFields(
  buf: Buffer,
): Pick<
  ParsedCertificate,
  "tbs" | "signatureValue" | "signatureAlgorithmsMatch" | "signatureAlgorithm" | "notBefore" | "notAfter" | "extensions" | "publicKeySpki"
> {
  const outer = expectTlv(buf, 0, buf.length, 0x30, "Certificate");
  if (outer.end !== buf.length) throw new DerError("trailing bytes");
  const [tbs, sigAlg, sig, ...rest] = children(buf, outer);
  if (!tbs || !sigAlg || !sig || rest.length || tbs.tag !== 0x30 || sigAlg.tag !== 0x30 || sig.tag !== 0x03) throw new DerError("Certificate");
  const algFields = children(buf, sigAlg);
  if (algFields.length < 1 || algFields.length > 2) throw new DerError("AlgorithmIdentifier");
  const signatureAlgorithm = readOid(buf, algFields[0]!);

  const f = children(buf, tbs);
  let i = 0;
  if (f[i]?.tag === 0xa0) {
    const [v, ...more] = children(buf, f[i]!);
    if (!v || more.length || v.tag !== 0x02) throw new DerError("version");
    i++;
  }
  const [serial, sigInner, issuer, validity, subject, spki] = f.slice(i, i + 6);
  if (serial?.tag !== 0x02 || sigInner?.tag !== 0x30 || issuer?.tag !== 0x30 || validity?.tag !== 0x30 || subject?.tag !== 0x30 || spki?.tag !== 0x30) {
    throw new DerError("TBSCertificate");
  }
  i += 6;
  const [nb, na, ...extra] = children(buf, validity);
  if (!nb || !na || extra.length) throw new DerError("Validity");
  const notBefore = readTime(buf, nb);
  const notAfter = readTime(buf, na);
  if (f[i]?.tag === 0x81 || f[i]?.tag === 0xa1) i++;
  if (f[i]?.tag === 0x82 || f[i]?.tag === 0xa2) i++;
  const extensions: CertificateExtension[] = [];
  if (f[i]?.tag === 0xa3) {
    const [list, ...more] = children(buf, f[i]!);
    if (!list || more.length || list.tag !== 0x30) throw new DerError("Extensions");
    for (const e of children(buf, list)) {
      if (e.tag !== 0x30) throw new DerError("Extension");
      const parts = children(buf, e);
      let critical = false;
      let valueTlv = parts[1];
      if (parts.length === 3) {
        const b = parts[1]!;
        if (b.tag !== 0x01 || b.end - b.body !== 1 || (buf[b.body] !== 0xff && buf[b.body] !== 0x00)) throw new DerError("critical");
        critical = buf[b.body] === 0xff;
        valueTlv = parts[2];
      } else if (parts.length !== 2) throw new DerError("Extension");
      if (valueTlv?.tag !== 0x04) throw new DerError("extnValue");
      extensions.push({ type: readOid(buf, parts[0]!), critical, value: buf.subarray(valueTlv.body, valueTlv.end) });
    }
    i++;
  }
  if (i !== f.length) throw new DerError("TBSCertificate");
  return {
    tbs: buf.subarray(tbs.start, tbs.end),
    // A BIT STRING whose first byte (unused bits) is not 0 is left to OpenSSL's own check.
    signatureValue: sig.end > sig.body && buf[sig.body] === 0 ? buf.subarray(sig.body + 1, sig.end) : undefined,
    signatureAlgorithmsMatch: buf.subarray(sigAlg.start, sigAlg.end).equals(buf.subarray(sigInner.start, sigInner.end)),
    signatureAlgorithm,
    notBefore,
    notAfter,
    extensions,
    publicKeySpki: buf.subarray(spki.start, spki.end),
  };
}

/** The same fields through @peculiar/x509 (the full parser), for what the strict reader refuses. */
function peculiarFields(cert: x509.X509Certificate): Omit<ReturnType<typeof readFields>, "tbs" | "signatureValue" | "signatureAlgorithmsMatch"> {
  const asn = AsnConvert.parse(cert.rawData, Certificate);
  return {
    signatureAlgorithm: asn.signatureAlgorithm.algorithm,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    extensions: cert.extensions.map((e) => ({ type: e.type, critical: e.critical, value: Buffer.from(e.value) })),
    publicKeySpki: Buffer.from(cert.publicKey.rawData),
  };
}

class Parsed implements ParsedCertificate {
  #cert: x509.X509Certificate | undefined;
  tbs?: Buffer;
  signatureValue?: Buffer;
  signatureAlgorithmsMatch?: boolean;
  signatureAlgorithm!: string;
  notBefore!: Date;
  notAfter!: Date;
  extensions!: CertificateExtension[];
  publicKeySpki!: Buffer;
  constructor(
    readonly der: Buffer,
    readonly node: NodeCertificate,
    readonly fingerprint: string,
    cert?: x509.X509Certificate,
  ) {
    this.#cert = cert;
  }
  get cert(): x509.X509Certificate {
    return (this.#cert ??= new x509.X509Certificate(this.der as Buffer<ArrayBuffer>));
  }
}

/**
 * Parses a DER certificate. Well-formed DER (every real attestation certificate) is read by the small
 * reader in ./der plus OpenSSL (node:crypto); anything else goes through the full ASN.1 parsers as
 * before, so unusual encodings are accepted or refused exactly as they were.
 */
export function parseCertificate(der: Uint8Array, label: string): ParsedCertificate {
  const buf = Buffer.from(der);
  let fields: ReturnType<typeof readFields> | undefined;
  try {
    fields = readFields(buf);
  } catch (e) {
    if (!(e instanceof DerError)) throw e;
  }
  try {
    const node = new NodeCertificate(buf);
    const fingerprint = certificateFingerprint(buf);
    if (fields) return Object.assign(new Parsed(buf, node, fingerprint), fields);
    const cert = new x509.X509Certificate(buf);
    const parsed = new Parsed(buf, node, fingerprint, cert);
    return Object.assign(parsed, peculiarFields(cert));
  } catch (e) {
    throw new AttestationError("chainInvalid", `${label} is not a valid DER certificate (${(e as Error).message})`);
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----/g;

// Trusted roots are configuration: parse each PEM once.
const rootCache = new Map<string, ParsedCertificate>();
function parseRoot(pem: string): ParsedCertificate {
  let parsed = rootCache.get(pem);
  if (!parsed) {
    let der: Buffer;
    try {
      der = Buffer.from(new x509.X509Certificate(pem).rawData);
    } catch (e) {
      throw new TypeError(`a trusted root is not a valid PEM certificate: ${(e as Error).message}`);
    }
    parsed = parseCertificate(der, "trusted root");
    if (rootCache.size > 64) rootCache.clear();
    rootCache.set(pem, parsed);
  }
  return parsed;
}

function describe(c: ParsedCertificate): string {
  let subject: string;
  try {
    subject = c.cert.subject;
  } catch {
    subject = c.node.subject.replace(/\n/g, ", "); // a name only OpenSSL could read
  }
  return `"${subject}"`;
}

function basicConstraints(c: ParsedCertificate): x509.BasicConstraintsExtension | null {
  return c.cert.getExtension(x509.BasicConstraintsExtension);
}

function checkCertificate(c: ParsedCertificate, label: string): void {
  if (!ACCEPTED_SIGNATURE_ALGORITHMS.has(c.signatureAlgorithm)) {
    throw new AttestationError("chainInvalid", `${label} ${describe(c)} uses signature algorithm ${c.signatureAlgorithm}, which is not accepted`);
  }
  for (const ext of c.extensions) {
    if (ext.critical && !UNDERSTOOD_CRITICAL_EXTENSIONS.has(ext.type)) {
      // RFC 5280 §4.2: a certificate with an unrecognised critical extension must be rejected
      throw new AttestationError("chainInvalid", `${label} ${describe(c)} has an unrecognised critical extension ${ext.type}`);
    }
  }
}

// Signature algorithms whose check runs off the event loop (node:crypto's verify on the libuv thread
// pool), with the hash and the issuer key type each requires. Anything else (RSA-PSS, a key of another
// type, fields the strict reader did not read) is checked by OpenSSL's X509_verify on the event loop.
const OFF_LOOP_SIGNATURES: Record<string, { hash: string | null; key: string }> = {
  "1.2.840.10045.4.3.2": { hash: "sha256", key: "ec" },
  "1.2.840.10045.4.3.3": { hash: "sha384", key: "ec" },
  "1.2.840.10045.4.3.4": { hash: "sha512", key: "ec" },
  "1.2.840.113549.1.1.11": { hash: "sha256", key: "rsa" },
  "1.2.840.113549.1.1.12": { hash: "sha384", key: "rsa" },
  "1.2.840.113549.1.1.13": { hash: "sha512", key: "rsa" },
  "1.3.101.112": { hash: null, key: "ed25519" },
};
const verifyOffLoop = promisify(verify);

// Issuers' public keys, imported once per parsed certificate (roots and intermediates are cached).
const publicKeys = new WeakMap<ParsedCertificate, KeyObject>();
function publicKeyOf(c: ParsedCertificate): KeyObject {
  let key = publicKeys.get(c);
  if (!key) publicKeys.set(c, (key = c.node.publicKey));
  return key;
}

/** `child` must name `issuer` as its issuer (and match its key identifier and key usage) and carry its signature. */
async function issuedBy(child: ParsedCertificate, issuer: ParsedCertificate): Promise<boolean> {
  try {
    if (!child.node.checkIssued(issuer.node)) return false;
    const key = publicKeyOf(issuer);
    const scheme = OFF_LOOP_SIGNATURES[child.signatureAlgorithm];
    if (scheme && scheme.key === key.asymmetricKeyType && child.tbs && child.signatureValue && child.signatureAlgorithmsMatch) {
      return await verifyOffLoop(scheme.hash, child.tbs, key, child.signatureValue);
    }
    return child.node.verify(key);
  } catch {
    return false;
  }
}

// Every device sends the same intermediate ("Apple Enterprise Attestation Sub CA 1"): it is parsed, and its
// signature by a root checked, once per process. Both are pure functions of the certificates' bytes
// (keyed by SHA-256 fingerprint), so the caches cannot go stale; leaves are always parsed and verified,
// and validity periods are checked on every attestation.
const MAX_CACHED_CAS = 64;
const parsedCas = new Map<string, ParsedCertificate>();
const caSignedBy = new Set<string>();

function parseIntermediate(der: Uint8Array, label: string): ParsedCertificate {
  const fp = certificateFingerprint(Buffer.from(der));
  const hit = parsedCas.get(fp);
  if (hit) return hit;
  const parsed = parseCertificate(der, label);
  if (parsedCas.size >= MAX_CACHED_CAS) parsedCas.clear();
  parsedCas.set(fp, parsed);
  return parsed;
}

async function caIssuedBy(child: ParsedCertificate, issuer: ParsedCertificate): Promise<boolean> {
  const k = `${child.fingerprint}>${issuer.fingerprint}`;
  if (caSignedBy.has(k)) return true;
  const ok = await issuedBy(child, issuer);
  if (ok) {
    if (caSignedBy.size >= MAX_CACHED_CAS * 4) caSignedBy.clear();
    caSignedBy.add(k);
  }
  return ok;
}

export interface VerifiedPath {
  /** The x5c certificates that form the path, leaf first (a root sent in x5c is not repeated here). */
  path: ParsedCertificate[];
  /** The trusted root the path ends at. */
  anchor: ParsedCertificate;
}

/**
 * Verifies that x5c is a chain from the leaf to one of `trustedRoots`, every signature included, and that
 * every certificate of the path (and the root) is valid at `now`. Structure and signatures are checked
 * first (chainInvalid), validity periods after (chainExpired, chainNotYetValid).
 */
export async function verifyCertificatePath(x5c: readonly Uint8Array[], trustedRoots: readonly string[], now: Date): Promise<VerifiedPath> {
  if (x5c.length === 0) throw new AttestationError("missingChain", "attStmt.x5c is empty");
  if (x5c.length > MAX_CHAIN_LENGTH) {
    throw new AttestationError("tooLarge", `attStmt.x5c has ${x5c.length} certificates; the limit is ${MAX_CHAIN_LENGTH}`);
  }
  // Each entry is a PEM certificate or a bundle of them.
  const roots = trustedRoots.flatMap((pem) => pem.match(PEM_CERTIFICATE) ?? []).map(parseRoot);
  if (roots.length === 0) throw new TypeError("no trusted roots configured");
  const certs = x5c.map((der, i) => (i === 0 ? parseCertificate(der, "x5c[0]") : parseIntermediate(der, `x5c[${i}]`)));

  const leaf = certs[0]!;
  if (leaf.node.ca) throw new AttestationError("chainInvalid", `the leaf ${describe(leaf)} is a CA certificate`);

  const path: ParsedCertificate[] = [];
  let anchor: ParsedCertificate | undefined;
  for (let i = 0; i < certs.length; i++) {
    const c = certs[i]!;
    // A device may include the root itself at the end: stop at a trusted one.
    if (i > 0) {
      const trusted = roots.find((r) => r.fingerprint === c.fingerprint);
      if (trusted) {
        anchor = trusted;
        break;
      }
    }
    checkCertificate(c, `x5c[${i}]`);
    path.push(c);
    const next = certs[i + 1];
    if (next) {
      if (!next.node.ca) throw new AttestationError("chainInvalid", `x5c[${i + 1}] ${describe(next)} is not a CA certificate`);
      const pathLen = basicConstraints(next)?.pathLength;
      // RFC 5280 §4.2.1.9: pathLenConstraint counts the intermediates below this one (the leaf excluded)
      if (pathLen !== undefined && i > pathLen) {
        throw new AttestationError("chainInvalid", `x5c[${i + 1}] ${describe(next)} allows a path of ${pathLen} intermediates below it`);
      }
      if (!(await (i === 0 ? issuedBy(c, next) : caIssuedBy(c, next)))) {
        throw new AttestationError("chainInvalid", `x5c[${i}] ${describe(c)} is not signed by x5c[${i + 1}] ${describe(next)}`);
      }
      continue;
    }
    for (const r of roots) {
      if (await (i === 0 ? issuedBy(c, r) : caIssuedBy(c, r))) {
        anchor = r;
        break;
      }
    }
    if (!anchor) {
      throw new AttestationError("chainInvalid", `x5c[${i}] ${describe(c)} (issuer "${c.cert.issuer}") does not chain to a trusted root`);
    }
  }
  if (!anchor) throw new AttestationError("chainInvalid", "the chain does not end at a trusted root");

  for (const [label, c] of [...path.map((c, i) => [`x5c[${i}]`, c] as const), ["root", anchor] as const]) {
    if (now.getTime() < c.notBefore.getTime()) {
      throw new AttestationError("chainNotYetValid", `${label} ${describe(c)} is not valid before ${c.notBefore.toISOString()}`);
    }
    if (now.getTime() > c.notAfter.getTime()) {
      throw new AttestationError("chainExpired", `${label} ${describe(c)} expired at ${c.notAfter.toISOString()}`);
    }
  }
  return { path, anchor };
}
