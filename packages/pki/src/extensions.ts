import { z } from "zod";
import { x509 } from "./provider";

/** Where relying parties find revocation data and the issuer certificate (RFC 5280 §4.2.1.13, §4.2.2.1). */
export interface RevocationUrls {
  crlUrl: string;
  ocspUrl: string;
  caIssuersUrl?: string;
}

const httpUrl = (label: string) =>
  z
    .string({ message: `${label} is required` })
    .trim()
    .refine((v) => {
      try {
        const u = new URL(v);
        return (u.protocol === "http:" || u.protocol === "https:") && /^[\x21-\x7e]+$/.test(v);
      } catch {
        return false;
      }
    }, `${label} must be an http(s) URL`);

export const revocationUrlsSchema = z.object({
  crlUrl: httpUrl("CRL URL"),
  ocspUrl: httpUrl("OCSP URL"),
  caIssuersUrl: httpUrl("CA Issuers URL").optional(),
});

export function subjectKeyIdentifier(publicKey: x509.PublicKeyType): Promise<x509.SubjectKeyIdentifierExtension> {
  return x509.SubjectKeyIdentifierExtension.create(publicKey);
}

/** AKI = the issuer's SKI, so path building matches even if the issuer's SKI was not computed our way. */
export async function authorityKeyIdentifier(issuer: x509.X509Certificate): Promise<x509.AuthorityKeyIdentifierExtension> {
  const ski = issuer.getExtension(x509.SubjectKeyIdentifierExtension);
  const keyId = ski?.keyId ?? Buffer.from(await issuer.publicKey.getKeyIdentifier()).toString("hex");
  return new x509.AuthorityKeyIdentifierExtension(keyId);
}

export function revocationExtensions(urls: RevocationUrls): x509.Extension[] {
  return [
    new x509.CRLDistributionPointsExtension([urls.crlUrl]),
    new x509.AuthorityInfoAccessExtension({ ocsp: [urls.ocspUrl], ...(urls.caIssuersUrl ? { caIssuers: [urls.caIssuersUrl] } : {}) }),
  ];
}
