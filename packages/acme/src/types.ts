import type { ProblemDocument } from "./problems";

export type ChallengeType = "device-attest-01" | "http-01" | "dns-01";
export const CHALLENGE_TYPES: readonly ChallengeType[] = ["device-attest-01", "http-01", "dns-01"];

/** Identifier types this server understands (RFC 8555 §9.7.7, RFC 8738, draft-ietf-acme-device-attest). */
export type IdentifierType = "permanent-identifier" | "dns" | "ip";
export const IDENTIFIER_TYPES: readonly IdentifierType[] = ["permanent-identifier", "dns", "ip"];

export interface Identifier {
  type: IdentifierType;
  value: string;
}

/** One ACME endpoint set, resolved by the caller from the request URL (e.g. the enrollment secret). */
export interface AcmePlatform {
  id: string;
  /** Absolute URL every resource URL is built from, e.g. `https://pki.example.com/acme/<secret>`. */
  baseUrl: string;
  allowedChallenges: ChallengeType[];
  allowedIdentifierTypes: IdentifierType[];
  /** Overrides the server-wide directory meta for this platform. */
  meta?: Partial<DirectoryMetaOptions>;
}

export interface DirectoryMetaOptions {
  termsOfService?: string;
  website?: string;
  caaIdentities?: string[];
  /** Reject newAccount without `termsOfServiceAgreed: true` (only when termsOfService is set). */
  requireTermsOfServiceAgreement?: boolean;
}

// ------------------------------------------------------------------ stored records (RFC 8555 §7.1)

export type AccountStatus = "valid" | "deactivated" | "revoked";
export type OrderStatus = "pending" | "ready" | "processing" | "valid" | "invalid";
export type AuthorizationStatus = "pending" | "valid" | "invalid" | "deactivated" | "expired" | "revoked";
export type ChallengeStatus = "pending" | "processing" | "valid" | "invalid";

/** A public JWK as stored (only the members the thumbprint covers). */
export type PublicJwk = Record<string, string>;

export interface AccountRecord {
  id: string;
  platformId: string;
  jwkThumbprint: string;
  jwk: PublicJwk;
  status: AccountStatus;
  contact: string[];
  createdAt: Date;
}

