import "reflect-metadata";
import { randomUUID, webcrypto, X509Certificate as NodeX509 } from "node:crypto";
import {
  BasicConstraintsExtension,
  ExtendedKeyUsageExtension,
  Pkcs10CertificateRequest,
  Pkcs10CertificateRequestGenerator,
  SubjectAlternativeNameExtension,
  X509CertificateGenerator,
  type X509Certificate,
} from "@peculiar/x509";
import { AttestationError, type AttestationFailureReason } from "@attested/errors";
import { MemoryStore } from "../testing";
import { problem } from "../problems";
import { AcmeServer, type AcmeServerOptions } from "../server";
import type { AcmeStore } from "../store";
import type { AcmeEvent, AcmePlatform, DeviceAttestValidator, IssueArgs, Validators } from "../types";

// A test CA, an issuer hook, a fake device-attest-01 validator and a server wired with them.

const subtle = webcrypto.subtle as unknown as SubtleCrypto;
const EC = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN = { name: "ECDSA", hash: "SHA-256" } as const;

export async function generateEcKeys(): Promise<CryptoKeyPair> {
  return (await subtle.generateKey(EC, true, ["sign", "verify"])) as CryptoKeyPair;
}

export async function spkiOf(keys: CryptoKeyPair): Promise<Buffer> {
  return Buffer.from(await subtle.exportKey("spki", keys.publicKey));
}

export async function makeCsr(keys: CryptoKeyPair, opts: { cn?: string; dns?: string[] } = {}): Promise<Uint8Array> {
  const csr = await Pkcs10CertificateRequestGenerator.create({
    name: `CN=${opts.cn ?? "device"}`,
    keys,
    signingAlgorithm: SIGN,
    extensions: opts.dns?.length ? [new SubjectAlternativeNameExtension(opts.dns.map((d) => ({ type: "dns" as const, value: d })))] : [],
  });
  return new Uint8Array(csr.rawData);
}

export interface IssuedCert {
  id: string;
  orderId: string;
  der: Buffer;
  pem: string;
  revoked: boolean;
  reason?: number;
}

export interface TestCa {
  keys: CryptoKeyPair;
  cert: X509Certificate;
}

export async function createTestCa(): Promise<TestCa> {
  const keys = await generateEcKeys();
  const cert = await X509CertificateGenerator.createSelfSigned({
    name: "CN=Attested PKI Test CA",
    keys,
    signingAlgorithm: SIGN,
    extensions: [new BasicConstraintsExtension(true, 0, true)],
  });
  return { keys, cert };
}

/**
 * Fake attestation object: JSON {token, serial, spki(base64)}. The validator demands the token
 * (freshness), the identifier as serial, and returns the key; failures carry a `reason`.
 */
export class FakeAttestationError extends AttestationError {
  constructor(reason: string, message: string) {
    // The fake's own codes (kebab-case) show that the server passes any code through unchanged.
    super(reason as AttestationFailureReason, message);
  }
}

export function fakeAttObj(args: { token: string; serial: string; spki: Buffer }): string {
  return Buffer.from(JSON.stringify({ token: args.token, serial: args.serial, spki: args.spki.toString("base64") })).toString("base64url");
}

export const fakeDeviceAttestValidator: DeviceAttestValidator = async ({ token, attObj, identifier }) => {
  let parsed: { token?: string; serial?: string; spki?: string };
  try {
    parsed = JSON.parse(Buffer.from(attObj).toString("utf8"));
  } catch {
    throw new FakeAttestationError("malformed", "attestation object is not decodable");
  }
  if (parsed.token !== token) throw new FakeAttestationError("nonce-mismatch", "freshness code does not match the token");
  if (parsed.serial !== identifier.value) throw new FakeAttestationError("identifier-mismatch", "serial number differs from the order");
  return { publicKeySpki: Buffer.from(parsed.spki ?? "", "base64"), attested: { serialNumber: parsed.serial, osVersion: "17.0" } };
};

