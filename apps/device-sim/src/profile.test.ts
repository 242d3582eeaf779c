import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import * as plist from "plist";
import { describe, expect, it } from "vitest";
import type { SimulatedDevice } from "./device";
import { ProfileError, parseMobileconfig, renderMobileconfig, substituteInPlist, substituteVariables } from "./profile";

const PROFILE = readFileSync(new URL("../test-data/kandji-acme.mobileconfig", import.meta.url), "utf8");
const device: SimulatedDevice = {
  serialNumber: "C02XK1ABCD12",
  udid: "00008103-0011223344556677",
  deviceName: "Alice's MacBook",
  email: "alice@example.com",
  fullName: "Alice Example",
};

describe("substituteVariables (Kandji profile variables)", () => {
  it("fills in every Kandji variable from the device", () => {
    expect(substituteVariables("$SERIAL_NUMBER/$UDID/$DEVICE_NAME/$EMAIL/$FULL_NAME", device)).toBe(
      "C02XK1ABCD12/00008103-0011223344556677/Alice's MacBook/alice@example.com/Alice Example",
    );
    expect(substituteVariables("$MODEL", { ...device, model: "MacBook Air" })).toBe("MacBook Air");
  });

  it("fills in Jamf Pro's and Intune's variables when that MDM delivers the profile, and not another MDM's", () => {
    expect(substituteVariables("$SERIALNUMBER/$UDID/$DEVICENAME/$EMAIL/$FULLNAME", device, "jamf")).toBe(
      "C02XK1ABCD12/00008103-0011223344556677/Alice's MacBook/alice@example.com/Alice Example",
    );
    expect(substituteVariables("{{serialnumber}}/{{UDID}}/{{devicename}}/{{mail}}/{{userprincipalname}}", device, "intune")).toBe(
      "C02XK1ABCD12/00008103-0011223344556677/Alice's MacBook/alice@example.com/alice@example.com",
    );
    expect(substituteVariables("$SERIAL_NUMBER {{serialnumber}}", device, "jamf")).toBe("$SERIAL_NUMBER {{serialnumber}}");
    expect(substituteVariables("$SERIALNUMBER", device, "kandji")).toBe("$SERIALNUMBER");
  });

  it("leaves literal text, the PKI's ${/path} variables and unknown variables alone", () => {
    expect(substituteVariables("plain text", device)).toBe("plain text");
    expect(substituteVariables("CN=${/csr/subject/commonname}", device)).toBe("CN=${/csr/subject/commonname}");
    expect(substituteVariables("$ASSET_TAG $serial_number", device)).toBe("$ASSET_TAG $serial_number");
  });

  it("renders a variable the device lacks as empty, and repeats work", () => {
    expect(substituteVariables("<$EMAIL>", { serialNumber: "S", udid: "U" })).toBe("<>");
    expect(substituteVariables("$UDID$UDID", device)).toBe(`${device.udid}${device.udid}`);
  });

  it("does not re-expand values that contain variable names", () => {
    expect(substituteVariables("$DEVICE_NAME", { ...device, deviceName: "$EMAIL" })).toBe("$EMAIL");
  });

  it("substitutes inside nested plist values and keeps data untouched", () => {
    const data = new Uint8Array([36, 85, 68, 73, 68]); // "$UDID" as bytes
    const out = substituteInPlist({ a: ["$UDID", { b: "$EMAIL" }], d: data, n: 3 }, device) as Record<string, unknown>;
    expect(out).toEqual({ a: [device.udid, { b: device.email }], d: data, n: 3 });
  });
});

