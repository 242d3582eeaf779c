import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse } from "plist";
import { describe, expect, it } from "vitest";
import { ZodError } from "zod";
import { buildAcmeProfile } from "./mobileconfig";
import { networkPayloadsSchema, type NetworkPayloads } from "./network";

const dir = mkdtempSync(path.join(os.tmpdir(), "network-"));
const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
openssl(
  "req",
  "-x509",
  "-newkey",
  "ec",
  "-pkeyopt",
  "ec_paramgen_curve:P-256",
  "-nodes",
  "-keyout",
  "ca.key",
  "-out",
  "ca.pem",
  "-subj",
  "/CN=RADIUS CA",
  "-days",
  "2",
);
openssl(
  "req",
  "-x509",
  "-newkey",
  "ec",
  "-pkeyopt",
  "ec_paramgen_curve:P-256",
  "-nodes",
  "-keyout",
  "root.key",
  "-out",
  "root.pem",
  "-subj",
  "/CN=Acme Root CA",
  "-days",
  "2",
);
// A leaf: not a CA, so not a trust anchor.
openssl(
  "req",
  "-x509",
  "-newkey",
  "ec",
  "-pkeyopt",
  "ec_paramgen_curve:P-256",
  "-nodes",
  "-keyout",
  "leaf.key",
  "-out",
  "leaf.pem",
  "-subj",
  "/CN=radius.example.com",
  "-days",
  "2",
  "-addext",
  "basicConstraints=critical,CA:FALSE",
);
const radiusCa = readFileSync(path.join(dir, "ca.pem"), "utf8");
const rootPem = readFileSync(path.join(dir, "root.pem"), "utf8");
const leafPem = readFileSync(path.join(dir, "leaf.pem"), "utf8");

const form = {
  wifiEnabled: "on",
  wifiSsid: "Acme Corp",
  wifiAutoJoin: "on",
  wifiEncryptionType: "WPA3",
  ethernetEnabled: "on",
  eapTrustedServerNames: "radius.example.com\n*.radius.example.com",
  eapServerCaPem: radiusCa,
  vpnEnabled: "on",
  vpnName: "Office",
  vpnRemoteAddress: "vpn.example.com",
  vpnRemoteIdentifier: "vpn.example.com",
  vpnLocalIdentifier: "",
};

/** The field errors a refused input gets, by field. */
function refused(input: Record<string, unknown>): Record<string, string> {
  try {
    networkPayloadsSchema.parse(input);
  } catch (e) {
    if (!(e instanceof ZodError)) throw e;
    return Object.fromEntries(e.issues.map((i) => [String(i.path[0]), i.message]));
  }
  throw new Error("accepted");
}

type Payload = Record<string, unknown>;
const build = (network: NetworkPayloads, withRadiusCaInChain = false) =>
  buildAcmeProfile({
    platform: { id: "p1", name: "Kandji ACME", vendor: "kandji" },
    organizationName: "Acme Corp",
    directoryUrl: "https://pki.example.com/acme/secret123/directory",
    caCertificates: [
      { pem: rootPem, commonName: "Acme Root CA", isRoot: true },
      ...(withRadiusCaInChain ? [{ pem: radiusCa, commonName: "RADIUS CA", isRoot: true }] : []),
    ],
    network,
  });

