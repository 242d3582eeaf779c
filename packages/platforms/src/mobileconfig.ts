import { randomUUID } from "node:crypto";
import "reflect-metadata";
import { X509Certificate } from "@peculiar/x509";
import { build as buildPlist, type PlistValue } from "plist";
import { NO_NETWORK_PAYLOADS, type NetworkPayloads } from "./network";
import { VENDORS, type Vendor } from "./options";

export interface ProfileInput {
  platform: { id: string; name: string; vendor: Vendor };
  organizationName: string;
  /** This platform's ACME directory (https in production). */
  directoryUrl: string;
  /** CA certificates the device needs to trust the chain: roots and intermediates. */
  caCertificates: { pem: string; commonName: string; isRoot: boolean }[];
  /** Wi-Fi, Ethernet 802.1X and VPN payloads using the ACME payload's certificate. */
  network?: NetworkPayloads;
}

/** One payload as the profile preview lists it: what the device will install. */
export interface ProfileItem {
  payloadType: string;
  displayName: string;
  detail: string;
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

export function buildAcmeProfile(input: ProfileInput): { xml: string; filename: string; payloadIdentifier: string; contents: ProfileItem[] } {
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
  const payloads: Record<string, unknown>[] = [...certPayloads, acme, ...networkPayloads(input, base, acme.PayloadUUID, certPayloads)];
  const profile = {
    PayloadType: "Configuration",
    PayloadVersion: 1,
    PayloadIdentifier: base,
    PayloadUUID: randomUUID().toUpperCase(),
    PayloadDisplayName: `${input.platform.name} (ACME)`,
    PayloadDescription: `Enrolls this device for a certificate from ${input.organizationName} with Apple Managed Device Attestation.`,
    PayloadOrganization: input.organizationName,
    PayloadScope: "System",
    PayloadContent: payloads,
  };
  return {
    xml: buildPlist(profile as unknown as PlistValue),
    filename: profileFilename(input.platform.name),
    payloadIdentifier: base,
    contents: payloads.map(describe),
  };
}

type CertPayload = { PayloadUUID: string; PayloadContent: Buffer };

/**
 * Wi-Fi, Ethernet and VPN payloads: each names the ACME payload as its identity (PayloadCertificateUUID),
 * and Wi-Fi and Ethernet trust the RADIUS server's CA through a certificate payload of this profile
 * (PayloadCertificateAnchorUUID), the one already installed when the CA is one of the chain's.
 */
function networkPayloads(input: ProfileInput, base: string, identityUuid: string, certPayloads: CertPayload[]): Record<string, unknown>[] {
  const net = input.network ?? NO_NETWORK_PAYLOADS;
  const out: Record<string, unknown>[] = [];
  let eapClient: Record<string, unknown> | null = null;
  if (net.eap && (net.wifi || net.ethernet)) {
    const x = new X509Certificate(net.eap.serverCaPem);
    const der = Buffer.from(x.rawData);
    let anchor = certPayloads.find((c) => c.PayloadContent.equals(der))?.PayloadUUID;
    if (!anchor) {
      anchor = randomUUID().toUpperCase();
      const name = /CN=([^,]+)/.exec(x.subject)?.[1] ?? "RADIUS server CA";
      out.push({
        PayloadType: x.subject === x.issuer ? "com.apple.security.root" : "com.apple.security.pkcs1",
        PayloadVersion: 1,
        PayloadIdentifier: `${base}.radius-ca`,
        PayloadUUID: anchor,
        PayloadDisplayName: name,
        PayloadCertificateFileName: `${slug(name)}.cer`,
        PayloadContent: der,
      });
    }
    eapClient = {
      AcceptEAPTypes: [13], // EAP-TLS
      TLSTrustedServerNames: net.eap.trustedServerNames,
      PayloadCertificateAnchorUUID: [anchor],
    };
  }
  if (net.wifi && eapClient)
    out.push({
      PayloadType: "com.apple.wifi.managed",
      PayloadVersion: 1,
      PayloadIdentifier: `${base}.wifi`,
      PayloadUUID: randomUUID().toUpperCase(),
      PayloadDisplayName: `Wi-Fi ${net.wifi.ssid}`,
      SSID_STR: net.wifi.ssid,
      HIDDEN_NETWORK: net.wifi.hidden,
      AutoJoin: net.wifi.autoJoin,
      EncryptionType: net.wifi.encryptionType,
      EAPClientConfiguration: eapClient,
      PayloadCertificateUUID: identityUuid,
    });
  if (net.ethernet && eapClient)
    out.push({
      PayloadType: "com.apple.firstactiveethernet.managed",
      PayloadVersion: 1,
      PayloadIdentifier: `${base}.ethernet`,
      PayloadUUID: randomUUID().toUpperCase(),
      PayloadDisplayName: "Ethernet 802.1X",
      AutoJoin: true,
      EncryptionType: "Any",
      EAPClientConfiguration: eapClient,
      PayloadCertificateUUID: identityUuid,
    });
  if (net.vpn)
    out.push({
      PayloadType: "com.apple.vpn.managed",
      PayloadVersion: 1,
      PayloadIdentifier: `${base}.vpn`,
      PayloadUUID: randomUUID().toUpperCase(),
      PayloadDisplayName: `VPN ${net.vpn.name}`,
      UserDefinedName: net.vpn.name,
      VPNType: "IKEv2",
      IKEv2: {
        RemoteAddress: net.vpn.remoteAddress,
        RemoteIdentifier: net.vpn.remoteIdentifier,
        // The device's own identity: by default its serial number, as in the certificate.
        LocalIdentifier: net.vpn.localIdentifier || VENDORS[input.platform.vendor].serial,
        AuthenticationMethod: "Certificate",
        // The ACME payload's key: ECSECPrimeRandom 384.
        CertificateType: "ECDSA384",
        ExtendedAuthEnabled: 0,
        PayloadCertificateUUID: identityUuid,
      },
    });
  return out;
}

function describe(p: Record<string, unknown>): ProfileItem {
  const type = p.PayloadType as string;
  const displayName = String(p.PayloadDisplayName ?? type);
  const eap = p.EAPClientConfiguration as { TLSTrustedServerNames: string[] } | undefined;
  const names = eap ? `EAP-TLS with the ACME certificate; trusts a server named ${eap.TLSTrustedServerNames.join(", ")}` : "";
  const detail =
    type === "com.apple.security.acme"
      ? "ACME certificate: hardware-bound P-384 key, attested (device-attest-01)"
      : type === "com.apple.security.root" || type === "com.apple.security.pkcs1"
        ? type.endsWith("root")
          ? "Root CA certificate"
          : "Intermediate CA certificate"
        : type === "com.apple.wifi.managed"
          ? `Wi-Fi "${p.SSID_STR}", ${p.EncryptionType === "Any" ? "WPA2/WPA3" : p.EncryptionType} Enterprise${p.HIDDEN_NETWORK ? ", hidden" : ""}${p.AutoJoin ? ", joins automatically" : ""}; ${names}`
          : type === "com.apple.firstactiveethernet.managed"
            ? `Ethernet 802.1X on the first active interface; ${names}`
            : type === "com.apple.vpn.managed"
              ? `IKEv2 VPN to ${(p.IKEv2 as { RemoteAddress: string }).RemoteAddress}, certificate authentication with the ACME certificate`
              : type;
  return { payloadType: type, displayName, detail };
}