describe("parseMobileconfig / renderMobileconfig", () => {
  it("reads the ACME payload with variables substituted for the device", () => {
    const p = renderMobileconfig(PROFILE, device);
    expect(p.identifier).toBe("com.example.pki");
    expect(p.acme).toHaveLength(1);
    const acme = p.acme[0]!;
    expect(acme).toMatchObject({
      DirectoryURL: "https://pki.example.com/acme/p/abc123/directory",
      ClientIdentifier: "C02XK1ABCD12",
      KeyType: "ECSECPrimeRandom",
      KeySize: 384,
      HardwareBound: true,
      Attest: true,
      UsageFlags: 5,
      ExtendedKeyUsage: ["1.3.6.1.5.5.7.3.2"],
    });
    expect(acme.Subject).toEqual([[["CN", "Alice's MacBook (C02XK1ABCD12)"]], [["O", "Example & Co"]], [["0.9.2342.19200300.100.1.1", device.udid]]]);
    expect(acme.SubjectAltName).toEqual({
      rfc822Name: ["alice@example.com"],
      dNSName: ["C02XK1ABCD12.devices.example.com"],
      uniformResourceIdentifier: [`urn:device:${device.udid}`],
      ntPrincipalName: ["alice@example.com"],
    });
  });

  it("keeps the variables when parsed without a device", () => {
    const acme = parseMobileconfig(PROFILE).acme[0]!;
    expect(acme.ClientIdentifier).toBe("$SERIAL_NUMBER");
    expect(acme.SubjectAltName.rfc822Name).toEqual(["$EMAIL"]);
  });

  it("collects the certificate payloads as PEM", () => {
    const { certificates } = parseMobileconfig(PROFILE);
    expect(certificates).toHaveLength(1);
    expect(certificates[0]).toMatchObject({ payloadType: "com.apple.security.root", identifier: "com.example.pki.root", displayName: "Example Org Root CA" });
    expect(new X509Certificate(certificates[0]!.pem).subject).toBe("CN=Example Org Root CA");
  });

  it("accepts the profile as bytes", () => {
    expect(renderMobileconfig(Buffer.from(PROFILE), device).acme[0]!.ClientIdentifier).toBe(device.serialNumber);
  });

  it("enforces Apple's payload rules", () => {
    const edit = (from: string, to: string) => PROFILE.replace(from, to);
    const rsaHardware = edit("<string>ECSECPrimeRandom</string>", "<string>RSA</string>");
    expect(() => parseMobileconfig(rsaHardware)).toThrow(/HardwareBound requires/);
    const bad256 = edit("<integer>384</integer>", "<integer>521</integer>");
    expect(() => parseMobileconfig(bad256)).toThrow(/HardwareBound requires/);
    const attestOnly = edit("<key>HardwareBound</key>\n\t\t\t<true/>", "<key>HardwareBound</key>\n\t\t\t<false/>");
    expect(() => parseMobileconfig(attestOnly)).toThrow(/Attest requires HardwareBound/);
    const badSubject = edit("<string>CN</string>", "<integer>1</integer>");
    expect(() => parseMobileconfig(badSubject)).toThrow(/Subject must be/);
    const notConfig = edit("<string>Configuration</string>", "<string>Other</string>");
    expect(() => parseMobileconfig(notConfig)).toThrow(/not Configuration/);
  });

  it("refuses signed profiles and non-plists with a ProfileError", () => {
    expect(() => parseMobileconfig(new Uint8Array([0x30, 0x82, 0x01, 0x00]))).toThrow(ProfileError);
    expect(() => parseMobileconfig("hello")).toThrow(ProfileError);
  });

  it("round-trips through plist.build (as the portal might generate it)", () => {
    const built = plist.build({
      PayloadType: "Configuration",
      PayloadVersion: 1,
      PayloadIdentifier: "x",
      PayloadUUID: "u",
      PayloadContent: [
        {
          PayloadType: "com.apple.security.acme",
          PayloadIdentifier: "x.acme",
          PayloadUUID: "u2",
          PayloadVersion: 1,
          DirectoryURL: "http://localhost:3000/acme/p/1/directory",
          ClientIdentifier: "$UDID",
          KeyType: "ECSECPrimeRandom",
          KeySize: 256,
          HardwareBound: true,
          Attest: true,
          Subject: [[["CN", "$SERIAL_NUMBER"]]],
        },
      ],
    });
    const acme = renderMobileconfig(built, device).acme[0]!;
    expect(acme.ClientIdentifier).toBe(device.udid);
    expect(acme.Subject).toEqual([[["CN", device.serialNumber]]]);
    expect(acme.ExtendedKeyUsage).toEqual([]);
  });
});

