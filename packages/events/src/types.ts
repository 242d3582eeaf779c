/** Who did something. Every server action and route resolves one before touching data. */
export interface Actor {
  type: "user" | "api-token" | "device" | "system" | "anonymous";
  id?: string;
  name?: string;
  role?: "ADMIN" | "AUDITOR";
}

export const systemActor = (name: string): Actor => ({ type: "system", name });

export type Outcome = "success" | "failure" | "denied";

/** Event type names, as an auditor reads them on General Events. */
export const EventType = {
  SignIn: "Sign In",
  SignInFailed: "Sign-in Failed",
  SignOut: "Sign Out",
  AccessDenied: "Access Denied",
  UserCreated: "User Created",
  UserUpdated: "User Updated",
  PasswordReset: "Password Reset",
  PasswordChanged: "Password Changed",
  SecondFactorEnabled: "Two-Factor Enabled",
  SecondFactorReset: "Two-Factor Reset",
  ApiTokenCreated: "API Token Created",
  ApiTokenRevoked: "API Token Revoked",
  OrganizationCreated: "Organization Created",
  SettingsUpdated: "Settings Updated",
  CaCreated: "Certificate Authority Created",
  CaUpdated: "Certificate Authority Updated",
  CaKeyGenerated: "CA Key Generated",
  CaKeyUnavailable: "CA Key Unavailable",
  TemplateCreated: "Certificate Template Created",
  TemplateUpdated: "Certificate Template Updated",
  TemplateDeleted: "Certificate Template Deleted",
  CertificateIssued: "Certificate Issued",
  CertificateRevoked: "Certificate Revoked",
  CertificateHoldReleased: "Certificate Hold Released",
  CrlPublished: "CRL Published",
  PlatformCreated: "Device Management Platform Created",
  PlatformUpdated: "Device Management Platform Updated",
  PlatformSecretRotated: "Enrollment Secret Rotated",
  ProfileDownloaded: "Profile Downloaded",
  ProfilePublished: "Profile Published",
  ProfilePublishFailed: "Profile Publish Failed",
  KeyAttestationPlatformCreated: "Key Attestation Platform Created",
  KeyAttestationPlatformUpdated: "Key Attestation Platform Updated",
  TestRootTrusted: "Test Root Trusted",
  CorePlatformCreated: "Core Platform Created",
  CorePlatformUpdated: "Core Platform Updated",
  CorePlatformDeleted: "Core Platform Deleted",
  CorePlatformValidated: "Core Platform Validated",
  CorePlatformAlert: "Core Platform Alert",
  CorePlatformAlertCleared: "Core Platform Alert Cleared",
  PolicyCreated: "Policy Created",
  PolicyUpdated: "Policy Updated",
  PolicyDeleted: "Policy Deleted",
  AcmeAccountCreated: "ACME Account Created",
  AcmeAccountUpdated: "ACME Account Updated",
  AcmeOrderCreated: "ACME Order Created",
  ChallengeValidated: "Challenge Validated",
  ChallengeFailed: "Challenge Failed",
  AttestationVerified: "Attestation Verified",
  AttestationFailed: "Attestation Failed",
  EnrollmentDenied: "Enrollment Denied",
  DeviceLookupFailed: "Device Lookup Failed",
  RadiusAuthentication: "RADIUS Authentication",
  MailSent: "Mail Sent",
  MailFailed: "Mail Failed",
  JobFailed: "Job Failed",
  EventsExported: "Events Exported",
  EventsPurged: "Events Purged",
  FleetSweepStarted: "Fleet Sweep Started",
  FleetSweepCompleted: "Fleet Sweep Completed",
  FleetSweepFailed: "Fleet Sweep Failed",
} as const;
export type EventTypeName = (typeof EventType)[keyof typeof EventType];

/** What an event is about, as the trail's objectType column names it. */
export type ObjectType =
  | "api-token"
  | "certificate"
  | "certificate-authority"
  | "certificate-template"
  | "core-platform"
  | "device-management-platform"
  | "device-role"
  | "enrollment-policy"
  | "events"
  | "job"
  | "key-attestation-platform"
  | "mail"
  | "organization"
  | "policy-workflow"
  | "security-signal-source"
  | "settings"
  | "user";

export interface EventObject {
  type: ObjectType;
  id?: string;
  name?: string;
}

/** An object named in details: its id and the name an auditor knows it by. */
export interface Named {
  id: string;
  name: string;
}

/** A configuration object as its audit view shows it (no secrets), or the changed part of it. */
export type Snapshot = Record<string, unknown>;

