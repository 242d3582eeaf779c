// Reads a `.mobileconfig` as a device receives it: the MDM first fills in its profile variables with the
// device's values (Kandji: $SERIAL_NUMBER, ...; Jamf Pro: $SERIALNUMBER, ...; Intune: {{serialnumber}}, ...), then the device
// reads the `com.apple.security.acme` payload and the certificate payloads
// (docs/protocol.md#the-acme-profile-payload, docs/kandji.md#profile-variables).
import { X509Certificate } from "node:crypto";
import * as plist from "plist";
import type { KeyType, SimulatedDevice } from "./device";

type PlistValue = plist.PlistValue;
type PlistDict = { [key: string]: PlistValue };

export class ProfileError extends Error {
  override readonly name = "ProfileError";
}

/** Kandji's profile variables and the device attribute each one takes its value from. */
export const KANDJI_VARIABLES = {
  $SERIAL_NUMBER: "serialNumber",
  $UDID: "udid",
  $DEVICE_NAME: "deviceName",
  $EMAIL: "email",
  $FULL_NAME: "fullName",
  $MODEL: "model",
} as const satisfies Record<string, keyof SimulatedDevice>;

/** Jamf Pro's payload variables (docs/jamf.md#profile-variables). */
export const JAMF_VARIABLES = {
  $SERIALNUMBER: "serialNumber",
  $UDID: "udid",
  $DEVICENAME: "deviceName",
  $EMAIL: "email",
  $FULLNAME: "fullName",
  $REALNAME: "fullName",
  $MODEL: "model",
} as const satisfies Record<string, keyof SimulatedDevice>;

/**
 * Intune's device and user variables (docs/intune.md#profile-variables), written {{name}}. The user
 * principal name is the sign-in name, which the simulated device takes from its email.
 */
export const INTUNE_VARIABLES = {
  "{{serialnumber}}": "serialNumber",
  "{{udid}}": "udid",
  "{{devicename}}": "deviceName",
  "{{mail}}": "email",
  "{{userprincipalname}}": "email",
} as const satisfies Record<string, keyof SimulatedDevice>;

/** The MDM that delivers the profile, and so fills in its variables. */
export type Mdm = "kandji" | "jamf" | "intune";
const VARIABLES: Record<Mdm, Record<string, keyof SimulatedDevice>> = { kandji: KANDJI_VARIABLES, jamf: JAMF_VARIABLES, intune: INTUNE_VARIABLES };

// Longest names first, so one variable name that prefixes another can never win. Intune's names are
// matched whatever their case.
const VARIABLE_RES = Object.fromEntries(
  (Object.keys(VARIABLES) as Mdm[]).map((mdm) => [
    mdm,
    new RegExp(
      Object.keys(VARIABLES[mdm])
        .sort((a, b) => b.length - a.length)
        .map((v) => v.replace(/[$.*+?^{}()|[\]\\]/g, "\\$&"))
        .join("|"),
      mdm === "intune" ? "gi" : "g",
    ),
  ]),
) as Record<Mdm, RegExp>;

/**
 * Replaces the MDM's variables in `text` with the device's values, as the MDM does before delivering a
 * profile. A variable whose attribute the device lacks becomes empty; any other text (including the
 * PKI's own `${/path}` template syntax) is left alone.
 */
export function substituteVariables(text: string, device: SimulatedDevice, mdm: Mdm = "kandji"): string {
  const names = VARIABLES[mdm];
  return text.replace(VARIABLE_RES[mdm], (name) => {
    const attr = names[mdm === "intune" ? name.toLowerCase() : name]!;
    const v = device[attr];
    return v === undefined ? "" : String(v);
  });
}

/** Deep copy of a plist value with every string substituted. */
export function substituteInPlist(value: PlistValue, device: SimulatedDevice, mdm: Mdm = "kandji"): PlistValue {
  if (typeof value === "string") return substituteVariables(value, device, mdm);
  if (Array.isArray(value)) return value.map((v) => substituteInPlist(v, device, mdm));
  if (value !== null && typeof value === "object" && !(value instanceof Uint8Array) && !(value instanceof Date)) {
    const out: PlistDict = {};
    for (const [k, v] of Object.entries(value)) out[k] = substituteInPlist(v, device, mdm);
    return out;
  }
  return value;
}

export interface SubjectAltNames {
  rfc822Name: string[];
  dNSName: string[];
  uniformResourceIdentifier: string[];
  ntPrincipalName: string[];
}

