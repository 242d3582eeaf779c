import { KeyObject, createPublicKey, sign as nodeSign, verify as nodeVerify } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import type { AlgorithmIdentifier } from "@peculiar/asn1-x509";
import { bitString, sequence } from "@attested/der";
import { bytes, parseCertificate } from "./encoding";
import type { KeyStore } from "./key-store";
import { assertSignatureAlgorithm, signingAlgorithm, type SignatureAlgorithm } from "./keys";
import { cryptoFor, x509 } from "./provider";
import { PkiError } from "@attested/errors";

/** A CA as the caller stores it: its certificate, the id of its key in the KeyStore, its default hash. */
export interface CaRef {
  certificatePem: string;
  keyId: string;
  signatureAlgorithm: SignatureAlgorithm;
}

export interface Signer {
  certificate: x509.X509Certificate;
  key: CryptoKey;
  /** WebCrypto parameters, including the key's own (curve / modulus) so formatters know the sizes. */
  algorithm: Algorithm;
}

/** Loads a CA's certificate and signing key, refusing certificates that cannot act as a CA. */
export async function loadSigner(ca: CaRef, keyStore: KeyStore, field = "ca", hash: SignatureAlgorithm = ca.signatureAlgorithm): Promise<Signer> {
  const certificate = parsedCaCertificate(ca.certificatePem, `${field}.certificatePem`);
  const bc = certificate.getExtension(x509.BasicConstraintsExtension);
  if (!bc?.ca) throw new PkiError("badCaCertificate", "The issuer certificate is not a CA certificate (basicConstraints CA:FALSE)", field);
  const ku = certificate.getExtension(x509.KeyUsagesExtension);
  if (ku && !(ku.usages & x509.KeyUsageFlags.keyCertSign)) {
    throw new PkiError("badCaCertificate", "The issuer certificate may not sign certificates (keyUsage without keyCertSign)", field);
  }
  assertSignatureAlgorithm(hash);
  const key = await keyStore.privateKey(ca.keyId, hash);
  // Cheap early check (the signature checks after signing are the real guard): same key type and size.
  const certKey = certificate.publicKey.algorithm as Partial<RsaHashedKeyAlgorithm & EcKeyAlgorithm>;
  const k = key.algorithm as Partial<RsaHashedKeyAlgorithm & EcKeyAlgorithm>;
  if (certKey.name !== k.name || certKey.namedCurve !== k.namedCurve || certKey.modulusLength !== k.modulusLength) {
    throw new PkiError("caKeyMismatch", "The CA key in the key store does not match the CA certificate", field);
  }
  return { certificate, key, algorithm: { ...signingAlgorithm(key, hash), ...key.algorithm } };
}

/** Signs DER `tbs` data, returning the AlgorithmIdentifier and the signature as X.509 encodes it. */
export async function signTbs(signer: Signer, tbs: BufferSource): Promise<{ algorithm: AlgorithmIdentifier; signature: ArrayBuffer }> {
  const algorithm = new x509.AlgorithmProvider().toAsnAlgorithm(signer.algorithm);
  // node:crypto signs with the key behind the CryptoKey when it can: the same signature, already in X.509's encoding
  const native = nativeSign(signer, tbs);
  if (native) return { algorithm, signature: new Uint8Array(native).buffer };
  const raw = await cryptoFor(signer.key).subtle.sign(signer.algorithm, signer.key, tbs);
  // ECDSA: WebCrypto returns r||s, X.509 wants the DER ECDSA-Sig-Value.
  const signature = new x509.AsnEcSignatureFormatter().toAsnSignature(signer.algorithm, raw) ?? raw;
  return { algorithm, signature };
}

const HASHES = { "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512" } as const;

/** node:crypto's name for the signer's hash and whether it signs ECDSA (DER signatures), if it can sign natively. */
function nativeScheme(signer: Signer): { hash: string; ec: boolean } | undefined {
  const alg = signer.algorithm as Algorithm & { hash?: string | { name: string } };
  const hashName = typeof alg.hash === "string" ? alg.hash : alg.hash?.name;
  const hash = hashName ? HASHES[hashName.toUpperCase() as keyof typeof HASHES] : undefined;
  if (!hash) return undefined;
  if (alg.name === "ECDSA") return { hash, ec: true };
  if (alg.name === "RSASSA-PKCS1-v1_5") return { hash, ec: false };
  return undefined;
}

// The node:crypto KeyObject behind a WebCrypto key, once per key (null: not a node:crypto key, e.g. an HSM's).
const nativeKeys = new WeakMap<CryptoKey, KeyObject | null>();
function nativeKey(key: CryptoKey): KeyObject | null {
  let k = nativeKeys.get(key);
  if (k === undefined) {
    try {
      k = KeyObject.from(key);
    } catch {
      k = null;
    }
    nativeKeys.set(key, k);
  }
  return k;
}

// The DER AlgorithmIdentifier of each signing algorithm, as @peculiar/x509 encodes it.
const algorithmIds = new Map<string, Buffer>();

