// The CSR a device sends at finalize: the device key, the payload's Subject, SubjectAltName, key usage
// and extended key usage (SPEC §3 step 4, §4).
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

/** Builds and signs the PKCS#10 request with the device key; returns DER. */
export async function buildCsr(payload: AcmePayload, key: DeviceKey): Promise<Buffer> {
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
