// Builds Apple `device-attest-01` attestation objects the way an Apple device does (SPEC §4,
// draft-ietf-acme-device-attest): CBOR {fmt:"apple", attStmt:{x5c:[leaf, Sub CA 1]}, authData?}, with the
// leaf's extensions in the layout of a real Apple leaf; plus deliberate forgeries for negative tests.
import { createHash, randomBytes } from "node:crypto";
import { Encoder } from "cbor-x";
import { SimulatedAppleCa } from "./apple-ca";
import { DEVICE_DEFAULTS, udidForSerial, type SimulatedDevice } from "./device";
import { crypto, x509 } from "./x509";

export const FORGERIES = [
  "wrongRoot", // chain to another self-made root (same names, other keys)
  "staleNonce", // freshness code = SHA-256 of another token
  "missingNonce", // no freshness code extension
  "otherSerial", // attests another device (other serial number and UDID)
  "otherKey", // attests a different key than the one the CSR will carry
  "expiredChain", // leaf validity ended in the past
  "malformedCbor", // truncated CBOR
] as const;
export type Forgery = (typeof FORGERIES)[number];

export function isForgery(s: string): s is Forgery {
  return (FORGERIES as readonly string[]).includes(s);
}

// Same OIDs as @attested/attestation's APPLE_OID, written out here so the simulator is an independent
// implementation of the layout rather than a mirror of the verifier.
const OID = {
  serial: "1.2.840.113635.100.8.9.1",
  udid: "1.2.840.113635.100.8.9.2",
  swUpdateDeviceId: "1.2.840.113635.100.8.9.4",
  osVersion: "1.2.840.113635.100.8.10.1",
  sepOsVersion: "1.2.840.113635.100.8.10.2",
  llbVersion: "1.2.840.113635.100.8.10.3",
  freshness: "1.2.840.113635.100.8.11.1",
  sip: "1.2.840.113635.100.8.13.1",
  secureBoot: "1.2.840.113635.100.8.13.2",
  kexts: "1.2.840.113635.100.8.13.3",
} as const;

const DAY_MS = 86_400_000;
/** Apple's attestation leaves live 91 days (the reference leaf: 2025-07-13 to 2025-10-12). */
const LEAF_LIFETIME_MS = 91 * DAY_MS;

const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false, variableMapSize: true });

/** DER INTEGER for small non-negative values, e.g. 0 -> 02 01 00. */
function derInteger(n: number): Uint8Array<ArrayBuffer> {
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) throw new RangeError(`unsupported INTEGER ${n}`);
  const bytes: number[] = [];
  let v = n;
  do {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (v > 0);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return new Uint8Array([0x02, bytes.length, ...bytes]);
}

/** Apple's leaf serial looks like the issuance time in ms (0x198084c7ebc); one random byte keeps it unique. */
function leafSerial(issuedAt: Date): string {
  const hex = (issuedAt.getTime() * 256 + randomBytes(1)[0]!).toString(16);
  return hex.length % 2 ? `0${hex}` : hex;
}

const ascii = (oid: string, v: string) => new x509.Extension(oid, false, new Uint8Array(Buffer.from(v, "ascii")));

export interface BuildAttestationArgs {
  device: SimulatedDevice;
  /** The key to attest (the device's key), as a CryptoKey or SubjectPublicKeyInfo DER. */
  publicKey: CryptoKey | Uint8Array;
  /** The device-attest-01 challenge token. */
  token: string;
  ca: SimulatedAppleCa;
  forge?: Forgery;
  /** Include a WebAuthn-style authData byte string (Apple may omit it). */
  authData?: Uint8Array;
  now?: Date;
}

async function toCryptoKey(k: CryptoKey | Uint8Array): Promise<CryptoKey> {
  if (!(k instanceof Uint8Array)) return k;
  const spki = new x509.PublicKey(new Uint8Array(k));
  return spki.export(crypto);
}