/** The `com.apple.security.acme` payload (docs/protocol.md#the-acme-profile-payload). */
export interface AcmePayload {
  PayloadIdentifier: string;
  PayloadUUID: string;
  PayloadDisplayName?: string;
  DirectoryURL: string;
  ClientIdentifier: string;
  KeyType: KeyType;
  KeySize: number;
  HardwareBound: boolean;
  Attest: boolean;
  /** Array form: RDNs, each a list of [type, value] pairs, e.g. [[["CN","x"]],[["O","y"]]]. */
  Subject: [string, string][][];
  SubjectAltName: SubjectAltNames;
  /** Apple's key usage bits: 1 = digital signature, 4 = key encipherment. */
  UsageFlags?: number;
  ExtendedKeyUsage: string[];
}

export interface ProfileCertificate {
  payloadType: string;
  uuid: string;
  identifier: string;
  displayName?: string;
  pem: string;
}

/** A Wi-Fi, Ethernet 802.1X or VPN payload, with its certificate references resolved. */
export interface NetworkPayload {
  payloadType: "com.apple.wifi.managed" | "com.apple.firstactiveethernet.managed" | "com.apple.vpn.managed";
  identifier: string;
  /** The ACME payload its PayloadCertificateUUID names: the certificate it authenticates with. */
  identity: AcmePayload;
  /** Wi-Fi only. */
  ssid?: string;
  /** EAP (Wi-Fi, Ethernet): the accepted EAP types, the server names and the anchors it trusts. */
  eap?: { acceptEapTypes: number[]; trustedServerNames: string[]; anchors: ProfileCertificate[] };
  /** VPN only: the IKEv2 dictionary as given. */
  ikev2?: { RemoteAddress: string; RemoteIdentifier: string; LocalIdentifier?: string; AuthenticationMethod: string; CertificateType?: string };
}

export interface MobileConfig {
  identifier: string;
  uuid: string;
  displayName?: string;
  acme: AcmePayload[];
  certificates: ProfileCertificate[];
  network: NetworkPayload[];
}

const isDict = (v: unknown): v is PlistDict => v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof Date);

function str(d: PlistDict, key: string, where: string, required = true): string | undefined {
  const v = d[key];
  if (v === undefined && !required) return undefined;
  if (typeof v !== "string") throw new ProfileError(`${where}: ${key} must be a string`);
  return v;
}

function stringList(v: PlistValue | undefined, what: string): string[] {
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((s) => {
    if (typeof s !== "string") throw new ProfileError(`${what} must be a string or an array of strings`);
    return s;
  });
}

function parseSubject(v: PlistValue | undefined, where: string): [string, string][][] {
  if (v === undefined) return [];
  const bad = () => new ProfileError(`${where}: Subject must be an array of RDNs, each an array of [type, value] pairs`);
  if (!Array.isArray(v)) throw bad();
  return v.map((rdn) => {
    if (!Array.isArray(rdn) || rdn.length === 0) throw bad();
    return rdn.map((pair) => {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== "string" || typeof pair[1] !== "string") throw bad();
      return [pair[0], pair[1]] as [string, string];
    });
  });
}

function parseAcmePayload(d: PlistDict, index: number): AcmePayload {
  const where = `PayloadContent[${index}] (com.apple.security.acme)`;
  const keyType = str(d, "KeyType", where)!;
  if (keyType !== "RSA" && keyType !== "ECSECPrimeRandom") throw new ProfileError(`${where}: KeyType must be RSA or ECSECPrimeRandom`);
  const keySize = d.KeySize;
  if (typeof keySize !== "number" || !Number.isInteger(keySize)) throw new ProfileError(`${where}: KeySize must be an integer`);
  const hardwareBound = d.HardwareBound ?? false;
  const attest = d.Attest ?? false;
  if (typeof hardwareBound !== "boolean" || typeof attest !== "boolean") throw new ProfileError(`${where}: HardwareBound and Attest must be booleans`);
  // Apple: HardwareBound requires ECSECPrimeRandom 256 or 384; Attest requires HardwareBound.
  if (hardwareBound && !(keyType === "ECSECPrimeRandom" && (keySize === 256 || keySize === 384))) {
    throw new ProfileError(`${where}: HardwareBound requires KeyType ECSECPrimeRandom with KeySize 256 or 384`);
  }
  if (attest && !hardwareBound) throw new ProfileError(`${where}: Attest requires HardwareBound`);

  const directoryUrl = str(d, "DirectoryURL", where)!;
  try {
    new URL(directoryUrl);
  } catch {
    throw new ProfileError(`${where}: DirectoryURL is not a URL`);
  }
  const san = d.SubjectAltName;
  if (san !== undefined && !isDict(san)) throw new ProfileError(`${where}: SubjectAltName must be a dictionary`);
  const sanDict = (san ?? {}) as PlistDict;
  const usage = d.UsageFlags;
  if (usage !== undefined && (typeof usage !== "number" || !Number.isInteger(usage))) throw new ProfileError(`${where}: UsageFlags must be an integer`);

  return {
    PayloadIdentifier: str(d, "PayloadIdentifier", where)!,
    PayloadUUID: str(d, "PayloadUUID", where)!,
    PayloadDisplayName: str(d, "PayloadDisplayName", where, false),
    DirectoryURL: directoryUrl,
    ClientIdentifier: str(d, "ClientIdentifier", where)!,
    KeyType: keyType,
    KeySize: keySize,
    HardwareBound: hardwareBound,
    Attest: attest,
    Subject: parseSubject(d.Subject, where),
    SubjectAltName: {
      rfc822Name: stringList(sanDict.rfc822Name, `${where}: SubjectAltName.rfc822Name`),
      dNSName: stringList(sanDict.dNSName, `${where}: SubjectAltName.dNSName`),
      uniformResourceIdentifier: stringList(sanDict.uniformResourceIdentifier, `${where}: SubjectAltName.uniformResourceIdentifier`),
      ntPrincipalName: stringList(sanDict.ntPrincipalName, `${where}: SubjectAltName.ntPrincipalName`),
    },
    UsageFlags: usage as number | undefined,
    ExtendedKeyUsage: stringList(d.ExtendedKeyUsage, `${where}: ExtendedKeyUsage`),
  };
}

