import { AsnConvert } from "@peculiar/asn1-schema";
import { SubjectPublicKeyInfo } from "@peculiar/asn1-x509";
import * as asn1js from "asn1js";
import { createHash, randomBytes } from "node:crypto";
import { x509 } from "./provider";
import { PkiError, type PkiErrorCode } from "@attested/errors";

/** Binary input: a Buffer, any typed array or an ArrayBuffer. */
export type Binary = ArrayBuffer | ArrayBufferView;

export const toBuffer = (data: Binary): Buffer => (ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data));

/** Fingerprint as shown by `openssl x509 -fingerprint`: upper-case hex pairs joined by colons. */
export function fingerprint(der: Binary, algorithm: "sha1" | "sha256"): string {
  const hex = createHash(algorithm).update(toBuffer(der)).digest("hex").toUpperCase();
  return hex.match(/../g)!.join(":");
}

/**
 * A certificate serial number: 16 random bytes, the top bits fixed to 01 so the INTEGER is positive
 * and always 16 bytes long (RFC 5280 §4.1.2.2: positive, at most 20 octets; CA/B Forum: ≥ 64 random bits).
 */
export function randomSerialNumber(): string {
  const b = randomBytes(16);
  b[0] = (b[0] & 0x3f) | 0x40;
  return b.toString("hex");
}

/** Normalizes a serial number written in hex (any case, optional colons, optional 00 padding). */
export function normalizeSerial(serial: string): string | null {
  const hex = serial.replace(/:/g, "").toLowerCase();
  if (!/^[0-9a-f]+$/.test(hex) || hex.length > 42) return null;
  const trimmed = hex.replace(/^0+(?=.)/, "");
  return trimmed.length % 2 ? `0${trimmed}` : trimmed;
}

/** Parses one PEM or DER certificate, turning parser exceptions into a PkiError. */
export function parseCertificate(input: string | Binary, field: string, code: PkiErrorCode = "badCaCertificate"): x509.X509Certificate {
  try {
    return new x509.X509Certificate(typeof input === "string" ? input : bytes(toBuffer(input)));
  } catch (cause) {
    throw new PkiError(code, `${field} is not a valid X.509 certificate`, field, undefined, { cause });
  }
}

/** Drops milliseconds: certificate, CRL and OCSP times have one-second precision. */
export const toSecond = (d: Date): Date => new Date(Math.floor(d.getTime() / 1000) * 1000);

/**
 * The subject Name of a certificate exactly as encoded in it (not re-serialized), which is what
 * OCSP's issuerNameHash is computed over (RFC 6960 §4.1.1).
 */
export function rawSubjectName(cert: x509.X509Certificate): Buffer {
  const parsed = asn1js.fromBER(cert.rawData);
  const tbs = (parsed.result as asn1js.Sequence).valueBlock.value[0] as asn1js.Sequence;
  const fields = tbs.valueBlock.value;
  const offset = fields[0].idBlock.tagClass === 3 ? 1 : 0; // [0] EXPLICIT version is optional
  return Buffer.from(fields[offset + 4].valueBeforeDecodeView);
}

/** The subjectPublicKey BIT STRING contents (no unused-bits octet): what SKI and issuerKeyHash hash. */
export function subjectPublicKeyBits(cert: x509.X509Certificate): Buffer {
  return Buffer.from(AsnConvert.parse(cert.publicKey.rawData, SubjectPublicKeyInfo).subjectPublicKey);
}

/** A Buffer seen as a plain Uint8Array (no copy) for WebCrypto's BufferSource typing. */
export const bytes = (b: Buffer | Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength);
