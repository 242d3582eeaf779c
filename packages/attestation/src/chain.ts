// Certificate path validation for the attestation chain: x5c is leaf first, then the intermediates
// ("Apple Enterprise Attestation Sub CA 1"), and must end at one of the trusted roots (SPEC §4).
// Signatures and issuer checks use OpenSSL through node:crypto; extensions are read with @peculiar/x509.
import { X509Certificate as NodeCertificate } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import { Certificate } from "@peculiar/asn1-x509";
import { certificateFingerprint } from "./apple-leaf";
import { AttestationError } from "./errors";
import { UNDERSTOOD_CRITICAL_EXTENSIONS } from "./oids";
import { x509 } from "./x509";

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

export interface ParsedCertificate {
  der: Buffer;
  node: NodeCertificate;
  cert: x509.X509Certificate;
  /** Lowercase hex SHA-256 of the DER. */
  fingerprint: string;
  signatureAlgorithm: string;
}

export function parseCertificate(der: Uint8Array, label: string): ParsedCertificate {
  const buf = Buffer.from(der);
  try {
    const asn = AsnConvert.parse(buf, Certificate);
    return {
      der: buf,
      node: new NodeCertificate(buf),
      cert: new x509.X509Certificate(buf),
      fingerprint: certificateFingerprint(buf),
      signatureAlgorithm: asn.signatureAlgorithm.algorithm,
    };
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
  return `"${c.cert.subject}"`;
}

function basicConstraints(c: ParsedCertificate): x509.BasicConstraintsExtension | null {
  return c.cert.getExtension(x509.BasicConstraintsExtension);
}

function checkCertificate(c: ParsedCertificate, label: string): void {
  if (!ACCEPTED_SIGNATURE_ALGORITHMS.has(c.signatureAlgorithm)) {
    throw new AttestationError("chainInvalid", `${label} ${describe(c)} uses signature algorithm ${c.signatureAlgorithm}, which is not accepted`);
  }
  for (const ext of c.cert.extensions) {
    if (ext.critical && !UNDERSTOOD_CRITICAL_EXTENSIONS.has(ext.type)) {
      // RFC 5280 §4.2: a certificate with an unrecognised critical extension must be rejected
      throw new AttestationError("chainInvalid", `${label} ${describe(c)} has an unrecognised critical extension ${ext.type}`);
    }
  }
}

/** `child` must name `issuer` as its issuer (and match its key identifier and key usage) and carry its signature. */
function issuedBy(child: ParsedCertificate, issuer: ParsedCertificate): boolean {
  try {
    return child.node.checkIssued(issuer.node) && child.node.verify(issuer.node.publicKey);
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

function caIssuedBy(child: ParsedCertificate, issuer: ParsedCertificate): boolean {
  const k = `${child.fingerprint}>${issuer.fingerprint}`;
  if (caSignedBy.has(k)) return true;
  const ok = issuedBy(child, issuer);
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
export function verifyCertificatePath(x5c: readonly Uint8Array[], trustedRoots: readonly string[], now: Date): VerifiedPath {
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
      if (!(i === 0 ? issuedBy(c, next) : caIssuedBy(c, next))) {
        throw new AttestationError("chainInvalid", `x5c[${i}] ${describe(c)} is not signed by x5c[${i + 1}] ${describe(next)}`);
      }
      continue;
    }
    anchor = roots.find((r) => (i === 0 ? issuedBy(c, r) : caIssuedBy(c, r)));
    if (!anchor) {
      throw new AttestationError(
        "chainInvalid",
        `x5c[${i}] ${describe(c)} (issuer "${c.cert.issuer}") does not chain to a trusted root`,
      );
    }
  }
  if (!anchor) throw new AttestationError("chainInvalid", "the chain does not end at a trusted root");

  for (const [label, c] of [...path.map((c, i) => [`x5c[${i}]`, c] as const), ["root", anchor] as const]) {
    if (now.getTime() < c.cert.notBefore.getTime()) {
      throw new AttestationError("chainNotYetValid", `${label} ${describe(c)} is not valid before ${c.cert.notBefore.toISOString()}`);
    }
    if (now.getTime() > c.cert.notAfter.getTime()) {
      throw new AttestationError("chainExpired", `${label} ${describe(c)} expired at ${c.cert.notAfter.toISOString()}`);
    }
  }
  return { path, anchor };
}
