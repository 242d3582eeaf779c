import { AsnConvert } from "@peculiar/asn1-schema";
import { SubjectPublicKeyInfo } from "@peculiar/asn1-x509";
import { createHash } from "node:crypto";
import { DerError, bitString, children, octetString, oid, readTlv, sequence, time, tlv, unsignedInteger } from "@attested/der";
import { formatDn, fromX509Name, toX509NameDer } from "./dn";
import { csrContext, isStrictSpki, parseCsr, type ParsedCsr } from "./csr";
import { bytes, fingerprint, randomSerialNumber, toBuffer, toSecond, type Binary } from "./encoding";
import { authorityKeyIdentifier, revocationExtensions, revocationUrlsSchema, subjectKeyIdentifier, type RevocationUrls } from "./extensions";
import type { KeyStore } from "./key-store";
import { x509 } from "./provider";
import type { San } from "./san";
import { isEmail, sanExtensionDer } from "./san";
import { assertCaCurrent, assertTbsSignedBy, loadSigner, signTbsDer, signatureAlgorithmDer, type CaRef } from "./signer";
import { renderTemplate, type RenderResult, type TemplateContext } from "./template";
import { ekuOid, parseCertificateTemplate, templateNotAfter } from "./template-schema";
import { PkiError, invalidInput } from "@attested/errors";

const CLOCK_SKEW_MS = 60_000;

export interface IssueInput {
  /** The PKCS#10 request, DER or PEM (one of the two). */
  csrDer?: Binary;
  csrPem?: string;
  /** Template variables; `/csr` is always filled from the CSR itself. */
  context: TemplateContext;
  /** A saved Certificate Template (validated again here). */
  template: unknown;
  /** The issuing CA; `chainPem` holds the certificates above it to serve with the leaf (usually without the root). */
  ca: CaRef & { chainPem?: string[] };
  keyStore: KeyStore;
  /** The issuing CA's CRL, OCSP responder and certificate URLs. */
  crlUrl: string;
  ocspUrl: string;
  caIssuersUrl?: string;
  now?: Date;
  /** DER SPKI the CSR key must equal: the key Apple attested (device-attest-01). */
  expectedPublicKeySpki?: Binary;
  /** parseCsr() of the same CSR, already done by the caller (it must be of these very bytes). */
  parsedCsr?: ParsedCsr;
  /**
   * Every name in the CSR is an identifier the client proved (RFC 8555 challenges): `/csr/san/...`
   * then renders whatever the template's Allow SANs from the CSR says.
   */
  csrNamesProven?: boolean;
}

export interface IssuedCertificate {
  certificatePem: string;
  /** Leaf, then the CA, then `ca.chainPem`: the application/pem-certificate-chain body (RFC 8555 §7.4.2). */
  chainPem: string;
  serialNumber: string;
  subjectDn: string;
  issuerDn: string;
  sans: San[];
  extendedKeyUsages: string[];
  notBefore: Date;
  notAfter: Date;
  sha256Fingerprint: string;
  /** Where notifications go: the first RFC822 SAN, else a subject E, when it is a valid address. */
  emailAddress?: string;
  publicKeySpki: Buffer;
  /** "EC P-256", "RSA 2048", ... */
  publicKeyDescription: string;
  /** Values taken from the CSR rather than from Apple, the MDM or the template's text. */
  fromCsr: RenderResult["fromCsr"];
  /** What the template names that the certificate leaves out, and why. */
  omitted: RenderResult["omitted"];
}

/** A SubjectPublicKeyInfo as asn1-schema re-encodes it (strict DER already is: then it is copied as is). */
const normalizeSpki = (der: Binary): Buffer =>
  isStrictSpki(toBuffer(der)) ? Buffer.from(toBuffer(der)) : Buffer.from(AsnConvert.serialize(AsnConvert.parse(bytes(toBuffer(der)), SubjectPublicKeyInfo)));

