import { AsnConvert } from "@peculiar/asn1-schema";
import { SubjectPublicKeyInfo } from "@peculiar/asn1-x509";
import * as asn1js from "asn1js";
import { attributeKeys, formatDn, fromX509Name, type DnAttribute } from "./dn";
import { PkiError } from "./errors";
import { bytes, toBuffer, type Binary } from "./encoding";
import { crypto, x509 } from "./provider";
import { parseSans, type CsrSans } from "./san";
import type { TemplateContext } from "./template";

const MAX_CSR_BYTES = 64 * 1024;
const RSA_OID = "1.2.840.113549.1.1.1";
const EC_OID = "1.2.840.10045.2.1";
const NAMED_CURVES: Record<string, "P-256" | "P-384" | "P-521"> = {
  "1.2.840.10045.3.1.7": "P-256",
  "1.3.132.0.34": "P-384",
  "1.3.132.0.35": "P-521",
};
export const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 8192;

export interface PublicKeyInfo {
  /** "RSA 2048", "EC P-256", ... for events and the certificate detail page. */
  description: string;
  type: "RSA" | "EC";
  /** DER SubjectPublicKeyInfo, as it will appear in the certificate. */
  spki: Buffer;
}

/**
 * Accepts RSA keys of 2048 to 8192 bits with an odd exponent ≥ 3 and EC keys on P-256, P-384, P-521
 * (importing the point checks it lies on the curve). Anything else is a `badPublicKey`.
 */
export async function checkPublicKey(spkiDer: Binary): Promise<PublicKeyInfo> {
  let info: SubjectPublicKeyInfo;
  try {
    info = AsnConvert.parse(bytes(toBuffer(spkiDer)), SubjectPublicKeyInfo);
  } catch (cause) {
    throw new PkiError("badPublicKey", "The public key is not a valid SubjectPublicKeyInfo", "csr", undefined, { cause });
  }
  const spki = Buffer.from(AsnConvert.serialize(info));
  const oid = info.algorithm.algorithm;
  if (oid === RSA_OID) {
    const key = await importOrFail(spki, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, "RSA");
    const { modulusLength, publicExponent } = key.algorithm as RsaHashedKeyAlgorithm;
    const e = BigInt("0x" + (Buffer.from(publicExponent).toString("hex") || "0"));
    if (modulusLength < MIN_RSA_BITS) throw new PkiError("badPublicKey", `RSA keys must have at least ${MIN_RSA_BITS} bits; this one has ${modulusLength}`, "csr");
    if (modulusLength > MAX_RSA_BITS) throw new PkiError("badPublicKey", `RSA keys may have at most ${MAX_RSA_BITS} bits; this one has ${modulusLength}`, "csr");
    if (e < 3n || e % 2n === 0n) throw new PkiError("badPublicKey", `RSA public exponent ${e} is not allowed`, "csr");
    return { description: `RSA ${modulusLength}`, type: "RSA", spki };
  }
  if (oid === EC_OID) {
    let curveOid: string | undefined;
    try {
      const params = info.algorithm.parameters ? asn1js.fromBER(info.algorithm.parameters).result : undefined;
      if (params instanceof asn1js.ObjectIdentifier) curveOid = params.valueBlock.toString();
    } catch {
      curveOid = undefined;
    }
    const curve = curveOid ? NAMED_CURVES[curveOid] : undefined;
    if (!curve) throw new PkiError("badPublicKey", `EC keys must be on P-256, P-384 or P-521${curveOid ? `, not ${curveOid}` : ""}`, "csr");
    await importOrFail(spki, { name: "ECDSA", namedCurve: curve }, `EC ${curve}`);
    return { description: `EC ${curve}`, type: "EC", spki };
  }
  throw new PkiError("badPublicKey", `Unsupported public key algorithm ${oid}: use RSA or EC`, "csr");
}

async function importOrFail(spki: Buffer, alg: RsaHashedImportParams | EcKeyImportParams, what: string): Promise<CryptoKey> {
  try {
    return await crypto.subtle.importKey("spki", bytes(spki), alg, true, ["verify"]);
  } catch (cause) {
    throw new PkiError("badPublicKey", `The ${what} public key is malformed`, "csr", undefined, { cause });
  }
}

export interface ParsedCsr {
  der: Buffer;
  subject: DnAttribute[];
  subjectDn: string;
  sans: CsrSans;
  publicKey: PublicKeyInfo;
}

/** Parses a PKCS#10 request (PEM or DER), verifies its self-signature and checks its key. */
export async function parseCsr(input: string | Binary): Promise<ParsedCsr> {
  const size = typeof input === "string" ? input.length : input.byteLength;
  if (size === 0) throw new PkiError("badCSR", "The CSR is empty", "csr");
  if (size > MAX_CSR_BYTES * 2) throw new PkiError("badCSR", "The CSR is too large", "csr");
  let csr: x509.Pkcs10CertificateRequest;
  try {
    const der = typeof input === "string" ? x509.PemConverter.decodeFirst(input) : bytes(toBuffer(input));
    if (der.byteLength > MAX_CSR_BYTES) throw new Error("too large");
    csr = new x509.Pkcs10CertificateRequest(der);
  } catch (cause) {
    throw new PkiError("badCSR", "The CSR is not a valid PKCS#10 certificate request", "csr", undefined, { cause });
  }
  let spki: ArrayBuffer;
  try {
    spki = csr.publicKey.rawData; // parsed lazily: a malformed key throws here
  } catch (cause) {
    throw new PkiError("badPublicKey", "The CSR public key is malformed", "csr", undefined, { cause });
  }
  const publicKey = await checkPublicKey(spki);
  let verified = false;
  try {
    verified = await csr.verify();
  } catch (cause) {
    throw new PkiError("badCSR", "The CSR signature cannot be checked (unsupported signature algorithm?)", "csr", undefined, { cause });
  }
  if (!verified) throw new PkiError("badCSR", "The CSR signature does not verify with its own public key", "csr");
  let subject: DnAttribute[];
  let sans: CsrSans = { othername: [], rfc822name: [], dnsname: [], uri: [], ipaddress: [] };
  try {
    subject = fromX509Name(csr.subjectName);
    const sanExt = csr.extensions.find((e) => e.type === "2.5.29.17");
    if (sanExt) sans = parseSans(sanExt.value);
  } catch (cause) {
    throw new PkiError("badCSR", "The CSR subject or subjectAltName is malformed", "csr", undefined, { cause });
  }
  return { der: Buffer.from(csr.rawData), subject, subjectDn: formatDn(subject), sans, publicKey };
}

/** The `/csr` part of a template context: subject attributes by every name, and SAN lists. */
export function csrContext(csr: Pick<ParsedCsr, "subject" | "sans">): NonNullable<TemplateContext["csr"]> {
  const subject: Record<string, string | string[]> = {};
  for (const a of csr.subject) {
    for (const key of attributeKeys(a.oid)) {
      const prev = subject[key];
      subject[key] = prev === undefined ? a.value : ([] as string[]).concat(prev, a.value);
    }
  }
  return { subject, san: { ...csr.sans } };
}
