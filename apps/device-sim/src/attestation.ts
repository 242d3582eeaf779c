// Builds Apple `device-attest-01` attestation objects the way an Apple device does
// (draft-ietf-acme-device-attest; docs/protocol.md#the-attestation-object): CBOR {fmt:"apple",
// attStmt:{x5c:[leaf, Sub CA 1]}, authData?}, with the leaf's extensions in the layout of a real Apple
// leaf; plus deliberate forgeries for negative tests.
import { createHash, createPublicKey, generateKeyPairSync, randomBytes } from "node:crypto";
import { Encoder } from "cbor-x";
import { SimulatedAppleCa } from "./apple-ca";
import { DEVICE_DEFAULTS, publicKeySpki, udidForSerial, type SimulatedDevice } from "./device";
import { encodeName, extension, keyUsageValue, seq, smallInteger } from "./der";

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

/** Apple's leaf serial looks like the issuance time in ms (0x198084c7ebc); one random byte keeps it unique. */
function leafSerial(issuedAt: Date): string {
  const hex = (issuedAt.getTime() * 256 + randomBytes(1)[0]!).toString(16);
  return hex.length % 2 ? `0${hex}` : hex;
}

const ascii = (id: string, v: string) => extension(id, false, Buffer.from(v, "ascii"));

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

// KeyUsage bits (X.509 numbering: bit 0 = digitalSignature) of Apple's leaf.
const LEAF_KEY_USAGE = 1 | 2 | 4 | 8; // digitalSignature, nonRepudiation, keyEncipherment, dataEncipherment
const BASIC_CONSTRAINTS_LEAF = extension("2.5.29.19", true, seq()); // cA FALSE (the default, so empty)
const KEY_USAGE_LEAF = extension("2.5.29.15", true, keyUsageValue(LEAF_KEY_USAGE));

/** The SubjectPublicKeyInfo DER of the key to attest (re-encoded canonically when given as DER). */
function spkiOf(k: CryptoKey | Uint8Array): Buffer {
  if (!(k instanceof Uint8Array)) return publicKeySpki(k);
  return createPublicKey({ key: Buffer.from(k), format: "der", type: "spki" }).export({ type: "spki", format: "der" });
}

/** A fresh key on the same curve (P-256 for non-EC keys), for the otherKey forgery. */
function otherKey(spki: Buffer): Buffer {
  const like = createPublicKey({ key: spki, format: "der", type: "spki" });
  const namedCurve = like.asymmetricKeyType === "ec" ? (like.asymmetricKeyDetails?.namedCurve ?? "prime256v1") : "prime256v1";
  return generateKeyPairSync("ec", { namedCurve }).publicKey.export({ type: "spki", format: "der" });
}

// A separate self-made "Apple" hierarchy for the wrongRoot forgery, made once per process.
let rogueCa: Promise<SimulatedAppleCa> | undefined;
function rogue(): Promise<SimulatedAppleCa> {
  rogueCa ??= SimulatedAppleCa.create();
  return rogueCa;
}

function leafSubject(cn: string): Buffer {
  return encodeName([[["CN", cn]], [["OU", "AAA Certification"]], [["O", "Apple Inc."]], [["ST", "California"]]])!;
}

/** Returns the CBOR attestation object for `device` attesting `publicKey` for `token`. */
export async function buildAttestation(args: BuildAttestationArgs): Promise<Uint8Array> {
  const { device, token, forge } = args;
  const now = args.now ?? new Date();
  let spki = spkiOf(args.publicKey);
  if (forge === "otherKey") spki = otherKey(spki);
  const ca = forge === "wrongRoot" ? await rogue() : args.ca;

  let serial = device.serialNumber;
  let udid = device.udid;
  if (forge === "otherSerial") {
    serial = `X${randomBytes(6).toString("hex").toUpperCase().slice(0, 11)}`;
    udid = udidForSerial(serial);
  }
  const freshness =
    forge === "staleNonce" ? createHash("sha256").update(randomBytes(16).toString("base64url")).digest() : createHash("sha256").update(token, "utf8").digest(); // SHA-256 of the token itself (docs/protocol.md#apple-leaf-extensions)

  // Extension order and criticality as in the real leaf (docs/reference/apple/real-attestation-leaf-2025-07.pem).
  const extensions: Buffer[] = [
    BASIC_CONSTRAINTS_LEAF,
    KEY_USAGE_LEAF,
    ascii(OID.sepOsVersion, device.sepOsVersion ?? DEVICE_DEFAULTS.sepOsVersion),
    ascii(OID.llbVersion, device.llbVersion ?? DEVICE_DEFAULTS.llbVersion),
    ascii(OID.osVersion, device.osVersion ?? DEVICE_DEFAULTS.osVersion),
    ascii(OID.swUpdateDeviceId, device.softwareUpdateDeviceId ?? DEVICE_DEFAULTS.softwareUpdateDeviceId),
    ...(device.platform === "iOS"
      ? []
      : [
          ascii(OID.secureBoot, device.secureBootLevel ?? DEVICE_DEFAULTS.secureBootLevel),
          extension(OID.sip, false, smallInteger(device.sipStatus ?? DEVICE_DEFAULTS.sipStatus)),
          extension(OID.kexts, false, smallInteger(device.thirdPartyKexts ?? DEVICE_DEFAULTS.thirdPartyKexts)),
        ]),
    ascii(OID.serial, serial),
    ascii(OID.udid, udid),
  ];
  if (forge !== "missingNonce") extensions.push(extension(OID.freshness, false, freshness));

  const issuedAt = forge === "expiredChain" ? new Date(now.getTime() - 120 * DAY_MS) : new Date(now.getTime() - 60_000);
  const leaf = ca.issueLeafDer({
    // Apple's leaf subject: CN = a 64-hex-digit hash, OU=AAA Certification, O=Apple Inc., ST=California.
    serialNumber: leafSerial(issuedAt),
    subject: leafSubject(createHash("sha256").update(spki).digest("hex")),
    spki,
    extensions,
    notBefore: issuedAt,
    notAfter: new Date(issuedAt.getTime() + LEAF_LIFETIME_MS),
  });

  const attObj: Record<string, unknown> = {
    fmt: "apple",
    attStmt: { x5c: [leaf, ca.subCaDer] },
  };
  if (args.authData) attObj.authData = Buffer.from(args.authData);
  const bytes = new Uint8Array(encoder.encode(attObj));
  if (forge === "malformedCbor") {
    // Cut the object short: the outer map then declares more than the input holds.
    return bytes.subarray(0, Math.floor(bytes.length / 2));
  }
  return bytes;
}