/** Issues an end-entity certificate for a CSR, as the template and the CA say. Every refusal is a PkiError. */
export async function issueCertificate(input: IssueInput): Promise<IssuedCertificate> {
  const now = input.now ?? new Date();
  const urls = revocationUrlsSchema.safeParse({ crlUrl: input.crlUrl, ocspUrl: input.ocspUrl, caIssuersUrl: input.caIssuersUrl });
  if (!urls.success) throw invalidInput(urls.error.issues);
  const template = parseCertificateTemplate(input.template);

  const csrInput = input.csrDer ?? input.csrPem;
  if (csrInput === undefined) throw new PkiError("badCSR", "A CSR is required (csrDer or csrPem)", "csr");
  const csr = input.parsedCsr && typeof csrInput !== "string" && input.parsedCsr.der.equals(toBuffer(csrInput)) ? input.parsedCsr : await parseCsr(csrInput);

  if (input.expectedPublicKeySpki !== undefined) {
    let expected: Buffer;
    try {
      expected = normalizeSpki(input.expectedPublicKeySpki);
    } catch (cause) {
      throw new PkiError("invalidInput", "expectedPublicKeySpki is not a DER SubjectPublicKeyInfo", "expectedPublicKeySpki", undefined, { cause });
    }
    if (!expected.equals(csr.publicKey.spki)) {
      throw new PkiError("publicKeyMismatch", "The CSR public key is not the attested key", "csr");
    }
  }

  const rendered = renderTemplate(template, { ...input.context, csr: csrContext(csr) }, { csrSans: template.allowCsrSans || input.csrNamesProven });
  if (rendered.errors.length) {
    const first = rendered.errors[0];
    throw new PkiError("templateRender", first.message, first.field, rendered.errors);
  }

  const signer = await loadSigner(input.ca, input.keyStore, "ca", template.signatureAlgorithm ?? input.ca.signatureAlgorithm);
  const caCert = signer.certificate;
  assertCaCurrent(caCert, now);
  const notBefore = toSecond(new Date(Math.max(now.getTime() - CLOCK_SKEW_MS, caCert.notBefore.getTime())));
  const wanted = templateNotAfter(template, now);
  if (wanted.getTime() <= now.getTime()) {
    throw new PkiError("templateRender", `The template's Override Validity Period ended on ${wanted.toISOString()}`, "overrideNotAfter");
  }
  const notAfter = toSecond(new Date(Math.min(wanted.getTime(), caCert.notAfter.getTime())));

  const ekus = template.extendedKeyUsages.map(ekuOid);
  const issuer = await issuerParts(signer.certificate);
  // The same extensions, in the same order, as @peculiar/x509's classes encode them (the constant ones
  // are encoded by those classes once and reused; see issue-der.test.ts for the byte-for-byte check).
  const extensions: Buffer[] = [
    extensionOnce("bc", () => new x509.BasicConstraintsExtension(false, undefined, true)),
    // RFC 5280 §4.2.1.3 / common profiles: EC keys sign (TLS, EAP-TLS); RSA keys also encipher (RSA key transport).
    csr.publicKey.type === "RSA"
      ? extensionOnce("ku-rsa", () => new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true))
      : extensionOnce("ku-ec", () => new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)),
    extensionOnce(`eku:${ekus.join(",")}`, () => new x509.ExtendedKeyUsageExtension(ekus, false)),
    await subjectKeyIdentifierDer(csr.publicKey.spki),
    issuer.authorityKeyIdentifier,
    ...revocationExtensionsDer(urls.data),
  ];
  if (rendered.sans.length) extensions.push(sanExtensionDer(rendered.sans));

  const serial = unsignedInteger(Buffer.from(randomSerialNumber(), "hex"));
  const algorithm = signatureAlgorithmDer(signer);
  const tbs = sequence(
    VERSION_3,
    serial,
    algorithm,
    issuer.name,
    sequence(time(notBefore), time(notAfter)),
    toX509NameDer(rendered.subject),
    csr.publicKey.spki,
    tlv(0xa3, sequence(...extensions)),
  );
  const signature = await signTbsDer(signer, tbs);
  await assertTbsSignedBy(tbs, signature, signer);
  const der = sequence(tbs, algorithm, bitString(signature));

  const certificatePem = `${pem(der)}\n`;
  const chainPem = [certificatePem, input.ca.certificatePem, ...(input.ca.chainPem ?? [])].map((p) => `${p.trim()}\n`).join("");
  const email = rendered.sans.find((s) => s.type === "rfc822")?.value ?? rendered.subject.find((a) => a.type === "E")?.value;
  return {
    certificatePem,
    chainPem,
    serialNumber: serialHex(serial),
    subjectDn: rendered.subjectDn,
    issuerDn: issuer.dn,
    sans: rendered.sans,
    extendedKeyUsages: ekus,
    notBefore: new Date(notBefore),
    notAfter: new Date(notAfter),
    sha256Fingerprint: fingerprint(der, "sha256"),
    emailAddress: email && isEmail(email) ? email : undefined,
    publicKeySpki: Buffer.from(csr.publicKey.spki),
    publicKeyDescription: csr.publicKey.description,
    fromCsr: rendered.fromCsr,
    omitted: rendered.omitted,
  };
}

