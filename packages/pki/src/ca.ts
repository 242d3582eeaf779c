import { z } from "zod";
import { formatDn, fromX509Name, toX509Name } from "./dn";
import { fingerprint, parseCertificate, randomSerialNumber, toSecond } from "./encoding";
import { authorityKeyIdentifier, revocationExtensions, revocationUrlsSchema, subjectKeyIdentifier } from "./extensions";
import type { KeyStore } from "./key-store";
import { keyAlgorithmSchema, signatureAlgorithmSchema, signingAlgorithm, type KeyAlgorithm, type SignatureAlgorithm } from "./keys";
import { crypto, cryptoFor, x509 } from "./provider";
import { assertCaCurrent, assertSignedBy, loadSigner, type CaRef } from "./signer";
import { PkiError, invalidInput } from "@attested/errors";

// "Add Certificate Authority" (guide: Creating an Intermediate CA). The key is generated in the
// KeyStore ("Internal system (private key locked and non-exportable)") and never leaves it.

const CLOCK_SKEW_MS = 60_000;

export const caInputSchema = z.object({
  commonName: z
    .string({ message: "Common Name is required" })
    .trim()
    .min(1, "Common Name is required")
    .max(64, "Common Name must be at most 64 characters")
    .refine((v) => !/[\x00-\x1f\x7f]/.test(v), "Common Name may not contain control characters"),
  keyAlgorithm: keyAlgorithmSchema,
  signatureAlgorithm: signatureAlgorithmSchema,
  validityYears: z.coerce
    .number({ message: "Validity Period must be a number of years" })
    .int("Validity Period must be a whole number of years")
    .min(1, "Validity Period must be at least 1 year")
    .max(30, "Validity Period must be at most 30 years"),
  now: z.date().optional(),
});
export type CaInput = z.input<typeof caInputSchema>;

/** A key pair already in a key store (generated in an HSM, or found there by label): used instead of a new one. */
export interface ExistingCaKey {
  keyId: string;
  publicKey: CryptoKey;
}

export interface CreateRootCaInput extends CaInput {
  keyStore: KeyStore;
  key?: ExistingCaKey;
}

export interface CreateIntermediateCaInput extends CaInput {
  keyStore: KeyStore;
  key?: ExistingCaKey;
  parent: CaRef;
  /** The parent's CRL, OCSP responder and certificate URLs, written into the intermediate. */
  crlUrl: string;
  ocspUrl: string;
  caIssuersUrl?: string;
}

/** What the portal stores for a CA (besides its sealed key, which the KeyStore persisted). */
export interface CaCertificate {
  keyId: string;
  certificatePem: string;
  subjectDn: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  sha256Fingerprint: string;
  sha1Fingerprint: string;
  keyAlgorithm: KeyAlgorithm;
  signatureAlgorithm: SignatureAlgorithm;
}

/** Facts about any certificate, for lists and detail pages. */
export interface CertificateSummary {
  subjectDn: string;
  issuerDn: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  sha256Fingerprint: string;
  sha1Fingerprint: string;
  isCa: boolean;
}

export function describeCertificate(certificatePem: string): CertificateSummary {
  const cert = parseCertificate(certificatePem, "certificatePem", "invalidInput");
  return {
    subjectDn: formatDn(fromX509Name(cert.subjectName)),
    issuerDn: formatDn(fromX509Name(cert.issuerName)),
    serialNumber: cert.serialNumber.toLowerCase(),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    sha256Fingerprint: fingerprint(cert.rawData, "sha256"),
    sha1Fingerprint: fingerprint(cert.rawData, "sha1"),
    isCa: !!cert.getExtension(x509.BasicConstraintsExtension)?.ca,
  };
}

function parseInput(input: CaInput) {
  const r = caInputSchema.safeParse(input);
  if (!r.success) throw invalidInput(r.error.issues);
  return r.data;
}

function addYears(d: Date, years: number): Date {
  const r = new Date(d);
  r.setUTCFullYear(r.getUTCFullYear() + years);
  return r;
}

// keyCertSign + cRLSign for a CA; digitalSignature too, because our CAs sign their own OCSP
// responses and RFC 5280 §4.2.1.3 reserves that bit for signatures other than on certificates and CRLs.
const CA_KEY_USAGE = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature;

// The certificate's key as SPKI bytes: the signing provider (an HSM's) need not know this process's keys.
const spki = async (publicKey: CryptoKey) => new Uint8Array(await crypto.subtle.exportKey("spki", publicKey)).buffer;