const CERTIFICATE_PAYLOADS = new Set(["com.apple.security.root", "com.apple.security.pkcs1", "com.apple.security.pem"]);

// PEMs of certificate payloads by the data object of a (cached, never mutated) parsed profile: the
// substituted copies share their data objects with it, so each certificate is parsed once.
const pemByContent = new WeakMap<Uint8Array, string>();

function certificatePem(d: PlistDict, where: string): string {
  const content = d.PayloadContent;
  if (!(content instanceof Uint8Array)) throw new ProfileError(`${where}: PayloadContent must be data`);
  let pem = pemByContent.get(content);
  if (pem === undefined) pemByContent.set(content, (pem = parseCertificatePem(content, where)));
  return pem;
}

function parseCertificatePem(content: Uint8Array, where: string): string {
  const buf = Buffer.from(content);
  try {
    const text = buf.toString("latin1");
    const cert = new X509Certificate(text.includes("-----BEGIN CERTIFICATE-----") ? text : buf);
    return cert.toString();
  } catch {
    throw new ProfileError(`${where}: PayloadContent is not a certificate`);
  }
}

function readProfile(root: PlistValue): MobileConfig {
  if (!isDict(root)) throw new ProfileError("the profile is not a property list dictionary");
  if (root.PayloadType !== "Configuration") throw new ProfileError("the profile's PayloadType is not Configuration");
  const content = root.PayloadContent;
  if (!Array.isArray(content)) throw new ProfileError("the profile has no PayloadContent array");
  const acme: AcmePayload[] = [];
  const certificates: ProfileCertificate[] = [];
  content.forEach((p, i) => {
    if (!isDict(p)) throw new ProfileError(`PayloadContent[${i}] is not a dictionary`);
    const type = p.PayloadType;
    if (type === "com.apple.security.acme") acme.push(parseAcmePayload(p, i));
    else if (typeof type === "string" && CERTIFICATE_PAYLOADS.has(type)) {
      const where = `PayloadContent[${i}] (${type})`;
      certificates.push({
        payloadType: type,
        uuid: str(p, "PayloadUUID", where)!,
        identifier: str(p, "PayloadIdentifier", where)!,
        displayName: str(p, "PayloadDisplayName", where, false),
        pem: certificatePem(p, where),
      });
    }
  });
  // Network payloads last: their references must resolve to payloads of this same profile.
  const network: NetworkPayload[] = [];
  content.forEach((p, i) => {
    const type = (p as PlistDict).PayloadType;
    if (typeof type === "string" && NETWORK_PAYLOADS.has(type)) network.push(parseNetworkPayload(p as PlistDict, i, acme, certificates));
  });
  return {
    identifier: str(root, "PayloadIdentifier", "profile")!,
    uuid: str(root, "PayloadUUID", "profile")!,
    displayName: str(root, "PayloadDisplayName", "profile", false),
    acme,
    certificates,
    network,
  };
}

const NETWORK_PAYLOADS = new Set(["com.apple.wifi.managed", "com.apple.firstactiveethernet.managed", "com.apple.vpn.managed"]);

/**
 * A network payload as the device installs it: its identity is the certificate of the payload its
 * PayloadCertificateUUID names, in the same profile; here that must be the ACME payload (a device
 * would install the payload without a usable identity and fail to join).
 */