describe("network payloads", () => {
  it("reference the ACME payload as their identity and the RADIUS server's CA as their anchor, in the same profile", () => {
    const { xml, contents } = build(networkPayloadsSchema.parse(form));
    const content = (parse(xml) as Payload).PayloadContent as Payload[];
    const acme = content.find((p) => p.PayloadType === "com.apple.security.acme")!;
    const anchor = content.find((p) => p.PayloadDisplayName === "RADIUS CA")!;
    expect(anchor.PayloadType).toBe("com.apple.security.root");
    const wifi = content.find((p) => p.PayloadType === "com.apple.wifi.managed")!;
    expect(wifi).toMatchObject({
      SSID_STR: "Acme Corp",
      HIDDEN_NETWORK: false,
      AutoJoin: true,
      EncryptionType: "WPA3",
      PayloadCertificateUUID: acme.PayloadUUID,
      EAPClientConfiguration: {
        AcceptEAPTypes: [13],
        TLSTrustedServerNames: ["radius.example.com", "*.radius.example.com"],
        PayloadCertificateAnchorUUID: [anchor.PayloadUUID],
      },
    });
    const ethernet = content.find((p) => p.PayloadType === "com.apple.firstactiveethernet.managed")!;
    expect(ethernet).toMatchObject({ PayloadCertificateUUID: acme.PayloadUUID, EAPClientConfiguration: { AcceptEAPTypes: [13] } });
    const vpn = content.find((p) => p.PayloadType === "com.apple.vpn.managed")!;
    expect(vpn).toMatchObject({
      VPNType: "IKEv2",
      UserDefinedName: "Office",
      IKEv2: {
        RemoteAddress: "vpn.example.com",
        RemoteIdentifier: "vpn.example.com",
        LocalIdentifier: "$SERIAL_NUMBER",
        AuthenticationMethod: "Certificate",
        CertificateType: "ECDSA384",
        PayloadCertificateUUID: acme.PayloadUUID,
      },
    });
    // The preview lists every payload the device installs, in order.
    expect(contents.map((c) => c.payloadType)).toEqual(content.map((p) => p.PayloadType));
    expect(contents.find((c) => c.payloadType === "com.apple.wifi.managed")!.detail).toContain('Wi-Fi "Acme Corp", WPA3 Enterprise');
  });

  it("anchors to the chain's own payload when the RADIUS server's CA is already installed", () => {
    const content = (parse(build(networkPayloadsSchema.parse(form), true).xml) as Payload).PayloadContent as Payload[];
    expect(content.filter((p) => p.PayloadDisplayName === "RADIUS CA")).toHaveLength(1);
    const wifi = content.find((p) => p.PayloadType === "com.apple.wifi.managed")!;
    const anchorUuid = (wifi.EAPClientConfiguration as Payload).PayloadCertificateAnchorUUID as string[];
    expect(content.find((p) => p.PayloadUUID === anchorUuid[0])!.PayloadDisplayName).toBe("RADIUS CA");
  });

  it("adds nothing when none is turned on, whatever else the form carries", () => {
    const n = networkPayloadsSchema.parse({ ...form, wifiEnabled: "", ethernetEnabled: "", vpnEnabled: "" });
    expect(n).toEqual({ wifi: null, ethernet: false, eap: null, vpn: null });
    const types = ((parse(build(n).xml) as Payload).PayloadContent as Payload[]).map((p) => p.PayloadType);
    expect(types).toEqual(["com.apple.security.root", "com.apple.security.acme"]);
  });

  it("refuses what Apple would refuse or a device could not use, naming the field", () => {
    expect(refused({ ...form, wifiSsid: "" })).toEqual({ wifiSsid: "SSID is required for the Wi-Fi payload" });
    // 33 bytes: 11 three-byte characters.
    expect(refused({ ...form, wifiSsid: "€".repeat(11) })).toEqual({ wifiSsid: "SSID must be at most 32 bytes (this one is 33)" });
    expect(refused({ ...form, wifiEncryptionType: "WEP" })).toEqual({ wifiEncryptionType: "Choose WPA2, WPA3 or Any" });
    expect(refused({ ...form, eapTrustedServerNames: "" }).eapTrustedServerNames).toMatch(/name \(or names\) on the RADIUS server's certificate/);
    expect(refused({ ...form, eapTrustedServerNames: "radius.example.com bad_name!" }).eapTrustedServerNames).toBe(
      '"bad_name!" is not a server name (letters, digits, hyphens and dots; * for a whole label)',
    );
    expect(refused({ ...form, eapServerCaPem: "" }).eapServerCaPem).toMatch(/Paste the CA certificate/);
    expect(refused({ ...form, eapServerCaPem: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----" }).eapServerCaPem).toBe(
      "This is not a valid PEM certificate",
    );
    expect(refused({ ...form, eapServerCaPem: leafPem }).eapServerCaPem).toMatch(/^This is not a CA certificate/);
    expect(refused({ ...form, eapServerCaPem: radiusCa + rootPem }).eapServerCaPem).toBe("Paste exactly one PEM certificate (-----BEGIN CERTIFICATE-----)");
    expect(refused({ ...form, vpnName: "", vpnRemoteAddress: "not a host", vpnRemoteIdentifier: "" })).toEqual({
      vpnName: "Connection name is required for the VPN payload",
      vpnRemoteAddress: "Enter the VPN server's host name or IP address",
      vpnRemoteIdentifier: "Remote identifier is required: the identity the VPN server presents (often its host name)",
    });
    // Ethernet alone also needs the RADIUS server's names and CA.
    expect(Object.keys(refused({ ethernetEnabled: "on" })).sort()).toEqual(["eapServerCaPem", "eapTrustedServerNames"]);
    // Turned-off groups are not checked.
    expect(networkPayloadsSchema.parse({ wifiSsid: "x".repeat(40) }).wifi).toBeNull();
  });
});
