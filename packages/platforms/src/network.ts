import { X509Certificate } from "node:crypto";
import { z } from "zod";
import type { WifiEncryption } from "./options";

// Network payloads of a Device Management Platform's profile. On Apple devices a Wi-Fi, Ethernet
// 802.1X or VPN payload uses a certificate only through PayloadCertificateUUID, the PayloadUUID of a
// payload of the same profile: here the ACME payload (docs/protocol.md#network-payloads).

/** As stored on the platform (networkPayloads) and given to the profile builder. */
export interface NetworkPayloads {
  wifi: { ssid: string; hidden: boolean; autoJoin: boolean; encryptionType: WifiEncryption } | null;
  ethernet: boolean;
  /** The RADIUS server's certificate, as Wi-Fi and Ethernet check it (EAP-TLS). */
  eap: { trustedServerNames: string[]; serverCaPem: string } | null;
  vpn: { name: string; remoteAddress: string; remoteIdentifier: string; localIdentifier: string } | null;
}

export const NO_NETWORK_PAYLOADS: NetworkPayloads = { wifi: null, ethernet: false, eap: null, vpn: null };

const on = z.preprocess((v) => v === true || v === "on" || v === "true", z.boolean()).default(false);
const text = (max: number, label: string) =>
  z.preprocess(
    (v) => (v == null ? "" : v),
    z
      .string({ error: `${label} must be text` })
      .trim()
      .max(max, `${label} must be at most ${max} characters`),
  );

// TLSTrustedServerNames: DNS names, where a label may be "*" (Apple: "wpa.*.example.com").
const SERVER_NAME = /^(?=.{1,253}$)(\*|[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.(\*|[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?))*$/i;
// A host name or an IP address (VPN server).
const HOST = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$|^[0-9a-f:.]+$/i;

/** The one CA certificate of `pem`, checked as a trust anchor; a message for the form, or the certificate. */
export function parseServerCa(pem: string, now = new Date()): { cert: X509Certificate } | { error: string } {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length !== 1) return { error: "Paste exactly one PEM certificate (-----BEGIN CERTIFICATE-----)" };
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(blocks[0]!);
  } catch {
    return { error: "This is not a valid PEM certificate" };
  }
  if (!cert.ca) return { error: "This is not a CA certificate (basic constraints CA:TRUE): paste the CA that issued the RADIUS server's certificate" };
  if (new Date(cert.validTo) <= now) return { error: `This certificate expired on ${new Date(cert.validTo).toISOString().slice(0, 10)}` };
  return { cert };
}

/**
 * The Network payloads form (and the REST body): flat fields, each group used only when turned on.
 * Apple's limits: an SSID is 1 to 32 bytes; EAP-TLS needs the server's trusted names and its CA, or
 * the device asks the user to trust whatever certificate the network shows.
 */
export const networkPayloadsSchema = z
  .object({
    wifiEnabled: on,
    wifiSsid: text(64, "SSID"),
    wifiHidden: on,
    wifiAutoJoin: on,
    wifiEncryptionType: z.preprocess((v) => (v === "" || v == null ? "WPA2" : v), z.enum(["WPA2", "WPA3", "Any"], { error: "Choose WPA2, WPA3 or Any" })),
    ethernetEnabled: on,
    eapTrustedServerNames: z.preprocess(
      (v) => (Array.isArray(v) ? v.join("\n") : v == null ? "" : v),
      z.string({ error: "Trusted server names must be text" }).max(4000, "Trusted server names: too long"),
    ),
    eapServerCaPem: text(20_000, "RADIUS server CA certificate"),
    vpnEnabled: on,
    vpnName: text(100, "Connection name"),
    vpnRemoteAddress: text(253, "Server"),
    vpnRemoteIdentifier: text(255, "Remote identifier"),
    vpnLocalIdentifier: text(255, "Local identifier"),
  })
  .superRefine((v, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    if (v.wifiEnabled) {
      const bytes = Buffer.byteLength(v.wifiSsid, "utf8");
      if (bytes === 0) issue("wifiSsid", "SSID is required for the Wi-Fi payload");
      else if (bytes > 32) issue("wifiSsid", `SSID must be at most 32 bytes (this one is ${bytes})`);
    }
    if (v.wifiEnabled || v.ethernetEnabled) {
      const names = splitNames(v.eapTrustedServerNames);
      if (names.length === 0) issue("eapTrustedServerNames", "Enter the name (or names) on the RADIUS server's certificate, e.g. radius.example.com");
      else if (names.length > 20) issue("eapTrustedServerNames", "At most 20 trusted server names");
      else {
        const bad = names.find((n) => !SERVER_NAME.test(n));
        if (bad) issue("eapTrustedServerNames", `"${bad}" is not a server name (letters, digits, hyphens and dots; * for a whole label)`);
      }
      if (!v.eapServerCaPem) issue("eapServerCaPem", "Paste the CA certificate that issued the RADIUS server's certificate");
      else {
        const ca = parseServerCa(v.eapServerCaPem);
        if ("error" in ca) issue("eapServerCaPem", ca.error);
      }
    }
    if (v.vpnEnabled) {
      if (!v.vpnName) issue("vpnName", "Connection name is required for the VPN payload");
      if (!v.vpnRemoteAddress) issue("vpnRemoteAddress", "Server is required for the VPN payload");
      else if (!HOST.test(v.vpnRemoteAddress)) issue("vpnRemoteAddress", "Enter the VPN server's host name or IP address");
      if (!v.vpnRemoteIdentifier) issue("vpnRemoteIdentifier", "Remote identifier is required: the identity the VPN server presents (often its host name)");
    }
  })
  .transform((v): NetworkPayloads => {
    const eap = v.wifiEnabled || v.ethernetEnabled;
    return {
      wifi: v.wifiEnabled ? { ssid: v.wifiSsid, hidden: v.wifiHidden, autoJoin: v.wifiAutoJoin, encryptionType: v.wifiEncryptionType } : null,
      ethernet: v.ethernetEnabled,
      eap: eap ? { trustedServerNames: splitNames(v.eapTrustedServerNames), serverCaPem: `${v.eapServerCaPem.trim()}\n` } : null,
      vpn: v.vpnEnabled
        ? { name: v.vpnName, remoteAddress: v.vpnRemoteAddress, remoteIdentifier: v.vpnRemoteIdentifier, localIdentifier: v.vpnLocalIdentifier }
        : null,
    };
  });

const splitNames = (s: string) =>
  s
    .split(/[\s,]+/)
    .map((n) => n.trim().toLowerCase())
    .filter(Boolean);

/** The stored value read back; anything malformed counts as no network payloads. */
export function readNetworkPayloads(stored: unknown): NetworkPayloads {
  if (!stored || typeof stored !== "object") return NO_NETWORK_PAYLOADS;
  const s = stored as Partial<NetworkPayloads>;
  return { wifi: s.wifi ?? null, ethernet: s.ethernet === true, eap: s.eap ?? null, vpn: s.vpn ?? null };
}