function result(cert: x509.X509Certificate, keyId: string, keyAlgorithm: KeyAlgorithm, signatureAlgorithm: SignatureAlgorithm): CaCertificate {
  const s = describeCertificate(cert.toString("pem"));
  return {
    keyId,
    certificatePem: `${cert.toString("pem")}\n`,
    subjectDn: s.subjectDn,
    serialNumber: s.serialNumber,
    notBefore: s.notBefore,
    notAfter: s.notAfter,
    sha256Fingerprint: s.sha256Fingerprint,
    sha1Fingerprint: s.sha1Fingerprint,
    keyAlgorithm,
    signatureAlgorithm,
  };
}

/** A self-signed root: basicConstraints CA (critical), keyUsage (critical), SKI. */
export async function createRootCa(input: CreateRootCaInput): Promise<CaCertificate> {
  const p = parseInput(input);
  const now = p.now ?? new Date();
  const { keyId, publicKey } = input.key ?? (await input.keyStore.create(p.keyAlgorithm));
  const privateKey = await input.keyStore.privateKey(keyId, p.signatureAlgorithm);
  const name = toX509Name([{ type: "CN", oid: "2.5.4.3", value: p.commonName }]);
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerialNumber(),
      subject: name,
      issuer: name,
      notBefore: toSecond(new Date(now.getTime() - CLOCK_SKEW_MS)),
      notAfter: toSecond(addYears(now, p.validityYears)),
      publicKey: await spki(publicKey),
      signingKey: privateKey,
      signingAlgorithm: signingAlgorithm(privateKey, p.signatureAlgorithm),
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(CA_KEY_USAGE, true),
        await subjectKeyIdentifier(publicKey),
      ],
    },
    cryptoFor(privateKey),
  );
  // The key id may name a key that is not the public key's (an HSM label reused): the root must verify itself.
  if (!(await cert.verify({ signatureOnly: true }).catch(() => false))) {
    throw new PkiError("caKeyMismatch", "The CA key in the key store does not match its public key");
  }
  return result(cert, keyId, p.keyAlgorithm, p.signatureAlgorithm);
}

/**
 * An intermediate signed by `parent`: pathLen 0 (it issues only end-entity certificates), AKI, CRL DP
 * and AIA pointing at the parent; its validity is clipped to the parent's notAfter.
 */
export async function createIntermediateCa(input: CreateIntermediateCaInput): Promise<CaCertificate> {
  const p = parseInput(input);
  const urls = revocationUrlsSchema.safeParse({ crlUrl: input.crlUrl, ocspUrl: input.ocspUrl, caIssuersUrl: input.caIssuersUrl });
  if (!urls.success) throw invalidInput(urls.error.issues);
  const now = p.now ?? new Date();
  // The parent signs with its own Signature Algorithm; the new CA's applies to what it signs later.
  const parent = await loadSigner(input.parent, input.keyStore, "parent");
  assertCaCurrent(parent.certificate, now, "parent");
  const parentBc = parent.certificate.getExtension(x509.BasicConstraintsExtension)!;
  if (parentBc.pathLength === 0) {
    throw new PkiError("badCaCertificate", "The parent CA may not issue intermediate CAs (its pathLen is 0)", "parent");
  }
  const notAfter = new Date(Math.min(addYears(now, p.validityYears).getTime(), parent.certificate.notAfter.getTime()));
  const notBefore = new Date(Math.max(now.getTime() - CLOCK_SKEW_MS, parent.certificate.notBefore.getTime()));
  const { keyId, publicKey } = input.key ?? (await input.keyStore.create(p.keyAlgorithm));
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerialNumber(),
      subject: toX509Name([{ type: "CN", oid: "2.5.4.3", value: p.commonName }]),
      issuer: parent.certificate.subjectName,
      notBefore: toSecond(notBefore),
      notAfter: toSecond(notAfter),
      publicKey: await spki(publicKey),
      signingKey: parent.key,
      signingAlgorithm: parent.algorithm,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(CA_KEY_USAGE, true),
        await subjectKeyIdentifier(publicKey),
        await authorityKeyIdentifier(parent.certificate),
        ...revocationExtensions(urls.data),
      ],
    },
    cryptoFor(parent.key),
  );
  await assertSignedBy(cert, parent);
  return result(cert, keyId, p.keyAlgorithm, p.signatureAlgorithm);
}