export interface OrderRecord {
  id: string;
  accountId: string;
  status: OrderStatus;
  identifiers: Identifier[];
  notBefore: Date | null;
  notAfter: Date | null;
  expires: Date;
  error: ProblemDocument | null;
  certificateId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface AuthorizationRecord {
  id: string;
  orderId: string;
  identifierType: IdentifierType;
  /** For a wildcard order, the base domain (without "*."), RFC 8555 §7.1.4. */
  identifierValue: string;
  status: AuthorizationStatus;
  expires: Date;
  wildcard: boolean;
  /** device-attest-01: the attested public key, SubjectPublicKeyInfo DER. */
  attestedKeySpki: Buffer | null;
  /** device-attest-01: what the attestation proved (serial number, UDID, OS versions, ...). */
  attestation: Record<string, unknown> | null;
}

export interface ChallengeRecord {
  id: string;
  authorizationId: string;
  type: ChallengeType;
  token: string;
  status: ChallengeStatus;
  validated: Date | null;
  error: ProblemDocument | null;
}

export interface AuthorizationWithChallenges extends AuthorizationRecord {
  challenges: ChallengeRecord[];
}

// ------------------------------------------------------------------ injected validators

export interface KeyAuthorizationContext {
  type: "http-01" | "dns-01";
  identifier: Identifier;
  wildcard: boolean;
  token: string;
  /** token || "." || base64url(JWK thumbprint), RFC 8555 §8.1. */
  keyAuthorization: string;
  platformId: string;
  accountId: string;
}

/** Resolves when the challenge is met; throws an AcmeProblem (connection, dns, incorrectResponse...) otherwise. */
export type KeyAuthorizationValidator = (ctx: KeyAuthorizationContext) => Promise<void>;

export interface DeviceAttestArgs {
  token: string;
  /** The decoded `attObj` (CBOR bytes), draft-ietf-acme-device-attest. */
  attObj: Uint8Array;
  identifier: Identifier;
  platformId: string;
  accountId: string;
}

export interface DeviceAttestResult {
  /** The attested public key as SubjectPublicKeyInfo DER. */
  publicKeySpki: Uint8Array;
  attested: Record<string, unknown>;
}

/**
 * Verifies an attestation. Throws when it does not verify: an AcmeProblem is passed through as is;
 * an error carrying a string `reason` becomes badAttestationStatement with that reason and message;
 * any other error becomes badAttestationStatement with a generic detail (and is reported to onError).
 */
export type DeviceAttestValidator = (args: DeviceAttestArgs) => Promise<DeviceAttestResult>;

export interface Validators {
  "http-01"?: KeyAuthorizationValidator;
  "dns-01"?: KeyAuthorizationValidator;
  "device-attest-01"?: DeviceAttestValidator;
}

// ------------------------------------------------------------------ certificate hooks

export interface IssueArgs {
  order: OrderRecord;
  account: AccountRecord;
  /** The CSR (DER) as sent, already parsed and its self-signature verified. */
  csrDer: Uint8Array;
  authorizations: AuthorizationRecord[];
  platformId: string;
}

export interface IssueResult {
  certificateId: string;
  chainPem: string;
}

/**
 * Issues the certificate for an order in processing, and records it and the order's move to `valid` with
 * it (`certificateId`) together: a certificate is recorded only with its order completed, and the other
 * way round. Throw an AcmeProblem to refuse: `badCSR` leaves the order
 * `ready` (RFC 8555 §7.4 SHOULD, so the client may retry with another CSR); any other problem makes
 * the order `invalid` with that error. Any other exception makes it `invalid` with serverInternal.
 */
export type IssueHook = (args: IssueArgs) => Promise<IssueResult>;

/** PEM chain (leaf first) for download, or null when the certificate is unknown. */
export type CertificateChainHook = (args: { certificateId: string; platformId: string }) => Promise<string | null>;

export interface KnownCertificate {
  certificateId: string;
  /** The ACME order it was issued for, if any (ownership check for revocation by account). */
  acmeOrderId: string | null;
  revoked: boolean;
}

/** Finds a certificate this CA issued, by its DER. */
export type FindCertificateHook = (args: { der: Uint8Array; platformId: string }) => Promise<KnownCertificate | null>;

export interface RevokeArgs {
  certificateId: string;
  /** RFC 5280 CRLReason code. */
  reason: number;
  platformId: string;
  /**
   * Who asked (RFC 8555 §7.6): the account that ordered it, another account holding valid
   * authorizations for all its identifiers (both kid), or the holder of the certificate's key (jwk).
   */
  requestedBy: { kind: "account" | "authorizations"; accountId: string } | { kind: "certificate-key" };
}

export type RevokeCertificateHook = (args: RevokeArgs) => Promise<void>;

// ------------------------------------------------------------------ events (for the audit trail)

export type AcmeEventType =
  | "account-created"
  | "account-updated"
  | "account-deactivated"
  | "account-key-changed"
  | "order-created"
  | "authorization-deactivated"
  | "challenge-valid"
  | "challenge-invalid"
  | "finalize-rejected"
  | "order-invalid"
  | "certificate-issued"
  | "certificate-revoked";

/** The ids every ACME event carries: the platform, and the account, order, authorization and challenge it is about. */
interface AcmeEventIds {
  platformId: string;
  /** Absent only for revocation by certificate key. */
  accountId?: string;
  orderId?: string;
  authorizationId?: string;
  challengeId?: string;
}

/** What each ACME event says beyond its ids (the audit trail stores these keys as they are). */
export interface AcmeEventDetails {
  "account-created": { contact: string[]; jwkThumbprint: string; keyType: string };
  "account-updated": { contact: string[]; previousContact: string[] };
  "account-deactivated": Record<string, never>;
  "account-key-changed": { oldThumbprint: string; newThumbprint: string };
  "order-created": { identifiers: Identifier[]; challenges: Record<string, ChallengeType[]> };
  "authorization-deactivated": { identifier: Identifier };
  "challenge-valid": { challengeType: ChallengeType; identifier: Identifier; attested?: Record<string, unknown> };
  "challenge-invalid": { challengeType: ChallengeType; identifier: Identifier; error: ProblemDocument; adminDetail?: string };
  "finalize-rejected": { error: ProblemDocument };
  "order-invalid": { error: ProblemDocument };
  "certificate-issued": { certificateId: string; identifiers: Identifier[] };
  "certificate-revoked": { certificateId: string; serialNumber: string; reason: string | undefined; reasonCode: number; by: RevokeArgs["requestedBy"]["kind"] };
}

/** One ACME event: a discriminated union on `type`, each with its own details. */
export type AcmeEvent = { [T in AcmeEventType]: AcmeEventIds & { type: T; details: AcmeEventDetails[T] } }[AcmeEventType];

/** The ACME event of one type. */
export type AcmeEventOf<T extends AcmeEventType> = Extract<AcmeEvent, { type: T }>;

export type EventHook = (e: AcmeEvent) => void | Promise<void>;

export type ErrorHook = (err: unknown, context: { platformId?: string; path?: string; stage: string }) => void;
