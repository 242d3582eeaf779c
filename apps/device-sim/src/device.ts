// The simulated device: its attributes (as the MDM knows them and as Apple attests them) and its keys.
import { KeyObject, createHash } from "node:crypto";
import { ecSpkiFromJwk } from "./der";
import { crypto } from "./x509";

export interface SimulatedDevice {
  serialNumber: string;
  /** The device UDID (on a Mac, Apple attests the provisioning UDID). */
  udid: string;
  deviceName?: string;
  /** The assigned user's email and full name in the MDM. */
  email?: string;
  fullName?: string;
  model?: string;
  /**
   * "iOS": an iPhone's or iPad's leaf, without the Mac-only SIP, Secure Boot and kernel-extension
   * extensions (Apple adds them to a Mac's only). Default "macOS".
   */
  platform?: "macOS" | "iOS";
  // What Apple attests about the software (defaults: a macOS 15.5 Mac in Full Security).
  osVersion?: string;
  sepOsVersion?: string;
  llbVersion?: string;
  softwareUpdateDeviceId?: string;
  secureBootLevel?: string;
  sipStatus?: number;
  thirdPartyKexts?: number;
}

export const DEVICE_DEFAULTS = {
  osVersion: "15.5",
  sepOsVersion: "15.5",
  llbVersion: "15.5",
  softwareUpdateDeviceId: "J514sAP",
  secureBootLevel: "Full Security",
  sipStatus: 0,
  thirdPartyKexts: 0,
} as const;

export type KeyType = "ECSECPrimeRandom" | "RSA";

export interface DeviceKeySpec {
  keyType: KeyType;
  keySize: number;
  /** Hardware-bound keys are created non-extractable, as in the Secure Enclave. */
  hardwareBound: boolean;
}

export interface DeviceKey {
  keys: CryptoKeyPair;
  /** WebCrypto algorithm used to sign the CSR. */
  signingAlgorithm: EcdsaParams | RsaHashedImportParams | Algorithm;
  spki: Buffer;
}

/** Creates the device key per the ACME payload's KeyType/KeySize (docs/protocol.md#the-acme-profile-payload). */
export async function createDeviceKey(spec: DeviceKeySpec): Promise<DeviceKey> {
  const extractable = !spec.hardwareBound;
  let keys: CryptoKeyPair;
  let signingAlgorithm: DeviceKey["signingAlgorithm"];
  if (spec.keyType === "ECSECPrimeRandom") {
    const curve = spec.keySize === 256 ? "P-256" : spec.keySize === 384 ? "P-384" : null;
    if (!curve) throw new RangeError(`ECSECPrimeRandom KeySize must be 256 or 384, not ${spec.keySize}`);
    keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: curve }, extractable, ["sign", "verify"])) as CryptoKeyPair;
    signingAlgorithm = { name: "ECDSA", hash: spec.keySize === 256 ? "SHA-256" : "SHA-384" } as EcdsaParams;
  } else {
    if (!Number.isInteger(spec.keySize) || spec.keySize < 2048 || spec.keySize > 4096 || spec.keySize % 8 !== 0) {
      throw new RangeError(`RSA KeySize must be 2048 to 4096 bits, not ${spec.keySize}`);
    }
    const alg: RsaHashedKeyGenParams = {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: spec.keySize,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    };
    keys = (await crypto.subtle.generateKey(alg, extractable, ["sign", "verify"])) as CryptoKeyPair;
    signingAlgorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as RsaHashedImportParams;
  }
  const spki = publicKeySpki(keys.publicKey);
  return { keys, signingAlgorithm, spki };
}

const spkiByKey = new WeakMap<CryptoKey, Buffer>();

/**
 * The SubjectPublicKeyInfo DER of a public CryptoKey, the same bytes as subtle.exportKey("spki"), made
 * synchronously (EC keys from their JWK coordinates) and remembered per key.
 */
export function publicKeySpki(key: CryptoKey): Buffer {
  let spki = spkiByKey.get(key);
  if (!spki) {
    const k = KeyObject.from(key);
    spki = (k.asymmetricKeyType === "ec" ? ecSpkiFromJwk(k.export({ format: "jwk" })) : null) ?? k.export({ type: "spki", format: "der" });
    spkiByKey.set(key, spki);
  }
  return spki;
}

/** A deterministic UDID-shaped value for a serial (Apple silicon style: 8 hex, '-', 16 hex). */
export function udidForSerial(serial: string): string {
  const h = createHash("sha256").update(serial).digest("hex").toUpperCase();
  return `00008103-${h.slice(0, 16)}`;
}

/**
 * `count` devices with deterministic serials `<prefix><index in base 36>` (12 characters, uppercase,
 * like Apple's), UDIDs, names and users, e.g. to seed the Kandji simulator with the same fleet.
 */
export function generateDevices(count: number, prefix = "SIM"): SimulatedDevice[] {
  if (!/^[A-Z0-9]{0,8}$/.test(prefix)) throw new RangeError("serial prefix must be 0-8 uppercase letters or digits");
  return Array.from({ length: count }, (_, i) => {
    const serialNumber =
      prefix +
      i
        .toString(36)
        .toUpperCase()
        .padStart(12 - prefix.length, "0");
    return {
      serialNumber,
      udid: udidForSerial(serialNumber),
      deviceName: `Simulated Mac ${i + 1}`,
      email: `user${i + 1}@example.com`,
      fullName: `Simulated User ${i + 1}`,
      model: "MacBook Pro (14-inch, 2023)",
    };
  });
}