/** A create/update event's before and after (only what changed, where the caller says so). */
export interface Change {
  changed?: string[];
  before: Snapshot;
  after: Snapshot;
}

/** An ACME identifier (RFC 8555 §9.7.7) as the ACME events carry it. */
export interface AuditIdentifier {
  type: string;
  value: string;
}

/** The ACME event's ids, spread into every ACME audit event's details. */
interface AcmeIds {
  accountId?: string;
  orderId?: string;
  authorizationId?: string;
}

interface ChallengeDetails extends AcmeIds {
  challengeType: string;
  identifier: AuditIdentifier;
  /** device-attest-01: what the attestation proved. */
  attested?: Record<string, unknown>;
}

interface ChallengeFailedDetails extends ChallengeDetails {
  reason?: string;
  /** The RFC 7807 problem the client got. */
  error: { type: string; detail?: string; [k: string]: unknown };
  /** What only an admin is told (e.g. the Apple chain that did not verify). */
  adminDetail?: string;
}

/** Publish to Kandji: where the profile went, and why (an admin's click or a secret rotation). */
interface PublishDetails {
  corePlatform: Named | null;
  blueprintIds: string[];
  trigger: "manual" | "rotation";
}

interface MailDetails {
  kind: string;
  recipient: string;
  destination?: string | null;
  subject?: string;
  attempts?: number;
  notificationId?: string;
  messageId?: string;
  error?: string;
}

interface DeviceLookupFailedDetails {
  /** Enrollment: the policy whose lookup failed, the enrollment's platform and the lookup itself. */
  enrollmentPolicy?: { id: string; name: string; priority: number };
  platform?: { id: string; name: string; vendor: string };
  lookup?: unknown;
  /** Revoke On Failure and RADIUS: the source and Core Platform, and what failed. */
  signalSource?: Named | null;
  corePlatform?: Named;
  revokeOnFailure?: boolean;
  identity?: string;
  failedCheck?: string;
  failedRules?: unknown;
  httpStatus?: number | null;
  url?: string | null;
  reason?: string;
  certificates?: string[];
  [k: string]: unknown;
}

/** Where a CA key lives, as the CA Key events name it (never a PIN; no "key…"/"token" names, which the trail redacts). */
interface CaKeyDetails {
  storage: "pkcs11" | "internal";
  /** The token, as configured: `token "CA Keys"` or `slot 0`. */
  hsm?: string;
  label?: string;
  error?: string;
}

/** A Revoke On Failure pass over a Core Platform's whole inventory (packages/lifecycle). */
interface FleetSweepDetails {
  corePlatform: Named;
  signalSources: Named[];
  paging: string;
  /** Devices holding active certificates through these sources. */
  certificateDevices: number;
  pagesRead?: number;
  requests?: number;
  durationMs?: number;
}

/** What an Enrollment Denied event keeps for auditors: the full reason and the decision's inputs. */
export interface EnrollmentDeniedDetails {
  code: string;
  reason: string;
  /** The message the device was given. */
  problem: string;
  orderId: string;
  accountId: string;
  identifiers: AuditIdentifier[];
  attestation?: Record<string, unknown>;
  decision?: Record<string, unknown>;
  policy?: { id: string; name: string; priority: number };
  csrKey?: string;
  unproven?: { kind: string; value: string }[];
}

/**
 * The details each event type stores, keyed by its type name. The stored JSON keys are exactly these
 * (the portal, the CSV export and the tests read them); secrets are scrubbed whatever is passed.
 */
