// Choices of the Policy Management and Core Platform forms, with the guide's labels. No server
// imports: client components read these too.

export const CORE_PLATFORM_TYPES = [{ value: "generic-http", label: "Generic HTTP" }] as const;

export const LOOKUP_PURPOSES = [
  { value: "certificate-issuance", label: "Certificate Issuance", hint: "To lookup user/device account during Enrollment." },
  { value: "radius-authentication", label: "RADIUS Authentication", hint: "To lookup user/device account during RADIUS Authentication." },
] as const;
export type LookupPurpose = (typeof LOOKUP_PURPOSES)[number]["value"];
export const lookupPurposeLabel = (v: string) => LOOKUP_PURPOSES.find((p) => p.value === v)?.label ?? v;

export const IDENTITY_TYPES = [
  { value: "custom", label: "Custom" },
  { value: "csr", label: "CSR" },
  { value: "certificate", label: "Certificate" },
] as const;
export type IdentityType = (typeof IDENTITY_TYPES)[number]["value"];

/**
 * The lookup keys offered for each Identity choice, as paths into the lookup context. At enrollment
 * the context is { attestation, csr, account, platform }: the attested serial is what Apple vouched
 * for, so it is the default. At RADIUS time only the presented certificate is known: { certificate }.
 */
export const IDENTITY_ATTRIBUTES: Record<"csr" | "certificate", { value: string; label: string }[]> = {
  csr: [
    { value: "/attestation/serialNumber", label: "Serial number (attested by Apple)" },
    { value: "/attestation/udid", label: "UDID (attested by Apple)" },
    { value: "/csr/subject/commonname", label: "Subject Common Name" },
    { value: "/csr/subject/serialnumber", label: "Subject Serial Number" },
    { value: "/csr/subject/uid", label: "Subject UID" },
    { value: "/csr/san/rfc822name", label: "SAN RFC822 Name" },
    { value: "/csr/san/othername", label: "SAN Other Name (UPN)" },
    { value: "/csr/san/dnsname", label: "SAN DNS Name" },
  ],
  certificate: [
    { value: "/certificate/deviceSerial", label: "Device serial number" },
    { value: "/certificate/deviceUdid", label: "Device UDID" },
    { value: "/certificate/subject/commonname", label: "Subject Common Name" },
    { value: "/certificate/emailAddress", label: "Email address (RFC822 SAN)" },
    { value: "/certificate/san/othername", label: "SAN Other Name (UPN)" },
    { value: "/certificate/serialNumber", label: "Certificate serial number" },
  ],
};

/** Where each purpose may read its identity from (Custom paths must start with one of these). */
export const IDENTITY_ROOTS: Record<LookupPurpose, string[]> = {
  "certificate-issuance": ["attestation", "csr", "account", "platform"],
  "radius-authentication": ["certificate"],
};

export const DEFAULT_IDENTITY_ATTRIBUTE = "/attestation/serialNumber";

/** Operators of the Policy Workflow's Attributes/Groups conditions (worded as the Response Validation ones). */
export const CONDITION_OPERATORS = [
  { value: "equals", label: "Equals" },
  { value: "notEquals", label: "Does Not Equal" },
  { value: "contains", label: "Contains" },
  { value: "matches", label: "Matches (regular expression)" },
  { value: "exists", label: "Exists" },
  { value: "notExists", label: "Does Not Exist" },
] as const;
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number]["value"];
export const VALUE_OPERATORS: ReadonlySet<string> = new Set(["equals", "notEquals", "contains", "matches"]);

/** The Attribute choice that means "no condition" (the guide: "retain ANY"). */
export const ANY = "ANY";
/** The Attribute choice that tests the looked-up groups instead of an attribute. */
export const GROUPS = "$groups";

export const DEFAULT_PRIORITY = 100;

/** The platforms an attestation tells apart (docs/protocol.md#attested-posture). */
export type AttestedPlatform = "macOS" | "iOS";

/** Secure Boot levels of a Mac with Apple silicon, most secure first, as Apple attests them. */
export const SECURE_BOOT_LEVELS = [
  { value: "Full Security", label: "Full Security" },
  { value: "Reduced Security", label: "Reduced Security (Medium)" },
  { value: "Permissive Security", label: "Permissive Security" },
] as const;

/**
 * The Device Role's posture conditions on what Apple attested. `platform`: the rule is for that
 * platform only (it passes as not applicable on the other). `kind`: how the value is written.
 */
export const POSTURE_CHECKS = [
  { value: "macosVersionAtLeast", label: "macOS version at least", kind: "version", platform: "macOS" },
  { value: "macosVersionBelow", label: "macOS version below", kind: "version", platform: "macOS" },
  { value: "iosVersionAtLeast", label: "iOS/iPadOS version at least", kind: "version", platform: "iOS" },
  { value: "iosVersionBelow", label: "iOS/iPadOS version below", kind: "version", platform: "iOS" },
  { value: "secureBootAtLeast", label: "Secure Boot level at least", kind: "choice", platform: "macOS", choices: SECURE_BOOT_LEVELS },
  {
    value: "sip",
    label: "System Integrity Protection",
    kind: "choice",
    platform: "macOS",
    choices: [
      { value: "enabled", label: "enabled" },
      { value: "disabled", label: "disabled" },
    ],
  },
  {
    value: "thirdPartyKexts",
    label: "Third-party kernel extensions",
    kind: "choice",
    platform: "macOS",
    choices: [
      { value: "notAllowed", label: "not allowed" },
      { value: "allowed", label: "allowed" },
    ],
  },
  {
    value: "platform",
    label: "Platform is",
    kind: "choice",
    platform: null,
    choices: [
      { value: "macOS", label: "macOS" },
      { value: "iOS", label: "iOS/iPadOS" },
    ],
  },
  { value: "softwareUpdateDeviceIdIn", label: "Software Update Device ID is one of", kind: "list", platform: null },
  { value: "softwareUpdateDeviceIdNotIn", label: "Software Update Device ID is not one of", kind: "list", platform: null },
] as const;
export type PostureCheck = (typeof POSTURE_CHECKS)[number]["value"];
