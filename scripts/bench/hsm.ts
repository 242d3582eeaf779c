// `npm run bench:enroll -- --hsm`: the issuing CA's key in a PKCS#11 token (SoftHSM2) beside the
// software (sealed) key: raw signatures per second of each, and the enrollment rate with each.
import { KeyObject, sign } from "node:crypto";
import { Pkcs11KeyStore, SealedKeyStore, memoryKeyPersistence } from "../../packages/pki/src/index";
import { cryptoFor } from "../../packages/pki/src/provider";
import type { SoftHsmToken } from "../../packages/pki/src/softhsm";

const DATA = new Uint8Array(400); // about a leaf certificate's TBS

/** Signatures per second, one at a time and `concurrency` at once, with `signOnce`. */
async function rate(signOnce: () => Promise<unknown>, count: number, concurrency: number): Promise<{ serial: number; concurrent: number }> {
  for (let i = 0; i < 20; i++) await signOnce(); // warm-up
  let t = performance.now();
  for (let i = 0; i < count; i++) await signOnce();
  const serial = count / ((performance.now() - t) / 1000);
  t = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < count) await signOnce();
    }),
  );
  return { serial, concurrent: count / ((performance.now() - t) / 1000) };
}

/** EC P-256 / SHA-256 signatures per second: the token's (through the store) and a software key's (node:crypto, as issuance signs). */
export async function signatureRates(token: SoftHsmToken, count = 500, concurrency = 16) {
  const hsm = new Pkcs11KeyStore({ module: token.module, tokenLabel: token.label, pin: () => token.pin });
  const { keyId } = await hsm.create("EC-P256", { label: `bench-sign-${Date.now()}` });
  const hsmKey = await hsm.privateKey(keyId);
  const p11 = cryptoFor(hsmKey);
  const hsmRate = await rate(() => p11.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, hsmKey, DATA), count, concurrency);
  await hsm.destroy(keyId);
  await hsm.close();

  const soft = new SealedKeyStore(memoryKeyPersistence(), { masterKey: Buffer.alloc(32, 7) });
  const softKey = KeyObject.from(await soft.privateKey((await soft.create("EC-P256")).keyId));
  const softRate = await rate(async () => sign("sha256", DATA, { key: softKey, dsaEncoding: "der" }), count * 4, concurrency);
  return { hsm: hsmRate, software: softRate };
}
