export { APPLE_OID } from "./oids";
export {
  DEFAULT_CBOR_LIMITS,
  decodeAttestationObject,
  scanCbor,
  type AttestationObject,
  type CborLimits,
} from "./cbor";
export { certificateFingerprint, parseAppleLeaf, type AppleLeafProperties, type CertificateInput } from "./apple-leaf";
export { MAX_CHAIN_LENGTH, verifyCertificatePath, type VerifiedPath } from "./chain";
export {
  attestationSummary,
  expectedFreshnessCode,
  verifyAppleAttestation,
  type AppleAttestation,
  type VerifyAppleAttestationArgs,
} from "./verify";
export {
  APPLE_ENTERPRISE_ATTESTATION_ROOT_CA_PEM,
  APPLE_ENTERPRISE_ATTESTATION_ROOT_CA_SHA256,
  DEFAULT_TRUSTED_ROOTS,
  appleRootPemFilePath,
  readAppleRootPemFile,
} from "./trust";
export { samePublicKey } from "./spki";
