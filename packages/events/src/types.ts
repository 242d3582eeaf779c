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
  ApiTokenCreated: "API Token Created",
  ApiTokenRevoked: "API Token Revoked",
  OrganizationCreated: "Organization Created",
  SettingsUpdated: "Settings Updated",
  CaCreated: "Certificate Authority Created",
  CaUpdated: "Certificate Authority Updated",
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
  KeyAttestationPlatformCreated: "Key Attestation Platform Created",
  KeyAttestationPlatformUpdated: "Key Attestation Platform Updated",
  TestRootTrusted: "Test Root Trusted",
  CorePlatformCreated: "Core Platform Created",
  CorePlatformUpdated: "Core Platform Updated",
  CorePlatformDeleted: "Core Platform Deleted",
  CorePlatformValidated: "Core Platform Validated",
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
} as const;
export type EventTypeName = (typeof EventType)[keyof typeof EventType];
