// A simulated Apple attestation CA: a P-384 root shaped like "Apple Enterprise Attestation Root CA" and
// an "Apple Enterprise Attestation Sub CA 1" intermediate, both ecdsa-with-SHA384
// (docs/protocol.md#apples-chain-and-root; docs/ARCHITECTURE.md#simulators-tests-and-demos-only).
// Nothing trusts this root by default: a test or demo must pass `rootPem` explicitly as a test root.
import { KeyObject, randomBytes, sign } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { bitString, certificateParts, explicit, oid, seq, smallInteger, time, unsignedInteger } from "./der";
import { crypto, x509 } from "./x509";

const EC_P384 = { name: "ECDSA", namedCurve: "P-384" } as const;
const ECDSA_SHA384 = { name: "ECDSA", hash: "SHA-384" } as const;
const DAY_MS = 86_400_000;
const ECDSA_WITH_SHA384 = "1.2.840.10045.4.3.3";

export const SIMULATED_ROOT_NAME = "CN=Simulated Apple Enterprise Attestation Root CA, O=Attested PKI Device Simulator, C=US";
/** The intermediate carries Apple's real Sub CA name, so leaves look exactly like Apple's. */
export const SIMULATED_SUB_CA_NAME = "CN=Apple Enterprise Attestation Sub CA 1, O=Apple Inc., C=US";

/** Files of a persisted CA folder. Private keys are PKCS#8 PEM, written with mode 0600. */
export const CA_FILES = {
  root: "root.pem",
  rootKey: "root.key.pem",
  subCa: "sub-ca.pem",
  subCaKey: "sub-ca.key.pem",
} as const;

export interface CaPair {
  certificate: x509.X509Certificate;
  privateKey: CryptoKey;
}

export interface CreateSimulatedCaOptions {
  now?: Date;
  rootName?: string;
  subCaName?: string;
}

function serial(): string {
  const b = randomBytes(16);
  b[0]! &= 0x7f; // positive INTEGER
  return b.toString("hex");
}

async function generateP384(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(EC_P384, true, ["sign", "verify"])) as CryptoKeyPair;
}

function pkcs8Pem(der: ArrayBuffer): string {
  return x509.PemConverter.encode(der, "PRIVATE KEY");
}

async function importP384(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  return crypto.subtle.importKey("pkcs8", der, EC_P384, false, ["sign"]);
}

/** What the native leaf signer needs, derived once per CA. */
interface NativeSigner {
  key: KeyObject;
  subCaDer: Buffer;
  issuerDer: Buffer;
}

export interface LeafDerParams {
  /** Hex, as for issueLeaf. */
  serialNumber: string;
  /** The subject Name, DER. */
  subject: Uint8Array;
  /** SubjectPublicKeyInfo, DER. */
  spki: Uint8Array;
  /** Each Extension, DER, in order. */
  extensions: Uint8Array[];
  notBefore: Date;
  notAfter: Date;
}

export class SimulatedAppleCa {
  private native: NativeSigner | null = null;

  private constructor(
    readonly root: CaPair,
    readonly subCa: CaPair,
  ) {}

