// Reads the Apple Managed Device Attestation properties out of a leaf certificate
// (docs/protocol.md#apple-leaf-extensions).
import { createHash } from "node:crypto";
import { APPLE_OID } from "./oids";
import { x509 } from "./x509";
import { AttestationError } from "@attested/errors";

export interface AppleLeafProperties {
  serialNumber?: string;
  udid?: string;
  softwareUpdateDeviceId?: string;
  osVersion?: string;
  sepOsVersion?: string;
  llbVersion?: string;
  /** 32 raw bytes: SHA-256 of the challenge token. */
  freshnessCode?: Buffer;
  /** 0 = System Integrity Protection enabled. */
  sipStatus?: number;
  secureBootLevel?: string;
  /** 0 = no third-party kernel extensions. */
  thirdPartyKexts?: number;
  /** The attested key: the leaf's SubjectPublicKeyInfo, DER. */
  publicKeySpki: Buffer;
}

export type CertificateInput = x509.X509Certificate | Uint8Array | string;

export function toCertificate(input: CertificateInput): x509.X509Certificate {
  if (input instanceof x509.X509Certificate) return input;
  try {
    return new x509.X509Certificate(typeof input === "string" ? input : toArrayBuffer(input));
  } catch (e) {
    throw new AttestationError("chainInvalid", `not a valid X.509 certificate: ${(e as Error).message}`);
  }
}

function toArrayBuffer(u: Uint8Array): ArrayBuffer {
  return u.buffer.slice(u.byteOffset, u.byteOffset + u.byteLength) as ArrayBuffer;
}

/** Printable ASCII only: the values are ASCII per Apple, and end up in logs, events and templates. */
function ascii(oid: string, raw: Buffer): string {
  for (const b of raw) {
    if (b < 0x20 || b > 0x7e) throw new AttestationError("malformedExtension", `extension ${oid} is not printable ASCII`);
  }
  return raw.toString("latin1");
}

/** The content of the extension is a DER INTEGER (e.g. 02 01 00); small values only. */
function derInteger(oid: string, raw: Buffer): number {
  const fail = (): never => {
    throw new AttestationError("malformedExtension", `extension ${oid} is not a DER INTEGER`);
  };
  if (raw.length < 3 || raw[0] !== 0x02) fail();
  const len = raw[1]!;
  if (len === 0 || len > 6 || raw.length !== 2 + len) fail();
  const body = raw.subarray(2);
  // DER: minimal two's complement (no redundant leading 0x00 / 0xff)
  if (len > 1 && ((body[0] === 0x00 && body[1]! < 0x80) || (body[0] === 0xff && body[1]! >= 0x80))) fail();
  return body.readIntBE(0, len);
}

/** Parses the Apple attestation properties of a leaf. Missing extensions stay undefined. */
export function parseAppleLeaf(input: CertificateInput): AppleLeafProperties {
  const cert = toCertificate(input);
  return appleLeafProperties(
    cert.extensions.map((ext) => ({ type: ext.type, value: ext.value })),
    Buffer.from(cert.publicKey.rawData),
  );
}

/**
 * The Apple attestation properties from a leaf's extensions (type and extnValue contents, in
 * certificate order) and its SubjectPublicKeyInfo DER.
 */
export function appleLeafProperties(
  extensions: ReadonlyArray<{ type: string; value: ArrayBuffer | Uint8Array }>,
  publicKeySpki: Uint8Array,
): AppleLeafProperties {
  const values = new Map<string, Buffer>();
  for (const ext of extensions) {
    if (values.has(ext.type)) {
      // RFC 5280 §4.2: a certificate must not include more than one instance of an extension
      throw new AttestationError("malformedExtension", `extension ${ext.type} appears more than once`);
    }
    values.set(ext.type, Buffer.from(ext.value instanceof Uint8Array ? ext.value : new Uint8Array(ext.value)));
  }
  const text = (oid: string) => {
    const v = values.get(oid);
    return v === undefined ? undefined : ascii(oid, v);
  };
  const int = (oid: string) => {
    const v = values.get(oid);
    return v === undefined ? undefined : derInteger(oid, v);
  };
  const out: AppleLeafProperties = {
    publicKeySpki: Buffer.from(publicKeySpki),
  };
  const assign = <K extends keyof AppleLeafProperties>(k: K, v: AppleLeafProperties[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  assign("serialNumber", text(APPLE_OID.serialNumber));
  assign("udid", text(APPLE_OID.udid));
  assign("softwareUpdateDeviceId", text(APPLE_OID.softwareUpdateDeviceId));
  assign("osVersion", text(APPLE_OID.osVersion));
  assign("sepOsVersion", text(APPLE_OID.sepOsVersion));
  assign("llbVersion", text(APPLE_OID.llbVersion));
  assign("freshnessCode", values.get(APPLE_OID.freshnessCode));
  assign("sipStatus", int(APPLE_OID.sipStatus));
  assign("secureBootLevel", text(APPLE_OID.secureBootLevel));
  assign("thirdPartyKexts", int(APPLE_OID.thirdPartyKexts));
  return out;
}

/** Lowercase hex SHA-256 of a DER certificate. */
export function certificateFingerprint(der: Uint8Array): string {
  return createHash("sha256").update(der).digest("hex");
}
