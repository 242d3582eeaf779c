// Test-only certificate factory for chain tests of this package (the full Apple simulator lives in
// apps/device-sim, which depends on this package and so cannot be imported here).
import { webcrypto } from "node:crypto";
import { APPLE_OID } from "../oids";
import { x509 } from "../x509";

const SIGN384 = { name: "ECDSA", hash: "SHA-384" } as const;
const DAY = 86_400_000;

export interface TestCa {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

export async function makeKeys(curve: "P-256" | "P-384" = "P-384"): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: curve }, true, ["sign", "verify"])) as CryptoKeyPair;
}

export async function makeRoot(name = "CN=Test Attestation Root CA", keys?: CryptoKeyPair): Promise<TestCa> {
  keys ??= await makeKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name,
    keys,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 3650 * DAY),
    signingAlgorithm: SIGN384,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

export interface IssueOptions {
  subject: string;
  issuer: TestCa;
  publicKey: CryptoKey;
  ca?: boolean;
  pathLength?: number;
  notBefore?: Date;
  notAfter?: Date;
  extensions?: x509.Extension[];
  /** Leave out the authority/subject key identifiers (Apple's leaves have none). */
  noKeyIds?: boolean;
}

export async function issue(o: IssueOptions): Promise<x509.X509Certificate> {
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(o.ca ?? false, o.pathLength, true),
    new x509.KeyUsagesExtension(o.ca ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign : x509.KeyUsageFlags.digitalSignature, true),
    ...(o.noKeyIds
      ? []
      : [await x509.AuthorityKeyIdentifierExtension.create(o.issuer.keys.publicKey), await x509.SubjectKeyIdentifierExtension.create(o.publicKey)]),
    ...(o.extensions ?? []),
  ];
  return x509.X509CertificateGenerator.create({
    subject: o.subject,
    issuer: o.issuer.cert.subject,
    publicKey: o.publicKey,
    signingKey: o.issuer.keys.privateKey,
    notBefore: o.notBefore ?? new Date(Date.now() - DAY),
    notAfter: o.notAfter ?? new Date(Date.now() + 90 * DAY),
    signingAlgorithm: SIGN384,
    extensions,
  });
}

export async function makeSubCa(root: TestCa, opts: Partial<IssueOptions> = {}): Promise<TestCa> {
  const keys = await makeKeys();
  const cert = await issue({ subject: "CN=Test Attestation Sub CA 1", issuer: root, publicKey: keys.publicKey, ca: true, pathLength: 0, ...opts });
  return { cert, keys };
}

/** The Apple leaf extensions; each attested fact can be set, or left out with null (an iPhone's leaf has no SIP). */
export function appleExtensions(p: {
  serial?: string;
  udid?: string;
  freshness?: Uint8Array;
  osVersion?: string | null;
  sepOsVersion?: string | null;
  llbVersion?: string | null;
  softwareUpdateDeviceId?: string | null;
  secureBootLevel?: string | null;
  sipStatus?: number | null;
  thirdPartyKexts?: number | null;
}): x509.Extension[] {
  const ascii = (oid: string, v: string) => new x509.Extension(oid, false, Buffer.from(v, "ascii"));
  // Small non-negative values only, DER-minimal: 02 01 nn.
  const int = (oid: string, v: number) => new x509.Extension(oid, false, Buffer.from([0x02, 0x01, v]));
  const exts: x509.Extension[] = [];
  const osVersion = p.osVersion === undefined ? "15.5" : p.osVersion;
  const sipStatus = p.sipStatus === undefined ? 0 : p.sipStatus;
  if (osVersion !== null) exts.push(ascii(APPLE_OID.osVersion, osVersion));
  if (sipStatus !== null) exts.push(int(APPLE_OID.sipStatus, sipStatus));
  if (p.sepOsVersion) exts.push(ascii(APPLE_OID.sepOsVersion, p.sepOsVersion));
  if (p.llbVersion) exts.push(ascii(APPLE_OID.llbVersion, p.llbVersion));
  if (p.softwareUpdateDeviceId) exts.push(ascii(APPLE_OID.softwareUpdateDeviceId, p.softwareUpdateDeviceId));
  if (p.secureBootLevel) exts.push(ascii(APPLE_OID.secureBootLevel, p.secureBootLevel));
  if (typeof p.thirdPartyKexts === "number") exts.push(int(APPLE_OID.thirdPartyKexts, p.thirdPartyKexts));
  if (p.serial !== undefined) exts.push(ascii(APPLE_OID.serialNumber, p.serial));
  if (p.udid !== undefined) exts.push(ascii(APPLE_OID.udid, p.udid));
  if (p.freshness !== undefined) exts.push(new x509.Extension(APPLE_OID.freshnessCode, false, new Uint8Array(p.freshness)));
  return exts;
}

export const der = (c: x509.X509Certificate) => Buffer.from(c.rawData);
