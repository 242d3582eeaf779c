// The default trust anchor: Apple Enterprise Attestation Root CA
// (docs/protocol.md#apples-chain-and-root). Any other root (such as the
// device simulator's) must be passed explicitly by the caller; nothing here trusts it silently.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { APPLE_ENTERPRISE_ATTESTATION_ROOT_CA_PEM } from "./apple-root";

export { APPLE_ENTERPRISE_ATTESTATION_ROOT_CA_PEM };

/** SHA-256 of the root's DER, as published (docs/protocol.md#apples-chain-and-root). */
export const APPLE_ENTERPRISE_ATTESTATION_ROOT_CA_SHA256 = "CC:F5:9E:F8:FC:B3:01:7D:97:F8:B5:FA:6F:A9:0E:7A:3F:92:83:F7:6B:55:AC:6C:F6:ED:A8:B8:B9:49:F0:5B";

/**
 * Path of the PEM file shipped in the package (data/). Resolved on call, not at import, so a bundle
 * that rewrites import.meta.url cannot break importing this module; verification never needs the file.
 */
export function appleRootPemFilePath(): string {
  return fileURLToPath(new URL("../data/apple-enterprise-attestation-root-ca.pem", import.meta.url));
}

/** Reads the shipped PEM file. The string constant is what verification uses by default. */
export function readAppleRootPemFile(): string {
  return readFileSync(appleRootPemFilePath(), "utf8");
}

/** The roots `verifyAppleAttestation` trusts when none are given: Apple's, and only Apple's. */
export const DEFAULT_TRUSTED_ROOTS: readonly string[] = Object.freeze([APPLE_ENTERPRISE_ATTESTATION_ROOT_CA_PEM]);
