// The CSR a device sends at finalize: the device key, the payload's Subject, SubjectAltName, key usage
// and extended key usage (docs/protocol.md#the-enrollment-flow, step 4).
import { KeyObject, sign } from "node:crypto";
import { OID_RE, bitString, encodeName, explicit, extension, keyUsageValue, nullValue, oid, seq, set, smallInteger, tlv } from "./der";
import type { DeviceKey } from "./device";
import type { AcmePayload } from "./profile";
import { crypto, x509 } from "./x509";

/** Array-form Subject ([[["CN","x"]],[["O","y"]]]) to a JSON name; types may be short names or OIDs. */
export function subjectToJsonName(subject: AcmePayload["Subject"]): x509.JsonName {
  return subject.map((rdn) => {
    const attrs: Record<string, string[]> = {};
    for (const [type, value] of rdn) (attrs[type] ??= []).push(value);
    return attrs;
  });
}

function generalNames(san: AcmePayload["SubjectAltName"]): x509.JsonGeneralNames {
  const names: x509.JsonGeneralNames = [];
  const add = (type: x509.GeneralNameType, values: string[]) => {
    for (const value of values) if (value !== "") names.push({ type, value });
  };
  add("email", san.rfc822Name);
  add("dns", san.dNSName);
  add("url", san.uniformResourceIdentifier);
  add("upn", san.ntPrincipalName); // otherName 1.3.6.1.4.1.311.20.2.3
  return names;
}

/** Apple's UsageFlags bits (1 = signing, 4 = encryption) as X.509 key usage. */
export function keyUsageFromFlags(flags: number): number {
  let usage = 0;
  if (flags & 1) usage |= x509.KeyUsageFlags.digitalSignature;
  if (flags & 4) usage |= x509.KeyUsageFlags.keyEncipherment;
  return usage;
}

const ASCII_RE = /^[\x00-\x7f]*$/;
const UPN = "1.3.6.1.4.1.311.20.2.3";
const EXTENSION_REQUEST = "1.2.840.113549.1.9.14";

/** The SubjectAltName value (GeneralNames), or null when a name needs the library's handling. */
function generalNamesDer(san: AcmePayload["SubjectAltName"]): Buffer | null | undefined {
  const names: Buffer[] = [];
  const ia5 = (tag: number, values: string[]) => {
    for (const value of values) {
      if (value === "") continue;
      if (!ASCII_RE.test(value)) return false;
      names.push(tlv(tag, Buffer.from(value, "latin1")));
    }
    return true;
  };
  if (!ia5(0x81, san.rfc822Name) || !ia5(0x82, san.dNSName) || !ia5(0x86, san.uniformResourceIdentifier)) return null;
  for (const value of san.ntPrincipalName) {
    if (value === "") continue;
    // otherName [0] { type-id, [0] EXPLICIT UTF8String }
    names.push(tlv(0xa0, oid(UPN), explicit(0, tlv(0x0c, Buffer.from(value, "utf8")))));
  }
  return names.length ? seq(...names) : undefined;
}

// Private KeyObjects of device keys, made once per key (KeyObject.from shares the key, it exports nothing).
const keyObjects = new WeakMap<CryptoKey, KeyObject>();
function keyObject(k: CryptoKey): KeyObject {
  let o = keyObjects.get(k);
  if (!o) keyObjects.set(k, (o = KeyObject.from(k)));
  return o;
}

/** The signature algorithm for the device key: ecdsa-with-SHA256/384 as the key size asks, or sha256WithRSAEncryption. */
function signatureScheme(key: DeviceKey): { hash: string; algorithmDer: Buffer } | null {
  const alg = key.keys.privateKey.algorithm as EcKeyAlgorithm | RsaHashedKeyAlgorithm;
  const hash = ((key.signingAlgorithm as EcdsaParams).hash as string | { name: string } | undefined) ?? (alg as RsaHashedKeyAlgorithm).hash;
  const hashName = typeof hash === "string" ? hash : hash?.name;
  if (alg.name === "ECDSA" && hashName === "SHA-256") return { hash: "sha256", algorithmDer: seq(oid("1.2.840.10045.4.3.2")) };
  if (alg.name === "ECDSA" && hashName === "SHA-384") return { hash: "sha384", algorithmDer: seq(oid("1.2.840.10045.4.3.3")) };
  if (alg.name === "RSASSA-PKCS1-v1_5" && hashName === "SHA-256") return { hash: "sha256", algorithmDer: seq(oid("1.2.840.113549.1.1.11"), nullValue) };
  return null;
}

/**
 * The CSR assembled as DER and signed with node:crypto; null when something in the payload needs
 * @peculiar/x509's more general handling (then buildCsr uses it).
 */
export function buildCsrNative(payload: AcmePayload, key: DeviceKey): Buffer | null {
  const scheme = signatureScheme(key);
  if (!scheme) return null;
  const subject = encodeName(payload.Subject);
  if (!subject) return null;
  const extensions: Buffer[] = [];
  const sans = generalNamesDer(payload.SubjectAltName);
  if (sans === null) return null;
  if (sans) extensions.push(extension("2.5.29.17", false, sans));
  if (payload.UsageFlags !== undefined) {
    const usage = keyUsageFromFlags(payload.UsageFlags);
    if (usage !== 0) extensions.push(extension("2.5.29.15", true, keyUsageValue(usage)));
  }
  if (payload.ExtendedKeyUsage.length > 0) {
    if (!payload.ExtendedKeyUsage.every((u) => OID_RE.test(u))) return null;
    extensions.push(extension("2.5.29.37", false, seq(...payload.ExtendedKeyUsage.map(oid))));
  }
  // attributes [0] IMPLICIT SET OF Attribute: the extensionRequest, when there are extensions.
  const attributes = extensions.length ? explicit(0, seq(oid(EXTENSION_REQUEST), set(seq(...extensions)))) : explicit(0);
  const info = seq(smallInteger(0), subject, key.spki, attributes);
  const signature = sign(scheme.hash, info, keyObject(key.keys.privateKey));
  return seq(info, scheme.algorithmDer, bitString(signature));
}

/** Builds and signs the PKCS#10 request with the device key; returns DER. */
export async function buildCsr(payload: AcmePayload, key: DeviceKey): Promise<Buffer> {
  return buildCsrNative(payload, key) ?? buildCsrWithLibrary(payload, key);
}

/** The general path: @peculiar/x509's generator (WebCrypto). Also the reference the native path is tested against. */
export async function buildCsrWithLibrary(payload: AcmePayload, key: DeviceKey): Promise<Buffer> {
  const extensions: x509.Extension[] = [];
  const sans = generalNames(payload.SubjectAltName);
  if (sans.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(sans, false));
  if (payload.UsageFlags !== undefined) {
    const usage = keyUsageFromFlags(payload.UsageFlags);
    if (usage !== 0) extensions.push(new x509.KeyUsagesExtension(usage as x509.KeyUsageFlags, true));
  }
  if (payload.ExtendedKeyUsage.length > 0) extensions.push(new x509.ExtendedKeyUsageExtension(payload.ExtendedKeyUsage, false));
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    {
      name: subjectToJsonName(payload.Subject),
      keys: key.keys,
      signingAlgorithm: key.signingAlgorithm,
      extensions,
    },
    crypto,
  );
  return Buffer.from(csr.rawData);
}
