// Test helpers (not exported from index): OpenSSL on temp files, CSRs, a root + intermediate pair.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { createIntermediateCa, createRootCa, type CaCertificate } from "./ca";
import { SealedKeyStore, memoryKeyPersistence } from "./key-store";
import type { KeyAlgorithm, SignatureAlgorithm } from "./keys";
import { crypto, x509 } from "./provider";
import type { CaRef } from "./signer";

export function openssl(args: string[], input?: string | Buffer): { status: number; stdout: string; stderr: string } {
  const r = spawnSync("openssl", args, { input, encoding: "utf8" });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Async variant, for when the test process must keep serving (e.g. an OCSP responder) meanwhile. */
export function opensslAsync(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn("openssl", args);
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("error", reject);
    p.on("close", (status) => resolve({ status: status ?? -1, stdout, stderr }));
  });
}

/** A temp folder; `file(name, content)` writes and returns the path. */
export function scratch() {
  const dir = mkdtempSync(path.join(tmpdir(), "pki-test-"));
  return {
    dir,
    file(name: string, content: string | Buffer): string {
      const p = path.join(dir, name);
      writeFileSync(p, content);
      return p;
    },
    path: (name: string) => path.join(dir, name),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface TestCsr {
  pem: string;
  der: Buffer;
  keys: CryptoKeyPair;
  spki: Buffer;
}

type CsrKey = KeyAlgorithm | "RSA-1024" | "EC-P521";

export async function makeCsr(
  alg: CsrKey = "EC-P256",
  opts: { subject?: string; sans?: x509.JsonGeneralNames; hash?: SignatureAlgorithm } = {},
): Promise<TestCsr> {
  const params: RsaHashedKeyGenParams | EcKeyGenParams = alg.startsWith("RSA-")
    ? { name: "RSASSA-PKCS1-v1_5", modulusLength: Number(alg.slice(4)), publicExponent: new Uint8Array([1, 0, 1]), hash: opts.hash ?? "SHA-256" }
    : { name: "ECDSA", namedCurve: `P-${alg.slice(4)}` };
  const keys = (await crypto.subtle.generateKey(params, true, ["sign", "verify"])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: opts.subject ?? "CN=F4GXK2Q1N72J",
    keys,
    signingAlgorithm: alg.startsWith("RSA-") ? { name: "RSASSA-PKCS1-v1_5" } : { name: "ECDSA", hash: opts.hash ?? "SHA-256" },
    extensions: opts.sans ? [new x509.SubjectAlternativeNameExtension(opts.sans)] : [],
  });
  return {
    pem: csr.toString("pem"),
    der: Buffer.from(csr.rawData),
    keys,
    spki: Buffer.from(await crypto.subtle.exportKey("spki", keys.publicKey)),
  };
}

export const URLS = {
  crlUrl: "http://pki.example.test/crl/int.crl",
  ocspUrl: "http://pki.example.test/ocsp/int",
  caIssuersUrl: "http://pki.example.test/ca/int.cer",
};

export interface TestPki {
  keyStore: SealedKeyStore;
  root: CaCertificate;
  intermediate: CaCertificate;
  rootRef: CaRef;
  intRef: CaRef & { chainPem: string[] };
}

/** A root and an ACME intermediate as the guide sets them up (EC keys by default, to keep tests fast). */
export async function testPki(opts: { rootKey?: KeyAlgorithm; intKey?: KeyAlgorithm; now?: Date; intYears?: number } = {}): Promise<TestPki> {
  const keyStore = new SealedKeyStore(memoryKeyPersistence(), { masterKey: randomBytes(32) });
  const root = await createRootCa({
    commonName: "Acme Root CA",
    keyAlgorithm: opts.rootKey ?? "EC-P384",
    signatureAlgorithm: "SHA-384",
    validityYears: 20,
    keyStore,
    now: opts.now,
  });
  const rootRef: CaRef = { certificatePem: root.certificatePem, keyId: root.keyId, signatureAlgorithm: root.signatureAlgorithm };
  const intermediate = await createIntermediateCa({
    commonName: "Acme ACME Intermediate CA",
    keyAlgorithm: opts.intKey ?? "EC-P256",
    signatureAlgorithm: "SHA-256",
    validityYears: opts.intYears ?? 10,
    keyStore,
    parent: rootRef,
    crlUrl: "http://pki.example.test/crl/root.crl",
    ocspUrl: "http://pki.example.test/ocsp/root",
    caIssuersUrl: "http://pki.example.test/ca/root.cer",
    now: opts.now,
  });
  const intRef = {
    certificatePem: intermediate.certificatePem,
    keyId: intermediate.keyId,
    signatureAlgorithm: intermediate.signatureAlgorithm,
    chainPem: [],
  };
  return { keyStore, root, intermediate, rootRef, intRef };
}

/** The guide's Kandji template ("Creating a Certificate Template for Kandji"), plus an O. */
export const KANDJI_TEMPLATE = {
  name: "Kandji ACME",
  subject: "CN=${/csr/subject/commonname},O=Acme",
  description: "Certificates for Kandji-managed devices",
  validityDays: 365,
  signatureAlgorithm: "SHA-256",
  sanOtherName: "${/csr/san/othername}",
  sanRfc822: "${/csr/san/rfc822name}",
  sanDns: "${/csr/san/dnsname}",
  sanUri: "${/device/userDescription}",
  extendedKeyUsages: ["clientAuth"],
};

/** Runs `fn` and returns what it threw (or fails the test if nothing was thrown). */
export async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected an exception");
}