async function otherKey(like: CryptoKey): Promise<CryptoKey> {
  const curve = (like.algorithm as EcKeyAlgorithm).namedCurve ?? "P-256";
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: curve }, true, ["sign", "verify"])) as CryptoKeyPair;
  return pair.publicKey;
}

// A separate self-made "Apple" hierarchy for the wrongRoot forgery, made once per process.
let rogueCa: Promise<SimulatedAppleCa> | undefined;
function rogue(): Promise<SimulatedAppleCa> {
  rogueCa ??= SimulatedAppleCa.create();
  return rogueCa;
}

/** Returns the CBOR attestation object for `device` attesting `publicKey` for `token`. */
export async function buildAttestation(args: BuildAttestationArgs): Promise<Uint8Array> {
  const { device, token, forge } = args;
  const now = args.now ?? new Date();
  let publicKey = await toCryptoKey(args.publicKey);
  if (forge === "otherKey") publicKey = await otherKey(publicKey);
  const ca = forge === "wrongRoot" ? await rogue() : args.ca;

  let serial = device.serialNumber;
  let udid = device.udid;
  if (forge === "otherSerial") {
    serial = `X${randomBytes(6).toString("hex").toUpperCase().slice(0, 11)}`;
    udid = udidForSerial(serial);
  }
  const freshness =
    forge === "staleNonce"
      ? createHash("sha256").update(randomBytes(16).toString("base64url")).digest()
      : createHash("sha256").update(token, "utf8").digest(); // SHA-256 of the token itself (SPEC §4)

  const spki = Buffer.from(await crypto.subtle.exportKey("spki", publicKey));
  // Extension order and criticality as in the real leaf (reference/apple/real-attestation-leaf-2025-07.pem).
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation | x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.dataEncipherment,
      true,
    ),
    ascii(OID.sepOsVersion, device.sepOsVersion ?? DEVICE_DEFAULTS.sepOsVersion),
    ascii(OID.llbVersion, device.llbVersion ?? DEVICE_DEFAULTS.llbVersion),
    ascii(OID.osVersion, device.osVersion ?? DEVICE_DEFAULTS.osVersion),
    ascii(OID.swUpdateDeviceId, device.softwareUpdateDeviceId ?? DEVICE_DEFAULTS.softwareUpdateDeviceId),
    ascii(OID.secureBoot, device.secureBootLevel ?? DEVICE_DEFAULTS.secureBootLevel),
    new x509.Extension(OID.sip, false, derInteger(device.sipStatus ?? DEVICE_DEFAULTS.sipStatus)),
    new x509.Extension(OID.kexts, false, derInteger(device.thirdPartyKexts ?? DEVICE_DEFAULTS.thirdPartyKexts)),
    ascii(OID.serial, serial),
    ascii(OID.udid, udid),
  ];
  if (forge !== "missingNonce") extensions.push(new x509.Extension(OID.freshness, false, new Uint8Array(freshness)));

  const issuedAt = forge === "expiredChain" ? new Date(now.getTime() - 120 * DAY_MS) : new Date(now.getTime() - 60_000);
  const leaf = await ca.issueLeaf({
    // Apple's leaf subject: CN = a 64-hex-digit hash, OU=AAA Certification, O=Apple Inc., ST=California.
    serialNumber: leafSerial(issuedAt),
    subject: `CN=${createHash("sha256").update(spki).digest("hex")}, OU=AAA Certification, O=Apple Inc., ST=California`,
    publicKey,
    extensions,
    notBefore: issuedAt,
    notAfter: new Date(issuedAt.getTime() + LEAF_LIFETIME_MS),
  });

  const attObj: Record<string, unknown> = {
    fmt: "apple",
    attStmt: { x5c: [Buffer.from(leaf.rawData), Buffer.from(ca.subCa.certificate.rawData)] },
  };
  if (args.authData) attObj.authData = Buffer.from(args.authData);
  const bytes = new Uint8Array(encoder.encode(attObj));
  if (forge === "malformedCbor") {
    // Cut the object short: the outer map then declares more than the input holds.
    return bytes.subarray(0, Math.floor(bytes.length / 2));
  }
  return bytes;
}