const VERSION_3 = Buffer.from([0xa0, 0x03, 0x02, 0x01, 0x02]);

/** PEM as @peculiar/x509 writes it: 64-character lines, "\n" line ends, no final newline. */
function pem(der: Buffer): string {
  const b64 = der.toString("base64");
  const lines = ["-----BEGIN CERTIFICATE-----"];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  lines.push("-----END CERTIFICATE-----");
  return lines.join("\n");
}

/** The serial number as x509.X509Certificate#serialNumber gives it (hex, without a sign octet), lowercase. */
function serialHex(integer: Buffer): string {
  const t = readTlv(integer, 0);
  let v = integer.subarray(t.body, t.end);
  if (v.length > 1 && v[0] === 0 && v[1]! > 0x7f) v = v.subarray(1);
  return v.toString("hex");
}

// Extensions that are the same for many certificates, encoded once by @peculiar/x509's classes.
const constantExtensions = new Map<string, Buffer>();
function extensionOnce(key: string, make: () => x509.Extension): Buffer {
  let der = constantExtensions.get(key);
  if (!der) {
    der = Buffer.from(make().rawData);
    if (constantExtensions.size >= 512) constantExtensions.clear();
    constantExtensions.set(key, der);
  }
  return der;
}

function revocationExtensionsDer(urls: RevocationUrls): Buffer[] {
  const key = `rev:${JSON.stringify([urls.crlUrl, urls.ocspUrl, urls.caIssuersUrl ?? null])}`;
  let ders = constantExtensions.get(`${key}:0`) && [constantExtensions.get(`${key}:0`)!, constantExtensions.get(`${key}:1`)!];
  if (!ders) {
    ders = revocationExtensions(urls).map((e) => Buffer.from(e.rawData));
    if (constantExtensions.size >= 512) constantExtensions.clear();
    for (const [i, d] of ders.entries()) constantExtensions.set(`${key}:${i}`, d);
  }
  return ders;
}

/** subjectKeyIdentifier(spki) as DER: SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2 method 1). */
async function subjectKeyIdentifierDer(spki: Buffer): Promise<Buffer> {
  try {
    const outer = readTlv(spki, 0);
    const [, bits] = children(spki, outer);
    if (bits?.tag === 0x03 && spki[bits.body] === 0) {
      const id = createHash("sha1")
        .update(spki.subarray(bits.body + 1, bits.end))
        .digest();
      return sequence(oid("2.5.29.14"), octetString(octetString(id)));
    }
  } catch (e) {
    if (!(e instanceof DerError)) throw e;
  }
  return Buffer.from((await subjectKeyIdentifier(bytes(spki))).rawData);
}

interface IssuerParts {
  /** The issuer Name, DER, as @peculiar/x509 re-encodes the CA certificate's subject. */
  name: Buffer;
  dn: string;
  authorityKeyIdentifier: Buffer;
}

// Per CA certificate (parsed once per process by loadSigner): what every certificate it issues repeats.
const issuers = new WeakMap<x509.X509Certificate, Promise<IssuerParts>>();
function issuerParts(ca: x509.X509Certificate): Promise<IssuerParts> {
  let parts = issuers.get(ca);
  if (!parts) {
    parts = (async () => ({
      name: Buffer.from(ca.subjectName.toArrayBuffer()),
      dn: formatDn(fromX509Name(ca.subjectName)),
      authorityKeyIdentifier: Buffer.from((await authorityKeyIdentifier(ca)).rawData),
    }))();
    parts.catch(() => issuers.delete(ca));
    issuers.set(ca, parts);
  }
  return parts;
}
