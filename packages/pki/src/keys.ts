import { z } from "zod";
import { crypto } from "./provider";
import { PkiError } from "@attested/errors";

// Key sizes offered by the "Key Size" drop-down: the guide's RSA 2048, plus 3072, 4096, EC P-256 and P-384
// (docs/guide.md#creating-an-intermediate-ca).
export const KEY_ALGORITHMS = ["RSA-2048", "RSA-3072", "RSA-4096", "EC-P256", "EC-P384"] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];
export const KEY_ALGORITHM_LABELS: Record<KeyAlgorithm, string> = {
  "RSA-2048": "RSA 2048",
  "RSA-3072": "RSA 3072",
  "RSA-4096": "RSA 4096",
  "EC-P256": "EC P-256",
  "EC-P384": "EC P-384",
};

export const SIGNATURE_ALGORITHMS = ["SHA-256", "SHA-384", "SHA-512"] as const;
export type SignatureAlgorithm = (typeof SIGNATURE_ALGORITHMS)[number];

export const keyAlgorithmSchema = z.enum(KEY_ALGORITHMS, {
  message: `Key Size must be one of ${Object.values(KEY_ALGORITHM_LABELS).join(", ")}`,
});
export const signatureAlgorithmSchema = z.enum(SIGNATURE_ALGORITHMS, {
  message: "Signature Algorithm must be SHA-256, SHA-384 or SHA-512",
});

export function assertKeyAlgorithm(value: unknown, field = "keyAlgorithm"): KeyAlgorithm {
  const r = keyAlgorithmSchema.safeParse(value);
  if (!r.success) throw new PkiError("unsupportedAlgorithm", r.error.issues[0].message, field);
  return r.data;
}

export function assertSignatureAlgorithm(value: unknown, field = "signatureAlgorithm"): SignatureAlgorithm {
  const r = signatureAlgorithmSchema.safeParse(value);
  if (!r.success) throw new PkiError("unsupportedAlgorithm", r.error.issues[0].message, field);
  return r.data;
}

const isRsa = (alg: KeyAlgorithm) => alg.startsWith("RSA-");
const CURVES = { "EC-P256": "P-256", "EC-P384": "P-384" } as const;
const RSA_ALGORITHM = "RSASSA-PKCS1-v1_5";

/** WebCrypto parameters to import a key of `alg`; for RSA the signature hash is part of the key. */
export function keyImportParams(alg: KeyAlgorithm, hash: SignatureAlgorithm = "SHA-256"): RsaHashedImportParams | EcKeyImportParams {
  return isRsa(alg) ? { name: RSA_ALGORITHM, hash } : { name: "ECDSA", namedCurve: CURVES[alg as keyof typeof CURVES] };
}

export function keyGenParams(alg: KeyAlgorithm): RsaHashedKeyGenParams | EcKeyGenParams {
  if (!isRsa(alg)) return keyImportParams(alg) as EcKeyGenParams;
  return {
    name: RSA_ALGORITHM,
    modulusLength: Number(alg.slice(4)),
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: "SHA-256",
  };
}

/** Generates a signing key pair. The private key is extractable only when asked (a key store must seal it). */
export async function generateKeyPair(alg: KeyAlgorithm, extractable = false): Promise<CryptoKeyPair> {
  assertKeyAlgorithm(alg);
  return crypto.subtle.generateKey(keyGenParams(alg), extractable, ["sign", "verify"]);
}

/** The WebCrypto signature algorithm for a key: RSASSA-PKCS1-v1_5 or ECDSA, with `hash`. */
export function signingAlgorithm(key: CryptoKey, hash: SignatureAlgorithm): RsaHashedImportParams | EcdsaParams {
  const name = key.algorithm.name;
  if (name === RSA_ALGORITHM) return { name, hash };
  if (name === "ECDSA") return { name, hash };
  throw new PkiError("unsupportedAlgorithm", `Keys of type ${name} cannot sign certificates`);
}

/** The KeyAlgorithm of a WebCrypto key, if it is one we offer. */
export function keyAlgorithmOf(key: CryptoKey): KeyAlgorithm | undefined {
  const a = key.algorithm as Partial<RsaHashedKeyAlgorithm & EcKeyAlgorithm>;
  if (a.name === RSA_ALGORITHM || a.name === "RSA-PSS") {
    const alg = `RSA-${a.modulusLength}`;
    return (KEY_ALGORITHMS as readonly string[]).includes(alg) ? (alg as KeyAlgorithm) : undefined;
  }
  if (a.name === "ECDSA" || a.name === "ECDH") {
    return a.namedCurve === "P-256" ? "EC-P256" : a.namedCurve === "P-384" ? "EC-P384" : undefined;
  }
  return undefined;
}