describe("network payloads (identity references)", () => {
  const base = plist.parse(PROFILE) as Record<string, plist.PlistValue>;
  const content = base.PayloadContent as Record<string, plist.PlistValue>[];
  const acme = content.find((p) => p.PayloadType === "com.apple.security.acme")!;
  const cert = content.find((p) => typeof p.PayloadType === "string" && p.PayloadType.startsWith("com.apple.security.") && p !== acme);
  const withPayload = (extra: Record<string, plist.PlistValue>) => plist.build({ ...base, PayloadContent: [...content, extra] } as plist.PlistValue);
  const wifi = (identity: string, anchor = cert?.PayloadUUID as string) => ({
    PayloadType: "com.apple.wifi.managed",
    PayloadVersion: 1,
    PayloadIdentifier: "x.wifi",
    PayloadUUID: "5E0C0C2A-0000-4000-8000-000000000001",
    SSID_STR: "Corp",
    EncryptionType: "WPA2",
    EAPClientConfiguration: { AcceptEAPTypes: [13], TLSTrustedServerNames: ["radius.example.com"], PayloadCertificateAnchorUUID: anchor ? [anchor] : [] },
    PayloadCertificateUUID: identity,
  });

  it("resolves a Wi-Fi payload's identity to the ACME payload and its anchor to a certificate payload", () => {
    const n = renderMobileconfig(withPayload(wifi(acme.PayloadUUID as string)), device).network;
    expect(n).toHaveLength(1);
    expect(n[0]).toMatchObject({
      payloadType: "com.apple.wifi.managed",
      ssid: "Corp",
      eap: { acceptEapTypes: [13], trustedServerNames: ["radius.example.com"] },
    });
    expect(n[0]!.identity.PayloadUUID).toBe(acme.PayloadUUID);
    if (cert) expect(n[0]!.eap!.anchors[0]!.uuid).toBe(cert.PayloadUUID);
  });

  it("refuses a profile whose network payload names no ACME payload of the same profile", () => {
    expect(() => parseMobileconfig(withPayload(wifi("00000000-0000-4000-8000-00000000DEAD")))).toThrow(
      /PayloadCertificateUUID 00000000-0000-4000-8000-00000000DEAD does not name the profile's com.apple.security.acme payload/,
    );
    // A certificate payload is not an identity either: it has no private key.
    if (cert) expect(() => parseMobileconfig(withPayload(wifi(cert.PayloadUUID as string)))).toThrow(/does not name the profile's com.apple.security.acme/);
    expect(() => parseMobileconfig(withPayload(wifi(acme.PayloadUUID as string, "00000000-0000-4000-8000-00000000BEEF")))).toThrow(
      /PayloadCertificateAnchorUUID 00000000-0000-4000-8000-00000000BEEF does not name a certificate payload/,
    );
  });

  it("checks a VPN payload's identity and that its CertificateType fits the identity's key", () => {
    const vpn = (certificateType: string, identity = acme.PayloadUUID as string) => ({
      PayloadType: "com.apple.vpn.managed",
      PayloadVersion: 1,
      PayloadIdentifier: "x.vpn",
      PayloadUUID: "5E0C0C2A-0000-4000-8000-000000000002",
      VPNType: "IKEv2",
      UserDefinedName: "Office",
      IKEv2: {
        RemoteAddress: "vpn.example.com",
        RemoteIdentifier: "vpn.example.com",
        AuthenticationMethod: "Certificate",
        CertificateType: certificateType,
        PayloadCertificateUUID: identity,
      },
    });
    const keyType = `ECDSA${acme.KeySize}`;
    expect(parseMobileconfig(withPayload(vpn(keyType))).network[0]!.ikev2).toMatchObject({ RemoteAddress: "vpn.example.com", CertificateType: keyType });
    expect(() => parseMobileconfig(withPayload(vpn("RSA")))).toThrow(/CertificateType RSA does not match the identity's/);
    expect(() => parseMobileconfig(withPayload(vpn(keyType, "nope")))).toThrow(/IKEv2: PayloadCertificateUUID nope does not name/);
  });
});
