// Apple Managed Device Attestation leaf extensions (docs/protocol.md#apple-leaf-extensions). The extension value is the raw content of
// the extension's OCTET STRING (ASCII text or raw bytes), except SIP status and third-party kexts, whose
// content is itself a DER INTEGER.
export const APPLE_OID = {
  serialNumber: "1.2.840.113635.100.8.9.1",
  udid: "1.2.840.113635.100.8.9.2",
  softwareUpdateDeviceId: "1.2.840.113635.100.8.9.4",
  osVersion: "1.2.840.113635.100.8.10.1",
  sepOsVersion: "1.2.840.113635.100.8.10.2",
  llbVersion: "1.2.840.113635.100.8.10.3",
  freshnessCode: "1.2.840.113635.100.8.11.1",
  sipStatus: "1.2.840.113635.100.8.13.1",
  secureBootLevel: "1.2.840.113635.100.8.13.2",
  thirdPartyKexts: "1.2.840.113635.100.8.13.3",
} as const;

/** Extensions this verifier understands, so a certificate marking them critical is acceptable (RFC 5280 §4.2). */
export const UNDERSTOOD_CRITICAL_EXTENSIONS: ReadonlySet<string> = new Set([
  "2.5.29.14", // subjectKeyIdentifier
  "2.5.29.15", // keyUsage
  "2.5.29.17", // subjectAltName
  "2.5.29.19", // basicConstraints
  "2.5.29.32", // certificatePolicies
  "2.5.29.35", // authorityKeyIdentifier
  "2.5.29.37", // extKeyUsage
  ...Object.values(APPLE_OID),
]);
