// The choices of the Dynamic PKI forms, with the guide's labels. Shared by the portal and the API.

export const CA_PURPOSES = ["Device and User Authentication", "Device Authentication", "User Authentication"] as const;

export const CA_TYPES = [
  { value: "ROOT", label: "Root CA" },
  { value: "INTERMEDIATE", label: "Intermediate CA" },
] as const;

export const GENERATE_VIA = [
  { value: "internal", label: "Internal system (private key locked and non-exportable)" },
  { value: "pkcs11", label: "Hardware security module (PKCS#11)" },
] as const;

export const KEY_SIZES = [
  { value: "RSA-2048", label: "2048" },
  { value: "RSA-3072", label: "3072" },
  { value: "RSA-4096", label: "4096" },
  { value: "EC-P256", label: "EC P-256" },
  { value: "EC-P384", label: "EC P-384" },
] as const;

export const SIGNATURE_ALGORITHMS = ["SHA-256", "SHA-384", "SHA-512"] as const;

export const EXPIRY_NOTIFICATION_FREQUENCIES = [1, 7, 14, 30, 60, 90] as const;

/** The guide's Reason Code choices, as RFC 5280 CRLReason names. */
export const REASON_CODES = [
  { value: "certificateHold", label: "Certificate Hold" },
  { value: "aACompromise", label: "AA Compromise" },
  { value: "privilegeWithdrawn", label: "Privilege Withdrawn" },
  { value: "unspecified", label: "Unspecified" },
] as const;

/** Reasons an admin may give when revoking one certificate by hand. */
export const MANUAL_REVOCATION_REASONS = [
  { value: "unspecified", label: "Unspecified" },
  { value: "keyCompromise", label: "Key Compromise" },
  { value: "affiliationChanged", label: "Affiliation Changed" },
  { value: "superseded", label: "Superseded" },
  { value: "cessationOfOperation", label: "Cessation of Operation" },
  { value: "certificateHold", label: "Certificate Hold" },
  { value: "privilegeWithdrawn", label: "Privilege Withdrawn" },
  { value: "aACompromise", label: "AA Compromise" },
] as const;

export const reasonLabel = (r: string | null | undefined) => MANUAL_REVOCATION_REASONS.find((x) => x.value === r)?.label ?? r ?? "";

export const EXTENDED_KEY_USAGES = [
  { value: "clientAuth", label: "Client Authentication" },
  { value: "serverAuth", label: "Server Authentication" },
  { value: "emailProtection", label: "Email Protection" },
  { value: "codeSigning", label: "Code Signing" },
] as const;
