import type { AlgorithmIdentifier } from "@peculiar/asn1-x509";
import { parseCertificate } from "./encoding";
import { PkiError } from "./errors";
import type { KeyStore } from "./key-store";
import { assertSignatureAlgorithm, signingAlgorithm, type SignatureAlgorithm } from "./keys";
import { crypto, x509 } from "./provider";

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
export async function loadSigner(
  ca: CaRef,
  keyStore: KeyStore,
  field = "ca",
  hash: SignatureAlgorithm = ca.signatureAlgorithm,
): Promise<Signer> {
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
  const raw = await crypto.subtle.sign(signer.algorithm, signer.key, tbs);
  // ECDSA: WebCrypto returns r||s, X.509 wants the DER ECDSA-Sig-Value.
  const signature = new x509.AsnEcSignatureFormatter().toAsnSignature(signer.algorithm, raw) ?? raw;
  return { algorithm, signature };
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