  /** Generates a fresh root (25 years) and Sub CA 1 (10 years), as Apple's are. */
  static async create(options: CreateSimulatedCaOptions = {}): Promise<SimulatedAppleCa> {
    const now = options.now ?? new Date();
    const rootKeys = await generateP384();
    const root = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: options.rootName ?? SIMULATED_ROOT_NAME,
      keys: rootKeys,
      notBefore: new Date(now.getTime() - DAY_MS),
      notAfter: new Date(now.getTime() + 25 * 365 * DAY_MS),
      signingAlgorithm: ECDSA_SHA384,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      ],
    });
    const subKeys = await generateP384();
    const sub = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: options.subCaName ?? SIMULATED_SUB_CA_NAME,
      issuer: root.subjectName,
      publicKey: subKeys.publicKey,
      signingKey: rootKeys.privateKey,
      notBefore: new Date(now.getTime() - DAY_MS),
      notAfter: new Date(now.getTime() + 10 * 365 * DAY_MS),
      signingAlgorithm: ECDSA_SHA384,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey),
        await x509.SubjectKeyIdentifierExtension.create(subKeys.publicKey),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      ],
    });
    return new SimulatedAppleCa({ certificate: root, privateKey: rootKeys.privateKey }, { certificate: sub, privateKey: subKeys.privateKey });
  }

  /** Loads a CA saved with `save`. */
  static async load(dir: string): Promise<SimulatedAppleCa> {
    const read = (f: string) => readFile(join(dir, f), "utf8");
    const [rootPem, rootKeyPem, subPem, subKeyPem] = await Promise.all([
      read(CA_FILES.root),
      read(CA_FILES.rootKey),
      read(CA_FILES.subCa),
      read(CA_FILES.subCaKey),
    ]);
    return new SimulatedAppleCa(
      { certificate: new x509.X509Certificate(rootPem), privateKey: await importP384(rootKeyPem) },
      { certificate: new x509.X509Certificate(subPem), privateKey: await importP384(subKeyPem) },
    );
  }

  /** Writes the CA to `dir` (created if needed); returns the path of the root PEM. */
  async save(dir: string): Promise<string> {
    await mkdir(dir, { recursive: true });
    const writeKey = async (file: string, key: CryptoKey) => {
      const path = join(dir, file);
      await writeFile(path, pkcs8Pem(await crypto.subtle.exportKey("pkcs8", key)), { mode: 0o600 });
      await chmod(path, 0o600);
    };
    await writeFile(join(dir, CA_FILES.root), this.rootPem);
    await writeFile(join(dir, CA_FILES.subCa), this.subCaPem);
    await writeKey(CA_FILES.rootKey, this.root.privateKey);
    await writeKey(CA_FILES.subCaKey, this.subCa.privateKey);
    return join(dir, CA_FILES.root);
  }

  /** The root to add as an explicit test trust root. */
  get rootPem(): string {
    return `${this.root.certificate.toString("pem")}\n`;
  }

  get subCaPem(): string {
    return `${this.subCa.certificate.toString("pem")}\n`;
  }

  /** The Sub CA certificate as DER (the second x5c entry). */
  get subCaDer(): Buffer {
    return this.signer().subCaDer;
  }

  private signer(): NativeSigner {
    if (!this.native) {
      const subCaDer = Buffer.from(this.subCa.certificate.rawData);
      // KeyObject.from works on non-extractable CryptoKeys too: it shares the key, it does not export it.
      this.native = { key: KeyObject.from(this.subCa.privateKey), subCaDer, issuerDer: certificateParts(subCaDer).subject };
    }
    return this.native;
  }

  /**
   * Issues an attestation leaf under Sub CA 1 (ecdsa-with-SHA384) from prepared DER parts and signs it
   * with node:crypto: the same certificate issueLeaf makes, for a fraction of the CPU.
   */
  issueLeafDer(params: LeafDerParams): Buffer {
    const { key, issuerDer } = this.signer();
    const sigAlg = seq(oid(ECDSA_WITH_SHA384));
    const tbs = seq(
      explicit(0, smallInteger(2)), // v3
      unsignedInteger(Buffer.from(params.serialNumber.length % 2 ? `0${params.serialNumber}` : params.serialNumber, "hex")),
      sigAlg,
      issuerDer,
      seq(time(params.notBefore), time(params.notAfter)),
      params.subject,
      params.spki,
      explicit(3, seq(...params.extensions)),
    );
    return seq(tbs, sigAlg, bitString(sign("sha384", tbs, key)));
  }

  /** Issues an attestation leaf under Sub CA 1 with ecdsa-with-SHA384, as Apple does. */
  async issueLeaf(params: {
    subject: string;
    publicKey: CryptoKey;
    extensions: x509.Extension[];
    notBefore: Date;
    notAfter: Date;
    serialNumber: string;
  }): Promise<x509.X509Certificate> {
    return x509.X509CertificateGenerator.create({
      serialNumber: params.serialNumber,
      subject: params.subject,
      issuer: this.subCa.certificate.subjectName,
      publicKey: params.publicKey,
      signingKey: this.subCa.privateKey,
      notBefore: params.notBefore,
      notAfter: params.notAfter,
      signingAlgorithm: ECDSA_SHA384,
      extensions: params.extensions,
    });
  }
}
