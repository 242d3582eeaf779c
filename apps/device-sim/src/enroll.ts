// One device enrollment, end to end over HTTP, from the device's side (docs/protocol.md#the-enrollment-flow).
import { webcrypto } from "node:crypto";
import { performance } from "node:perf_hooks";
import { AcmeClient, AcmeClientError, type Fetch } from "./acme-client";
import type { SimulatedAppleCa } from "./apple-ca";
import { buildAttestation, type Forgery } from "./attestation";
import { buildCsr } from "./csr";
import { createDeviceKey, type DeviceKey, type SimulatedDevice } from "./device";
import { ProfileError, renderMobileconfig, type AcmePayload, type Mdm, type MobileConfig } from "./profile";

export interface EnrollOptions {
  /** The MDM that delivers the profile and fills in its variables (default Kandji). */
  mdm?: Mdm;
  /** The `.mobileconfig` as downloaded from the portal (variables not yet filled in). */
  profile: string | Uint8Array;
  device: SimulatedDevice;
  ca: SimulatedAppleCa;
  forge?: Forgery;
  /** Send these bytes as attObj instead of an attestation (hostile-input tests). */
  attObjOverride?: Uint8Array;
  fetch?: Fetch;
  /** Which com.apple.security.acme payload to use when the profile has several (default 0). */
  payloadIndex?: number;
  /** Apple devices only speak https; plain http is accepted for loopback hosts or when this is set. */
  allowHttp?: boolean;
  pollIntervalMs?: number;
  pollTimeoutMs?: number;
  /** The device key, CSR and account key, made beforehand by prepareDevice (none depends on the server). */
  prepared?: PreparedDevice;
}

/** What a device makes on its own before it talks to the server: its key, its CSR and its ACME account key. */
export interface PreparedDevice {
  key: DeviceKey;
  csr: Buffer;
  accountKey: CryptoKeyPair;
}

export interface EnrollTimings {
  /** Directory, nonce and newAccount. */
  accountMs: number;
  orderMs: number;
  /** Attestation built, sent, and the authorization valid. */
  challengeMs: number;
  /** CSR, finalize, and the order valid. */
  finalizeMs: number;
  downloadMs: number;
  totalMs: number;
}

export interface EnrollResult {
  /** The issued certificate (the first of the chain), PEM. */
  certificatePem: string;
  /** The chain exactly as downloaded (leaf first). */
  chainPem: string;
  /** The device key; non-extractable when the payload is HardwareBound. */
  key: DeviceKey;
  profile: MobileConfig;
  payload: AcmePayload;
  accountUrl: string;
  orderUrl: string;
  certificateUrl: string;
  timings: EnrollTimings;
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

export function splitPemChain(chain: string): string[] {
  return chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

function acmePayload(options: Pick<EnrollOptions, "profile" | "device" | "payloadIndex" | "mdm">): { profile: MobileConfig; payload: AcmePayload } {
  const profile = renderMobileconfig(options.profile, options.device, options.mdm);
  const payload = profile.acme[options.payloadIndex ?? 0];
  if (!payload) throw new ProfileError("the profile has no com.apple.security.acme payload");
  return { profile, payload };
}

/**
 * The device's key (per the payload's KeyType, KeySize, HardwareBound) and its CSR: the same as enroll
 * makes, ahead of time. A load generator sharing the machine with the server prepares them before its
 * clock starts, as each real device does this on its own hardware.
 */
export async function prepareDevice(options: Pick<EnrollOptions, "profile" | "device" | "payloadIndex" | "mdm">): Promise<PreparedDevice> {
  const { payload } = acmePayload(options);
  const key = await createDeviceKey({ keyType: payload.KeyType, keySize: payload.KeySize, hardwareBound: payload.HardwareBound });
  const accountKey = (await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  return { key, csr: await buildCsr(payload, key), accountKey };
}

export async function enroll(options: EnrollOptions): Promise<EnrollResult> {
  const t0 = performance.now();
  const { profile, payload } = acmePayload(options);
  if (!payload.Attest) throw new ProfileError("the ACME payload does not set Attest; this simulator enrolls with device-attest-01 only");
  const directory = new URL(payload.DirectoryURL);
  if (directory.protocol !== "https:" && !(directory.protocol === "http:" && (LOOPBACK.has(directory.hostname) || options.allowHttp))) {
    throw new ProfileError(`DirectoryURL must be https (got ${directory.protocol})`);
  }
  if (payload.ClientIdentifier === "") throw new ProfileError("ClientIdentifier is empty after variable substitution");

  const client = new AcmeClient({
    directoryUrl: payload.DirectoryURL,
    fetch: options.fetch,
    accountKey: options.prepared?.accountKey,
    pollIntervalMs: options.pollIntervalMs,
    pollTimeoutMs: options.pollTimeoutMs,
  });

  // 1. The key first (the Secure Enclave key when HardwareBound), then account and order.
  const key = options.prepared?.key ?? (await createDeviceKey({ keyType: payload.KeyType, keySize: payload.KeySize, hardwareBound: payload.HardwareBound }));
  const accountUrl = await client.createAccount();
  const t1 = performance.now();
  const { url: orderUrl, order } = await client.newOrder([{ type: "permanent-identifier", value: payload.ClientIdentifier }]);
  const t2 = performance.now();

  // 2-3. device-attest-01: attest the key for the challenge token.
  for (const authzUrl of order.authorizations) {
    const authz = await client.getAuthorization(authzUrl);
    if (authz.status === "valid") continue;
    const challenge = authz.challenges.find((c) => c.type === "device-attest-01");
    if (!challenge) throw new AcmeClientError("the authorization offers no device-attest-01 challenge", null, null, authzUrl);
    if (!challenge.token) throw new AcmeClientError("the device-attest-01 challenge has no token", null, null, challenge.url);
    const attObj =
      options.attObjOverride ??
      (await buildAttestation({ device: options.device, publicKey: key.keys.publicKey, token: challenge.token, ca: options.ca, forge: options.forge }));
    const answered = await client.answerDeviceAttest(challenge.url, attObj);
    if (answered.status === "invalid") {
      throw new AcmeClientError(`device-attest-01 is invalid: ${answered.error?.detail ?? ""}`, answered.error ?? null, null, challenge.url);
    }
    await client.waitForAuthorization(authzUrl);
  }
  await client.waitForOrder(orderUrl, ["ready", "valid"]);
  const t3 = performance.now();

  // 4. Finalize with a CSR for the same key.
  const csr = options.prepared?.csr ?? (await buildCsr(payload, key));
  const finalized = await client.finalize(order.finalize, csr);
  const done = finalized.status === "valid" && finalized.certificate ? finalized : await client.waitForOrder(orderUrl, ["valid"]);
  if (!done.certificate) throw new AcmeClientError("the valid order has no certificate URL", null, null, orderUrl);
  const t4 = performance.now();

  // 5. Download the chain.
  const chainPem = await client.downloadCertificate(done.certificate);
  const t5 = performance.now();
  const [certificatePem] = splitPemChain(chainPem);

  return {
    certificatePem: `${certificatePem}\n`,
    chainPem,
    key,
    profile,
    payload,
    accountUrl,
    orderUrl,
    certificateUrl: done.certificate,
    timings: {
      accountMs: t1 - t0,
      orderMs: t2 - t1,
      challengeMs: t3 - t2,
      finalizeMs: t4 - t3,
      downloadMs: t5 - t4,
      totalMs: t5 - t0,
    },
  };
}
