// @attested/pki: CA creation, certificate templates, issuance, CRLs and OCSP. Pure functions and
// small interfaces; the caller persists everything (sealed keys through SealedKeyPersistence).
export {
  KEY_ALGORITHMS,
  KEY_ALGORITHM_LABELS,
  SIGNATURE_ALGORITHMS,
  keyAlgorithmSchema,
  signatureAlgorithmSchema,
  generateKeyPair,
  signingAlgorithm,
  keyAlgorithmOf,
  type KeyAlgorithm,
  type SignatureAlgorithm,
} from "./keys";
export {
  SealedKeyStore,
  memoryKeyPersistence,
  type KeyStore,
  type SealedKeyRecord,
  type SealedKeyPersistence,
  type SealedKeyStoreOptions,
} from "./key-store";
export {
  Pkcs11KeyStore,
  RoutedKeyStore,
  KEY_LABEL_PATTERN,
  isPkcs11KeyId,
  pkcs11KeyId,
  pkcs11KeyLabel,
  type Pkcs11Options,
} from "./pkcs11-key-store";
export {
  caInputSchema,
  createRootCa,
  createIntermediateCa,
  describeCertificate,
  type CaInput,
  type CaCertificate,
  type CertificateSummary,
  type CreateRootCaInput,
  type CreateIntermediateCaInput,
  type ExistingCaKey,
} from "./ca";
export type { CaRef } from "./signer";
export { revocationUrlsSchema, type RevocationUrls } from "./extensions";
export { formatDn, parseDn, type DnAttribute } from "./dn";
export { isEmail, isDnsName, isUri, UPN_OID, type San, type SanType, type CsrSans } from "./san";
export {
  VARIABLE_ROOTS,
  renderTemplate,
  deviceVariables,
  unsourcedDeviceVariables,
  type TemplateSource,
  type UnsourcedVariable,
  parseTemplateString,
  checkTemplateField,
  type TemplateContext,
  type RenderableTemplate,
  type RenderResult,
} from "./template";
export {
  EXTENDED_KEY_USAGES,
  templateInputSchema,
  certificateTemplateSchema,
  validateTemplateInput,
  parseTemplateInput,
  parseCertificateTemplate,
  templateNotAfter,
  ekuOid,
  type ExtendedKeyUsageName,
  type TemplateInput,
  type CertificateTemplate,
  type TemplateValidation,
} from "./template-schema";
export { SAMPLE_CONTEXT, deviceContext, previewTemplate, type TemplatePreview } from "./preview";
export { parseCsr, csrContext, checkPublicKey, type ParsedCsr, type PublicKeyInfo } from "./csr";
export { issueCertificate, type IssueInput, type IssuedCertificate } from "./issue";
export {
  REVOCATION_REASONS,
  REASON_CODES,
  REASON_CODE_LABELS,
  reasonFromLabel,
  buildCrl,
  type RevocationReason,
  type ReasonCodeLabel,
  type RevokedEntry,
  type BuildCrlInput,
} from "./crl";
export {
  parseOcspRequest,
  buildOcspResponse,
  ocspErrorResponse,
  matchesIssuer,
  type OcspCertId,
  type OcspRequestInfo,
  type OcspEntry,
  type OcspCertStatus,
  type BuildOcspResponseInput,
} from "./ocsp";
export { fingerprint, normalizeSerial, randomSerialNumber } from "./encoding";
