// issueCertificate assembles the certificate in DER itself and signs with node:crypto. The TBS it signs
// must be byte for byte what @peculiar/x509's X509CertificateGenerator builds from the same inputs (the
// way issuance worked before), for every kind of key, hash, subject and SAN.
import { beforeAll, describe, expect, it } from "vitest";
import { csrContext, parseCsr } from "./csr";
import { formatDn, fromX509Name, toX509Name } from "./dn";
import { authorityKeyIdentifier, revocationExtensions, subjectKeyIdentifier } from "./extensions";
import { issueCertificate, type IssueInput } from "./issue";
import { x509 } from "./provider";
import { sanExtension } from "./san";
import { loadSigner } from "./signer";
import { renderTemplate } from "./template";
import { ekuOid, parseCertificateTemplate } from "./template-schema";
import { KANDJI_TEMPLATE, URLS, makeCsr, testPki, type TestCsr, type TestPki } from "./testing";
import { readTlv } from "@attested/der";
import { bytes } from "./encoding";

/** The TBSCertificate the previous issuance code built for `input`, with the serial and validity of `leafPem`. */
async function referenceTbs(input: IssueInput, leafPem: string): Promise<Buffer> {
  const issued = new x509.X509Certificate(leafPem);
  const template = parseCertificateTemplate(input.template);
  const csr = await parseCsr(input.csrDer ?? input.csrPem!);
  const rendered = renderTemplate(template, { ...input.context, csr: csrContext(csr) });
  const signer = await loadSigner(input.ca, input.keyStore, "ca", template.signatureAlgorithm ?? input.ca.signatureAlgorithm);
  const keyUsage =
    csr.publicKey.type === "RSA" ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment : x509.KeyUsageFlags.digitalSignature;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(keyUsage, true),
    new x509.ExtendedKeyUsageExtension(template.extendedKeyUsages.map(ekuOid), false),
    await subjectKeyIdentifier(bytes(csr.publicKey.spki)),
    await authorityKeyIdentifier(signer.certificate),
    ...revocationExtensions({ crlUrl: input.crlUrl, ocspUrl: input.ocspUrl, caIssuersUrl: input.caIssuersUrl }),
  ];
  if (rendered.sans.length) extensions.push(sanExtension(rendered.sans));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: issued.serialNumber,
    subject: toX509Name(rendered.subject),
    issuer: signer.certificate.subjectName,
    notBefore: issued.notBefore,
    notAfter: issued.notAfter,
    publicKey: bytes(csr.publicKey.spki),
    signingKey: signer.key,
    signingAlgorithm: signer.algorithm,
    extensions,
  });
  expect(formatIssuer(cert)).toBe(formatIssuer(issued));
  return tbsOf(cert);
}

/** The TBSCertificate bytes of a certificate, as encoded. */
function tbsOf(cert: x509.X509Certificate): Buffer {
  const der = Buffer.from(cert.rawData);
  const t = readTlv(der, readTlv(der, 0).body);
  return der.subarray(t.start, t.end);
}

const formatIssuer = (c: x509.X509Certificate) => JSON.stringify(fromX509Name(c.issuerName));

let ec: TestPki;
let rsa: TestPki;
let p256: TestCsr;
let rsaCsr: TestCsr;
let p384: TestCsr;

beforeAll(async () => {
  [ec, rsa] = await Promise.all([testPki(), testPki({ rootKey: "EC-P256", intKey: "RSA-2048" })]);
  p256 = await makeCsr("EC-P256", {
    subject: "CN=F4GXK2Q1N72J",
    sans: [
      { type: "upn", value: "jäne@corp.example" },
      { type: "email", value: "jane@example.com" },
      { type: "dns", value: "jane.example.com" },
    ],
  });
  rsaCsr = await makeCsr("RSA-2048", { subject: "CN=rsa device" });
  p384 = await makeCsr("EC-P384", { subject: "CN=p384" });
}, 60_000);