function parseNetworkPayload(d: PlistDict, index: number, acme: AcmePayload[], certificates: ProfileCertificate[]): NetworkPayload {
  const payloadType = d.PayloadType as NetworkPayload["payloadType"];
  const where = `PayloadContent[${index}] (${payloadType})`;
  const identityOf = (holder: PlistDict, at: string) => {
    const ref = str(holder, "PayloadCertificateUUID", at)!;
    const identity = acme.find((a) => a.PayloadUUID === ref);
    if (!identity) throw new ProfileError(`${at}: PayloadCertificateUUID ${ref} does not name the profile's com.apple.security.acme payload`);
    return identity;
  };
  const base = { payloadType, identifier: str(d, "PayloadIdentifier", where)! };
  if (payloadType === "com.apple.vpn.managed") {
    const ike = d.IKEv2;
    if (d.VPNType !== "IKEv2" || !isDict(ike)) throw new ProfileError(`${where}: only VPNType IKEv2 with an IKEv2 dictionary is simulated`);
    if (ike.AuthenticationMethod !== "Certificate") throw new ProfileError(`${where}: IKEv2.AuthenticationMethod must be Certificate`);
    const identity = identityOf(ike, `${where} IKEv2`);
    const ikev2 = {
      RemoteAddress: str(ike, "RemoteAddress", `${where} IKEv2`)!,
      RemoteIdentifier: str(ike, "RemoteIdentifier", `${where} IKEv2`)!,
      LocalIdentifier: str(ike, "LocalIdentifier", `${where} IKEv2`, false),
      AuthenticationMethod: "Certificate",
      CertificateType: str(ike, "CertificateType", `${where} IKEv2`, false),
    };
    // NetworkExtension: the identity's key type must be the CertificateType (RSA by default).
    const keyType = identity.KeyType === "RSA" ? "RSA" : `ECDSA${identity.KeySize}`;
    if ((ikev2.CertificateType ?? "RSA") !== keyType)
      throw new ProfileError(`${where}: IKEv2.CertificateType ${ikev2.CertificateType ?? "RSA"} does not match the identity's ${keyType} key`);
    return { ...base, identity, ikev2 };
  }
  const eapDict = d.EAPClientConfiguration;
  if (!isDict(eapDict)) throw new ProfileError(`${where}: EAPClientConfiguration is required for an 802.1X network`);
  const types = eapDict.AcceptEAPTypes;
  if (!Array.isArray(types) || types.some((t) => typeof t !== "number")) throw new ProfileError(`${where}: AcceptEAPTypes must be an array of integers`);
  const anchors = stringList(eapDict.PayloadCertificateAnchorUUID, `${where}: PayloadCertificateAnchorUUID`).map((ref) => {
    const c = certificates.find((x) => x.uuid === ref);
    if (!c) throw new ProfileError(`${where}: PayloadCertificateAnchorUUID ${ref} does not name a certificate payload of the profile`);
    return c;
  });
  return {
    ...base,
    identity: identityOf(d, where),
    ssid: payloadType === "com.apple.wifi.managed" ? str(d, "SSID_STR", where)! : undefined,
    eap: {
      acceptEapTypes: types as number[],
      trustedServerNames: stringList(eapDict.TLSTrustedServerNames, `${where}: TLSTrustedServerNames`),
      anchors,
    },
  };
}

// Parsed profiles by their text (a fleet renders the same profile for every device). The cached trees
// are never mutated: substituteInPlist copies, and readProfile only reads.
// Bytes are keyed by their content (the caller may reuse the buffer), strings by themselves.
const parsedByText = new Map<string, PlistValue>();
const MAX_CACHED_TEXTS = 16;

function parsePlist(input: string | Uint8Array): PlistValue {
  const key = typeof input === "string" ? `s${input}` : `b${Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString("latin1")}`;
  let parsed = parsedByText.get(key);
  if (parsed !== undefined) return parsed;
  parsed = parsePlistUncached(input);
  if (parsedByText.size >= MAX_CACHED_TEXTS) parsedByText.delete(parsedByText.keys().next().value!);
  parsedByText.set(key, parsed);
  return parsed;
}

function parsePlistUncached(input: string | Uint8Array): PlistValue {
  const bytes = typeof input === "string" ? Buffer.from(input, "utf8") : Buffer.from(input);
  if (bytes[0] === 0x30) {
    throw new ProfileError("this is a signed (CMS) profile; give the simulator the unsigned XML .mobileconfig");
  }
  try {
    return plist.parse(
      typeof input === "string" ? input : bytes.subarray(0, 8).toString("latin1") === "bplist00" ? new Uint8Array(bytes) : bytes.toString("utf8"),
    );
  } catch (e) {
    throw new ProfileError(`the profile is not a property list: ${(e as Error).message}`);
  }
}

/** Parses a profile as downloaded (variables still in it). */
export function parseMobileconfig(input: string | Uint8Array): MobileConfig {
  return readProfile(parsePlist(input));
}

/** Parses a profile as the device receives it: with the MDM's variables filled in for `device`. */
export function renderMobileconfig(input: string | Uint8Array, device: SimulatedDevice, mdm: Mdm = "kandji"): MobileConfig {
  return readProfile(substituteInPlist(parsePlist(input), device, mdm));
}
