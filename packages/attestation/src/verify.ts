// Verification of an Apple `device-attest-01` attestation (draft-ietf-acme-device-attest;
// docs/protocol.md#device-attest-01 to #identifier-and-key-binding).
import { createHash, timingSafeEqual } from "node:crypto";
import { appleLeafProperties, type AppleLeafProperties } from "./apple-leaf";
import { DEFAULT_CBOR_LIMITS, decodeAttestationObject, type CborLimits } from "./cbor";
import { verifyCertificatePath } from "./chain";
import { DEFAULT_TRUSTED_ROOTS } from "./trust";
import { AttestationError } from "@attested/errors";

export interface VerifyAppleAttestationArgs {
  /** The CBOR attestation object (the base64url-decoded `attObj` of the challenge response). */
  attObj: Uint8Array;
  /** The challenge token, exactly as issued. */
  token: string;
  /** The order's permanent-identifier value. */
  identifier: string;
  /** PEM roots to trust. Default: Apple Enterprise Attestation Root CA only. */
  trustedRoots?: readonly string[];
  /** Time at which the chain must be valid. Default: now. */
  now?: Date;
  limits?: CborLimits;
}

export interface AppleAttestation extends AppleLeafProperties {
  fmt: "apple";
  freshnessCode: Buffer;
  /** Which attested property equals the order's identifier. */
  identifierMatched: "serialNumber" | "udid";
  /** Lowercase hex SHA-256 of the leaf DER. */
  leafFingerprint: string;
  leafNotBefore: Date;
  leafNotAfter: Date;
  /** Lowercase hex SHA-256 of the trusted root the chain ends at. */
  rootFingerprint: string;
  rootSubject: string;
  /** The x5c certificates of the path, DER, leaf first. */
  chain: Buffer[];
  authDataPresent: boolean;
}

/** SHA-256 of the token's UTF-8 bytes: what Apple puts in the freshness code (the token, not the key authorization). */
export function expectedFreshnessCode(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

/**
 * Verifies an Apple attestation for a device-attest-01 challenge: bounded CBOR, fmt "apple", the x5c
 * chain to a trusted root (every signature, validity at `now`), freshness code = SHA-256(token), and the
 * identifier = attested serial number or UDID. Returns what was proved, including the attested key
 * (the CSR at finalize must carry that key). Throws AttestationError with a precise `reason`.
 */
export async function verifyAppleAttestation(args: VerifyAppleAttestationArgs): Promise<AppleAttestation> {
  const { token, identifier } = args;
  const now = args.now ?? new Date();
  const obj = decodeAttestationObject(args.attObj, args.limits ?? DEFAULT_CBOR_LIMITS);
  const { path, anchor } = await verifyCertificatePath(obj.attStmt.x5c, args.trustedRoots ?? DEFAULT_TRUSTED_ROOTS, now);
  const leaf = path[0]!;
  const props = appleLeafProperties(leaf.extensions, leaf.publicKeySpki);

  const freshness = props.freshnessCode;
  if (freshness === undefined) {
    throw new AttestationError("nonceMissing", "the attestation has no freshness code (1.2.840.113635.100.8.11.1)");
  }
  const expected = expectedFreshnessCode(token);
  if (freshness.length !== expected.length || !timingSafeEqual(freshness, expected)) {
    throw new AttestationError("nonceMismatch", "the freshness code is not the SHA-256 of this challenge's token");
  }

  let identifierMatched: AppleAttestation["identifierMatched"];
  if (props.serialNumber !== undefined && identifier === props.serialNumber) identifierMatched = "serialNumber";
  else if (props.udid !== undefined && identifier === props.udid) identifierMatched = "udid";
  else {
    throw new AttestationError(
      "identifierMismatch",
      `the order's identifier "${identifier.slice(0, 128)}" is neither the attested serial number (${props.serialNumber ?? "none"}) nor UDID (${props.udid ?? "none"})`,
    );
  }

  return {
    ...props,
    fmt: "apple",
    freshnessCode: freshness,
    identifierMatched,
    leafFingerprint: leaf.fingerprint,
    leafNotBefore: leaf.notBefore,
    leafNotAfter: leaf.notAfter,
    rootFingerprint: anchor.fingerprint,
    rootSubject: anchor.cert.subject,
    chain: path.map((c) => c.der),
    authDataPresent: obj.authData !== undefined,
  };
}

/** JSON-safe summary of what an attestation proved: for storage, events and `/attestation/...` template variables. */
export function attestationSummary(a: AppleAttestation): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {
    format: a.fmt,
    identifierMatched: a.identifierMatched,
    leafFingerprint: a.leafFingerprint,
    leafNotBefore: a.leafNotBefore.toISOString(),
    leafNotAfter: a.leafNotAfter.toISOString(),
    rootFingerprint: a.rootFingerprint,
    rootSubject: a.rootSubject,
    freshnessCode: a.freshnessCode.toString("hex"),
    publicKeySpki: a.publicKeySpki.toString("base64"),
  };
  const optional = [
    "serialNumber",
    "udid",
    "softwareUpdateDeviceId",
    "osVersion",
    "sepOsVersion",
    "llbVersion",
    "sipStatus",
    "secureBootLevel",
    "thirdPartyKexts",
  ] as const;
  for (const k of optional) {
    const v = a[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}
