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
