// The crypto bound of an Apple enrollment: the server-side cryptography alone, measured in this process
// with the libraries and functions the server itself uses, one operation at a time (single-threaded).
//
// Per enrollment the device simulator sends 8 JWS (newAccount with jwk; newOrder, GET authorization,
// the device-attest-01 answer, authorization poll, order poll, finalize, certificate download with kid),
// so the server verifies 8 JWS signatures (importing the JWK each time, as it does per request), one
// attestation (CBOR, x5c chain: Sub CA by root and leaf by Sub CA, Apple extensions), one CSR (parse and
// self-signature) and signs one certificate (issueCertificate with the CA key already unsealed).
import "reflect-metadata";
import { performance } from "node:perf_hooks";
import { AcmeClient, type SimulatedAppleCa, buildAttestation, createDeviceKey, renderMobileconfig, buildCsr, type SimulatedDevice } from "@attested/device-sim";
import { parseJwsBody, verifyJws } from "../../packages/acme/src/jws";
import { verifyAppleAttestation, attestationSummary } from "../../packages/attestation/src/index";
import { SealedKeyStore, memoryKeyPersistence, createRootCa, createIntermediateCa, issueCertificate, parseCsr, csrContext } from "../../packages/pki/src/index";

export const JWS_PER_ENROLLMENT = 8;

export interface CryptoCost {
  /** Milliseconds of one operation of each kind. */
  jwsVerifyMs: number;
  attestationMs: number;
  csrMs: number;
  issueMs: number;
  /** Server crypto per enrollment, ms (8 JWS + attestation + CSR + issuance). */
  perEnrollmentMs: number;
}

/**
 * CPU milliseconds per call (this process's user+system time, which includes WebCrypto's work on the
 * libuv thread pool), one call at a time. CPU rather than wall time: it is what the operation costs the
 * machine, and other processes' load does not inflate it.
 */
async function timeIt(fn: () => Promise<unknown> | unknown, minMs: number, minRuns: number): Promise<number> {
  for (let i = 0; i < 20; i++) await fn(); // warm up (JIT)
  let runs = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  while (runs < minRuns || performance.now() - t0 < minMs) {
    await fn();
    runs++;
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / runs;
}

/**
 * Measures the per-enrollment cost. `template` is the template the benchmark configured on the server;
 * `profile` is the platform's .mobileconfig (for the device's CSR shape).
 */
export async function measureCryptoCost(opts: {
  profile: string;
  template: Record<string, unknown>;
  simCa: SimulatedAppleCa;
  minMs?: number;
}): Promise<CryptoCost> {
  const minMs = opts.minMs ?? 1500;
  const device: SimulatedDevice = {
    serialNumber: "CRYPTOBOUND1",
    udid: "00008103-0123456789ABCDEF",
    deviceName: "Bound",
    email: "bound@example.com",
    fullName: "Bound User",
  };
  const payload = renderMobileconfig(opts.profile, device).acme[0]!;
  const key = await createDeviceKey({ keyType: payload.KeyType, keySize: payload.KeySize, hardwareBound: payload.HardwareBound });

  // JWS: the same client code the device simulator uses, the server's own parse + verify.
  const client = new AcmeClient({ directoryUrl: "https://bound.invalid/directory" });
  client.accountUrl = "https://bound.invalid/acct/1";
  // One after the other: the client creates its account key on first use.
  const bodies = [
    await client.signRequest(
      "https://bound.invalid/new-order",
      { identifiers: [{ type: "permanent-identifier", value: device.serialNumber }] },
      "bm9uY2Vub25jZW5vbmNlMDE",
      false,
    ),
    await client.signRequest("https://bound.invalid/authz/1", undefined, "bm9uY2Vub25jZW5vbmNlMDI", false),
  ];
  const jwkBody = await client.signRequest("https://bound.invalid/new-account", { termsOfServiceAgreed: true }, "bm9uY2Vub25jZW5vbmNlMDM", true);
  const jwk = parseJwsBody(new TextEncoder().encode(jwkBody), { requireNonce: true }).header.jwk!;
  let i = 0;
  const jwsVerifyMs = await timeIt(
    async () => {
      const body = new TextEncoder().encode(i++ % 2 ? bodies[0]! : bodies[1]!);
      await verifyJws(parseJwsBody(body, { requireNonce: true }), jwk);
    },
    minMs,
    200,
  );

  // Attestation: a real simulated attestation, verified as the device-attest-01 validator does.
  const token = "dG9rZW50b2tlbnRva2VudG9rZW50b2tlbnRva2VudG9r";
  const attObj = await buildAttestation({ device, publicKey: key.keys.publicKey, token, ca: opts.simCa });
  let attested: Awaited<ReturnType<typeof verifyAppleAttestation>> | undefined;
  const attestationMs = await timeIt(
    async () => {
      attested = await verifyAppleAttestation({ attObj, token, identifier: device.serialNumber, trustedRoots: [opts.simCa.rootPem] });
    },
    minMs,
    100,
  );

  // CSR: parse and check the self-signature.
  const csrDer = await buildCsr(payload, key);
  const csrMs = await timeIt(() => parseCsr(csrDer), minMs, 100);

  // Issuance: an EC P-256 intermediate (as the benchmark configures) whose key is already unsealed.
  const keyStore = new SealedKeyStore(memoryKeyPersistence(), { masterKey: Buffer.alloc(32, 7) });
  const urls = { crlUrl: "https://pki.example/crl/x.crl", ocspUrl: "https://pki.example/ocsp/x", caIssuersUrl: "https://pki.example/ca/x.cer" };
  const rootCa = await createRootCa({ commonName: "Bound Root", keyAlgorithm: "EC-P384", signatureAlgorithm: "SHA-384", validityYears: 5, keyStore });
  const ca = await createIntermediateCa({
    commonName: "Bound CA",
    keyAlgorithm: "EC-P256",
    signatureAlgorithm: "SHA-256",
    validityYears: 2,
    keyStore,
    parent: { certificatePem: rootCa.certificatePem, keyId: rootCa.keyId, signatureAlgorithm: "SHA-384" },
    ...urls,
  });
  const summary = attestationSummary(attested!);
  const context = { attestation: summary, device: {}, account: { id: "a", contact: [] }, platform: { id: "p", name: "Kandji", vendor: "kandji" } };
  const csr = await parseCsr(csrDer);
  void csrContext(csr);
  const issueMs = await timeIt(
    () =>
      issueCertificate({
        csrDer,
        context: context as never,
        template: opts.template,
        ca: { certificatePem: ca.certificatePem, keyId: ca.keyId, signatureAlgorithm: "SHA-256", chainPem: [] },
        keyStore,
        ...urls,
        expectedPublicKeySpki: attested!.publicKeySpki,
        parsedCsr: csr, // the CSR check is counted once, above
      }),
    minMs,
    100,
  );
  const perEnrollmentMs = JWS_PER_ENROLLMENT * jwsVerifyMs + attestationMs + csrMs + issueMs;
  return { jwsVerifyMs, attestationMs, csrMs, issueMs, perEnrollmentMs };
}

/** The mean of two measurements (before and after a run), field by field. */
export function meanCryptoCost(a: CryptoCost, b: CryptoCost): CryptoCost {
  const mean = (k: keyof CryptoCost) => (a[k] + b[k]) / 2;
  return {
    jwsVerifyMs: mean("jwsVerifyMs"),
    attestationMs: mean("attestationMs"),
    csrMs: mean("csrMs"),
    issueMs: mean("issueMs"),
    perEnrollmentMs: mean("perEnrollmentMs"),
  };
}