export interface EventDetails {
  "Sign In": { ip?: string | null; secondFactor?: string; method?: "sso"; issuer?: string; groups?: string[] };
  "Sign-in Failed": { reason: string; ip?: string | null; method?: "sso"; issuer?: string; groups?: string[]; sessionsEnded?: boolean };
  "Sign Out": Record<string, never>;
  "Access Denied": { action: string; role: string | null };
  "User Created": { role: string };
  "User Updated": { before: Snapshot; after: Snapshot; changed?: string[] };
  "Password Reset": Record<string, never>;
  "Password Changed": Record<string, never>;
  "Two-Factor Enabled": { method: "totp"; recoveryCodes: number };
  "Two-Factor Reset": { by: "self" | "admin" | "admin CLI" };
  "API Token Created": { role: string; prefix: string; expiresAt: string };
  "API Token Revoked": Record<string, never>;
  "Organization Created": Record<string, never>;
  "Settings Updated": { settings: "mail" | "events" | "sign-in" | "sso"; [k: string]: unknown };
  "Certificate Authority Created": Snapshot;
  "Certificate Authority Updated": { before: Snapshot; after: Snapshot };
  /** A CA key made in (success) or refused by (failure) a key store; `existing` when taken from the token by label. */
  "CA Key Generated": CaKeyDetails & { keyAlgorithm: string; existing?: boolean };
  /** The key store could not sign for a CA (HSM token missing, locked, refusing): what was being signed. */
  "CA Key Unavailable": CaKeyDetails & { operation: "issue" | "crl" | "ocsp" | "create"; error: string };
  "Certificate Template Created": Snapshot;
  "Certificate Template Updated": { before: Snapshot; after: Snapshot };
  "Certificate Template Deleted": Snapshot;
  "Certificate Issued": {
    ca: Named;
    template: Named;
    subject: string;
    sans: unknown;
    notBefore: Date;
    notAfter: Date;
    sha256Fingerprint: string;
    fromCsr?: unknown[];
    omitted?: unknown[];
    [k: string]: unknown;
  };
  "Certificate Revoked": { reason: string; [k: string]: unknown };
  "Certificate Hold Released": Record<string, never>;
  "CRL Published": { crlNumber: string; entries: number };
  "Device Management Platform Created": { vendor: string; type: string };
  "Device Management Platform Updated": { before: Snapshot; after: Snapshot };
  "Enrollment Secret Rotated": { previousSecretKept?: boolean; previousSecretRevoked?: boolean };
  "Profile Downloaded": { payloadIdentifier: string; payloads?: string[] };
  "Profile Published": PublishDetails & {
    libraryItemId: string;
    action: "created" | "updated";
    payloadIdentifier: string;
    previousSecretValidUntil: Date | null;
  };
  "Profile Publish Failed": PublishDetails & { reason: string; status: number | null };
  "Key Attestation Platform Created": Record<string, never>;
  "Key Attestation Platform Updated": Snapshot;
  "Test Root Trusted": { subjects: string[]; sha256Fingerprints: string[] };
  "Core Platform Created": Snapshot;
  "Core Platform Updated": Change & { credentialReplaced: boolean };
  "Core Platform Deleted": Snapshot;
  "Core Platform Validated": { destination: unknown; identity: string; credential: unknown; outcome: string; status: number | null; reason: string };
  "Policy Created": Snapshot;
  "Policy Updated": Change & { attributeConditions?: unknown };
  "Policy Deleted": Snapshot;
  "ACME Account Created": AcmeIds & { contact: string[]; jwkThumbprint: string; keyType: string };
  "ACME Account Updated": AcmeIds & { contact?: string[]; previousContact?: string[]; oldThumbprint?: string; newThumbprint?: string };
  "ACME Order Created": AcmeIds & { identifiers: AuditIdentifier[]; challenges: Record<string, string[]> };
  "Challenge Validated": ChallengeDetails;
  "Challenge Failed": ChallengeFailedDetails;
  "Attestation Verified": ChallengeDetails;
  "Attestation Failed": ChallengeFailedDetails;
  "Enrollment Denied": EnrollmentDeniedDetails;
  "Device Lookup Failed": DeviceLookupFailedDetails;
  "Core Platform Alert": { corePlatform: Named; httpStatus: number | null; reason: string; since: Date; mailedTo: string[]; mailSkipped?: string };
  "Core Platform Alert Cleared": { corePlatform: Named; since: Date; reason: string; clearedBy: string };
  "RADIUS Authentication": { decision: string; reason: string; signalSource: unknown; revoked: unknown[]; [k: string]: unknown };
  "Mail Sent": MailDetails;
  "Mail Failed": MailDetails;
  "Job Failed": { queue: string; jobId: string; attempts: number; error: string };
  "Events Exported": { filters: Record<string, unknown>; maxRows: number };
  "Events Purged": { deleted: number; before: Date; retentionDays: number };
  "Fleet Sweep Started": FleetSweepDetails;
  "Fleet Sweep Completed": FleetSweepDetails & { devicesListed: number; devicesMissing: string[]; devicesMissingCount: number; certificatesRevoked: number };
  "Fleet Sweep Failed": FleetSweepDetails & { reason: string; budgetExhausted: boolean };
}

interface EventCommon {
  outcome: Outcome;
  actor: Actor;
  object?: EventObject;
  certificateSerial?: string | null;
  deviceSerial?: string | null;
  summary: string;
}

/** One audit event: a discriminated union on `type`, each type with its own details. */
export type AuditEvent = { [T in EventTypeName]: EventCommon & { type: T; details?: EventDetails[T] } }[EventTypeName];

/** The event of one type. */
export type AuditEventOf<T extends EventTypeName> = Extract<AuditEvent, { type: T }>;