describe("issueCertificate DER", () => {
  const context = {
    device: { userDescription: "https://idp.example.com/users/jane", email: "ada@example.com", dc: "corp", groups: ["Wi-Fi", "Ünïcode group"] },
    attestation: { serialNumber: "F4GXK2Q1N72J", udid: "00008103-0011223344556677" },
  };
  const cases: Array<{ name: string; pki: () => TestPki; csr: () => TestCsr; template: Record<string, unknown>; extra?: Partial<IssueInput> }> = [
    { name: "EC CA, EC P-256 CSR, the Kandji template", pki: () => ec, csr: () => p256, template: KANDJI_TEMPLATE },
    {
      name: "UTF-8, IA5 and printable subject attributes, every SAN kind, several EKUs, SHA-384",
      pki: () => ec,
      csr: () => p256,
      template: {
        ...KANDJI_TEMPLATE,
        signatureAlgorithm: "SHA-384",
        subject:
          "CN=${/csr/subject/commonname},OU=${/device/groups},E=${/device/email},DC=${/device/dc},O=Zoë & Co,C=DE,SERIALNUMBER=${/attestation/serialNumber},UID=${/attestation/udid}",
        sanDns: "${/csr/san/dnsname}",
        sanUri: "urn:udid:${/attestation/udid}",
        extendedKeyUsages: ["clientAuth", "serverAuth", "emailProtection"],
      },
    },
    {
      name: "RSA CA (SHA-512), RSA CSR, no SANs, no CA Issuers URL",
      pki: () => rsa,
      csr: () => rsaCsr,
      template: { name: "t", subject: "CN=${/csr/subject/commonname}", validityDays: 30, signatureAlgorithm: "SHA-512", extendedKeyUsages: ["clientAuth"] },
      extra: { caIssuersUrl: undefined },
    },
    {
      name: "RSA CA (SHA-256), EC P-384 CSR",
      pki: () => rsa,
      csr: () => p384,
      template: { ...KANDJI_TEMPLATE, extendedKeyUsages: ["codeSigning", "1.3.6.1.4.1.311.20.2.2"] },
    },
    {
      name: "validity past 2049 (GeneralizedTime)",
      pki: () => ec,
      csr: () => p384,
      template: { ...KANDJI_TEMPLATE, overrideValidity: true, overrideNotAfter: "2055-06-01T00:00:00Z", validityDays: undefined },
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const input: IssueInput = {
        csrDer: c.csr().der,
        context,
        template: c.template,
        ca: c.pki().intRef,
        keyStore: c.pki().keyStore,
        ...URLS,
        ...c.extra,
      };
      for (let i = 0; i < 2; i++) {
        // twice: the first signature with a CA key is checked, later ones rely on that proof
        const leaf = await issueCertificate(input);
        const cert = new x509.X509Certificate(leaf.certificatePem);
        expect(tbsOf(cert).equals(await referenceTbs(input, leaf.certificatePem))).toBe(true);
        expect(`${cert.toString("pem")}\n`).toBe(leaf.certificatePem);
        expect(leaf.serialNumber).toBe(cert.serialNumber.toLowerCase());
        expect(leaf.notBefore).toEqual(cert.notBefore);
        expect(leaf.notAfter).toEqual(cert.notAfter);
        expect(leaf.issuerDn).toBe(formatDn(fromX509Name(cert.issuerName)));
        const ca = new x509.X509Certificate(c.pki().intermediate.certificatePem);
        expect(await cert.verify({ publicKey: ca.publicKey, signatureOnly: true })).toBe(true);
      }
    });
  }

  it("still refuses a CA key that does not belong to the CA certificate (same algorithm, other key)", async () => {
    const other = await testPki();
    const input: IssueInput = {
      csrDer: p256.der,
      context,
      template: KANDJI_TEMPLATE,
      ca: { ...other.intRef, keyId: ec.intRef.keyId },
      keyStore: ec.keyStore,
      ...URLS,
    };
    // the key store of `ec` holds ec's intermediate key, not other's: the signature check must catch it
    await expect(issueCertificate(input)).rejects.toMatchObject({ code: "caKeyMismatch" });
    await expect(issueCertificate(input)).rejects.toMatchObject({ code: "caKeyMismatch" });
  });
});