export interface HarnessOptions extends Partial<Omit<AcmeServerOptions, "validators">> {
  validators?: Validators;
  platform?: Partial<AcmePlatform>;
  issueDelayMs?: number;
  /** Runs at the start of every issuance; what it throws is what the issuer throws. */
  beforeIssue?: (args: IssueArgs) => void;
}

export async function createHarness(opts: HarnessOptions = {}) {
  const { validators, platform: platformOverrides, issueDelayMs: _delay, beforeIssue, ...serverOverrides } = opts;
  const ca = await createTestCa();
  const store: AcmeStore = opts.store ?? new MemoryStore();
  const issued = new Map<string, IssuedCert>();
  const events: AcmeEvent[] = [];
  const errors: unknown[] = [];
  const issueCalls: IssueArgs[] = [];
  const chainCalls: string[] = [];

  const issue = async (args: IssueArgs) => {
    issueCalls.push(args);
    beforeIssue?.(args);
    if (opts.issueDelayMs) await new Promise((r) => setTimeout(r, opts.issueDelayMs));
    const csr = new Pkcs10CertificateRequest(new Uint8Array(args.csrDer));
    const spki = Buffer.from(csr.publicKey.rawData);
    for (const a of args.authorizations) {
      if (a.attestedKeySpki && !a.attestedKeySpki.equals(spki)) throw problem.badCSR("CSR public key is not the attested key");
    }
    const dnsIds = args.order.identifiers.filter((i) => i.type === "dns").map((i) => i.value);
    const cert = await X509CertificateGenerator.create({
      serialNumber: randomUUID().replace(/-/g, "").slice(0, 30),
      subject: csr.subject,
      issuer: ca.cert.subject,
      publicKey: csr.publicKey,
      signingKey: ca.keys.privateKey,
      signingAlgorithm: SIGN,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86400_000),
      extensions: [
        new ExtendedKeyUsageExtension(["1.3.6.1.5.5.7.3.2"]),
        ...(dnsIds.length ? [new SubjectAlternativeNameExtension(dnsIds.map((d) => ({ type: "dns" as const, value: d })))] : []),
      ],
    });
    const id = randomUUID();
    const pem = cert.toString("pem");
    // The IssueHook contract: the certificate is recorded with the order's move to valid.
    if (!(await store.updateOrder(args.order.id, ["processing"], { status: "valid", certificateId: id, error: null })))
      throw new Error("order left processing");
    issued.set(id, { id, orderId: args.order.id, der: Buffer.from(cert.rawData), pem, revoked: false });
    return { certificateId: id, chainPem: `${pem}\n${ca.cert.toString("pem")}\n` };
  };

  const platform: AcmePlatform = {
    id: "platform-1",
    baseUrl: "https://pki.example.com/acme/s3cret",
    allowedChallenges: ["device-attest-01", "http-01", "dns-01"],
    allowedIdentifierTypes: ["permanent-identifier", "dns", "ip"],
    ...platformOverrides,
  };

  const server = new AcmeServer({
    store,
    validators: validators ?? { "device-attest-01": fakeDeviceAttestValidator },
    issue,
    getCertificateChain: async ({ certificateId }) => {
      chainCalls.push(certificateId);
      const c = issued.get(certificateId);
      return c ? `${c.pem}\n${ca.cert.toString("pem")}\n` : null;
    },
    findCertificate: async ({ der }) => {
      const want = new NodeX509(Buffer.from(der)).fingerprint256;
      for (const c of issued.values()) {
        if (new NodeX509(c.der).fingerprint256 === want) return { certificateId: c.id, acmeOrderId: c.orderId, revoked: c.revoked };
      }
      return null;
    },
    revokeCertificate: async ({ certificateId, reason }) => {
      const c = issued.get(certificateId)!;
      c.revoked = true;
      c.reason = reason;
    },
    onEvent: (e) => {
      events.push(e);
    },
    onError: (err) => {
      errors.push(err);
    },
    ...serverOverrides,
  });
  return { server, store, platform, ca, issued, events, errors, issueCalls, chainCalls };
}

export type Harness = Awaited<ReturnType<typeof createHarness>>;