/** The DER AlgorithmIdentifier the signer's certificates and CRLs carry. */
export function signatureAlgorithmDer(signer: Signer): Buffer {
  const alg = signer.algorithm as Algorithm & { hash?: string | { name: string } };
  const key = `${alg.name}/${typeof alg.hash === "string" ? alg.hash : alg.hash?.name}`;
  let der = algorithmIds.get(key);
  if (!der) {
    der = Buffer.from(AsnConvert.serialize(new x509.AlgorithmProvider().toAsnAlgorithm(signer.algorithm)));
    if (algorithmIds.size < 64) algorithmIds.set(key, der);
  }
  return der;
}

/**
 * Signs DER `tbs`, returning the signature as X.509 encodes it (DER ECDSA-Sig-Value, or the RSA
 * signature). node:crypto signs directly with the key behind the CryptoKey; keys it cannot reach go
 * through WebCrypto (signTbs).
 */
export async function signTbsDer(signer: Signer, tbs: Buffer): Promise<Buffer> {
  return nativeSign(signer, tbs) ?? Buffer.from((await signTbs(signer, bytes(tbs))).signature);
}

/** The X.509 signature over `tbs` made with node:crypto, or null when the key or algorithm is not one it can use. */
function nativeSign(signer: Signer, tbs: BufferSource | Buffer): Buffer | null {
  const scheme = nativeScheme(signer);
  const key = scheme ? nativeKey(signer.key) : null;
  if (!scheme || !key || key.type !== "private" || key.asymmetricKeyType !== (scheme.ec ? "ec" : "rsa")) return null;
  const data = ArrayBuffer.isView(tbs) ? new Uint8Array(tbs.buffer, tbs.byteOffset, tbs.byteLength) : new Uint8Array(tbs);
  return nodeSign(scheme.hash, data, scheme.ec ? { key, dsaEncoding: "der" } : key);
}

// CA certificates' public keys, imported once per certificate.
const caPublicKeys = new WeakMap<x509.X509Certificate, KeyObject>();

/** assertSignedBy for a certificate (or any TBS) being built: `signature` over `tbs` must verify with the CA certificate's key. */
export async function assertTbsSignedBy(tbs: Buffer, signature: Buffer, signer: Signer): Promise<void> {
  if (provenPairs.get(signer.key)?.has(signer.certificate)) return;
  let ok = false;
  const scheme = nativeScheme(signer);
  try {
    if (scheme) {
      let pub = caPublicKeys.get(signer.certificate);
      if (!pub) {
        pub = createPublicKey({ key: Buffer.from(signer.certificate.publicKey.rawData), format: "der", type: "spki" });
        caPublicKeys.set(signer.certificate, pub);
      }
      ok = nodeVerify(scheme.hash, tbs, scheme.ec ? { key: pub, dsaEncoding: "der" } : pub, signature);
    }
  } catch {
    ok = false;
  }
  if (!ok) {
    // Not provable natively: the WebCrypto check on the assembled certificate, as assertSignedBy does.
    const algorithm = signatureAlgorithmDer(signer);
    return assertSignedBy(new x509.X509Certificate(new Uint8Array(sequence(tbs, algorithm, bitString(signature)))), signer);
  }
  proven(signer);
}

// CA certificates are parsed once per process (a PEM always parses to the same certificate).
const parsedCas = new Map<string, x509.X509Certificate>();
function parsedCaCertificate(pem: string, field: string): x509.X509Certificate {
  let cert = parsedCas.get(pem);
  if (!cert) {
    cert = parseCertificate(pem, field);
    if (parsedCas.size > 256) parsedCas.clear();
    parsedCas.set(pem, cert);
  }
  return cert;
}

// Signer key/certificate pairs proven to match (a signature made with the key verified with the
// certificate). The pairing of a key and a certificate never changes, so proving it once per process
// is enough; until proven, every signature is checked.
const provenPairs = new WeakMap<CryptoKey, Set<x509.X509Certificate>>();

/** Guards against a key id that does not belong to the CA certificate: the result must verify. */
export async function assertSignedBy(cert: x509.X509Certificate, signer: Signer): Promise<void> {
  if (provenPairs.get(signer.key)?.has(signer.certificate)) return;
  const ok = await cert.verify({ publicKey: signer.certificate.publicKey, signatureOnly: true }).catch(() => false);
  if (!ok) throw new PkiError("caKeyMismatch", "The CA key in the key store does not match the CA certificate");
  proven(signer);
}

function proven(signer: Signer): void {
  let set = provenPairs.get(signer.key);
  if (!set) provenPairs.set(signer.key, (set = new Set()));
  set.add(signer.certificate);
}

/** The CA must be valid at `now` to issue anything. */
export function assertCaCurrent(cert: x509.X509Certificate, now: Date, field = "ca"): void {
  if (now.getTime() >= cert.notAfter.getTime()) {
    throw new PkiError("caExpired", `The issuing CA expired on ${cert.notAfter.toISOString()}`, field);
  }
  if (now.getTime() + 5 * 60_000 < cert.notBefore.getTime()) {
    throw new PkiError("caExpired", `The issuing CA is not valid before ${cert.notBefore.toISOString()}`, field);
  }
}
