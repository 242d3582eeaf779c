import { randomUUID } from "node:crypto";
import "reflect-metadata";
import { X509Certificate } from "@peculiar/x509";
import { build as buildPlist, type PlistValue } from "plist";
import { VENDORS, type Vendor } from "./options";

export interface ProfileInput {
  platform: { id: string; name: string; vendor: Vendor };
  organizationName: string;
  /** This platform's ACME directory (https in production). */
  directoryUrl: string;
  /** CA certificates the device needs to trust the chain: roots and intermediates. */
  caCertificates: { pem: string; commonName: string; isRoot: boolean }[];
}

const derOf = (pem: string) => Buffer.from(new X509Certificate(pem).rawData);
const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "") || "platform";

/**
 * The .mobileconfig for a Device Management Platform: a com.apple.security.acme payload asking for a
 * hardware-bound, attested P-384 key (docs/protocol.md#the-acme-profile-payload), with the MDM's variables for the device identity,
 * plus the CA certificates of the chain. Every payload gets a fresh UUID.
 */
/** The name the profile downloads under, e.g. `kandji-acme.mobileconfig`. */
export const profileFilename = (platformName: string) => `${slug(platformName)}.mobileconfig`;

export function buildAcmeProfile(input: ProfileInput): { xml: string; filename: string; payloadIdentifier: string } {
  const v = VENDORS[input.platform.vendor];
  const base = `com.attestedpki.${slug(input.organizationName)}.${slug(input.platform.name)}`;
  const certPayloads = input.caCertificates.map((c, i) => ({
    PayloadType: c.isRoot ? "com.apple.security.root" : "com.apple.security.pkcs1",
    PayloadVersion: 1,
    PayloadIdentifier: `${base}.ca.${i}`,
    PayloadUUID: randomUUID().toUpperCase(),
    PayloadDisplayName: c.commonName,
    PayloadCertificateFileName: `${slug(c.commonName)}.cer`,
    PayloadContent: derOf(c.pem),
  }));
  const acme = {
    PayloadType: "com.apple.security.acme",
    PayloadVersion: 1,
    PayloadIdentifier: `${base}.acme`,
    PayloadUUID: randomUUID().toUpperCase(),
    PayloadDisplayName: `${input.platform.name} device certificate`,
    DirectoryURL: input.directoryUrl,
    // device-attest-01: the order's identifier must be the attested serial number.
    ClientIdentifier: v.serial,
    KeyType: "ECSECPrimeRandom",
    KeySize: 384,
    HardwareBound: true,
    Attest: true,
    Subject: [[["CN", v.serial]], [["O", input.organizationName]]],
    SubjectAltName: { rfc822Name: v.email },
    UsageFlags: 1, // digital signature
    ExtendedKeyUsage: ["1.3.6.1.5.5.7.3.2"], // client authentication
  };
  const profile = {
    PayloadType: "Configuration",
    PayloadVersion: 1,
    PayloadIdentifier: base,
    PayloadUUID: randomUUID().toUpperCase(),
    PayloadDisplayName: `${input.platform.name} (ACME)`,
    PayloadDescription: `Enrolls this device for a certificate from ${input.organizationName} with Apple Managed Device Attestation.`,
    PayloadOrganization: input.organizationName,
    PayloadScope: "System",
    PayloadContent: [...certPayloads, acme],
  };
  return {
    xml: buildPlist(profile as unknown as PlistValue),
    filename: profileFilename(input.platform.name),
    payloadIdentifier: base,
  };
}
