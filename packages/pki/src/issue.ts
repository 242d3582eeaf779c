import { AsnConvert } from "@peculiar/asn1-schema";
import { SubjectPublicKeyInfo } from "@peculiar/asn1-x509";
import { toX509Name, formatDn, fromX509Name } from "./dn";
import { csrContext, parseCsr, type ParsedCsr } from "./csr";
import { bytes, fingerprint, randomSerialNumber, toBuffer, toSecond, type Binary } from "./encoding";
import { PkiError, invalidInput } from "./errors";
import { authorityKeyIdentifier, revocationExtensions, revocationUrlsSchema, subjectKeyIdentifier } from "./extensions";
import type { KeyStore } from "./key-store";
import { x509 } from "./provider";
import type { San } from "./san";
import { isEmail, sanExtension } from "./san";
import { assertCaCurrent, assertSignedBy, loadSigner, type CaRef } from "./signer";
import { renderTemplate, type TemplateContext } from "./template";
import { ekuOid, parseCertificateTemplate, templateNotAfter } from "./template-schema";

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
}

const normalizeSpki = (der: Binary): Buffer => Buffer.from(AsnConvert.serialize(AsnConvert.parse(bytes(toBuffer(der)), SubjectPublicKeyInfo)));

/** Issues an end-entity certificate for a CSR, as the template and the CA say. Every refusal is a PkiError. */
export async function issueCertificate(input: IssueInput): Promise<IssuedCertificate> {
  const now = input.now ?? new Date();
  const urls = revocationUrlsSchema.safeParse({ crlUrl: input.crlUrl, ocspUrl: input.ocspUrl, caIssuersUrl: input.caIssuersUrl });
  if (!urls.success) throw invalidInput(urls.error.issues);
  const template = parseCertificateTemplate(input.template);

  const csrInput = input.csrDer ?? input.csrPem;
  if (csrInput === undefined) throw new PkiError("badCSR", "A CSR is required (csrDer or csrPem)", "csr");
  const csr =
    input.parsedCsr && typeof csrInput !== "string" && input.parsedCsr.der.equals(toBuffer(csrInput)) ? input.parsedCsr : await parseCsr(csrInput);

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

  const rendered = renderTemplate(template, { ...input.context, csr: csrContext(csr) });
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
  // RFC 5280 §4.2.1.3 / common profiles: EC keys sign (TLS, EAP-TLS); RSA keys also encipher (RSA key transport).
  const keyUsage =
    csr.publicKey.type === "RSA"
      ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment
      : x509.KeyUsageFlags.digitalSignature;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(keyUsage, true),
    new x509.ExtendedKeyUsageExtension(ekus, false),
    await subjectKeyIdentifier(bytes(csr.publicKey.spki)),
    await authorityKeyIdentifier(signer.certificate),
    ...revocationExtensions(urls.data),
  ];
  if (rendered.sans.length) extensions.push(sanExtension(rendered.sans));

  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: toX509Name(rendered.subject),
    issuer: signer.certificate.subjectName,
    notBefore,
    notAfter,
    publicKey: bytes(csr.publicKey.spki),
    signingKey: signer.key,
    signingAlgorithm: signer.algorithm,
    extensions,
  });
  await assertSignedBy(cert, signer);

  const certificatePem = cert.toString("pem") + "\n";
  const chainPem = [certificatePem, input.ca.certificatePem, ...(input.ca.chainPem ?? [])].map((p) => p.trim() + "\n").join("");
  const email =
    rendered.sans.find((s) => s.type === "rfc822")?.value ?? rendered.subject.find((a) => a.type === "E")?.value;
  return {
    certificatePem,
    chainPem,
    serialNumber: cert.serialNumber.toLowerCase(),
    subjectDn: rendered.subjectDn,
    issuerDn: formatDn(fromX509Name(cert.issuerName)),
    sans: rendered.sans,
    extendedKeyUsages: ekus,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    sha256Fingerprint: fingerprint(cert.rawData, "sha256"),
    emailAddress: email && isEmail(email) ? email : undefined,
    publicKeySpki: Buffer.from(csr.publicKey.spki),
    publicKeyDescription: csr.publicKey.description,
  };
}
