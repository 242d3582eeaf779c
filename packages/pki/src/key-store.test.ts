import { randomBytes } from "node:crypto";
import { openEnvelope } from "@attested/secrets";
import { describe, expect, it } from "vitest";
import { SealedKeyStore, memoryKeyPersistence } from "./key-store";
import { crypto } from "./provider";
import { PkiError } from "@attested/errors";

const data = Buffer.from("to be signed");

describe("SealedKeyStore", () => {
  it("seals the PKCS#8 so the stored blob is useless without the master key", async () => {
    const mk = randomBytes(32);
    const persistence = memoryKeyPersistence();
    const store = new SealedKeyStore(persistence, { masterKey: mk });
    const { keyId, publicKey } = await store.create("EC-P256");
    const rec = persistence.records.get(keyId)!;
    expect(rec.algorithm).toBe("EC-P256");

    // Opening the envelope with the master key yields the PKCS#8 of this very key pair ...
    const pkcs8 = openEnvelope({ sealed: rec.sealedKey, wrappedDek: rec.wrappedDek }, `ca-key:${keyId}`, mk);
    const reimported = await crypto.subtle.importKey("pkcs8", new Uint8Array(pkcs8), { name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]);
    const jwk = await crypto.subtle.exportKey("jwk", reimported);
    const pubJwk = await crypto.subtle.exportKey("jwk", publicKey);
    expect([jwk.x, jwk.y]).toEqual([pubJwk.x, pubJwk.y]);
    // ... yet neither the PKCS#8 nor its private scalar appears anywhere in what was stored.
    const stored = Buffer.concat([rec.sealedKey, rec.wrappedDek]);
    const scalar = Buffer.from(jwk.d!, "base64url");
    expect(stored.includes(pkcs8.subarray(0, 16))).toBe(false);
    expect(stored.includes(scalar.subarray(0, 8))).toBe(false);

    // A store with another master key fails with a typed error, not a crash, and not from the cache.
    const thief = new SealedKeyStore(persistence, { masterKey: randomBytes(32) });
    await expect(thief.privateKey(keyId)).rejects.toMatchObject({ code: "keyUnavailable" });

    // Tampering with the blob is detected (once the process cache no longer holds the key).
    store.forget(keyId);
    const tampered = memoryKeyPersistence();
    const flipped = Buffer.from(rec.sealedKey);
    flipped[flipped.length - 1] ^= 1;
    await tampered.save({ ...rec, sealedKey: flipped });
    await expect(new SealedKeyStore(tampered, { masterKey: mk }).privateKey(keyId)).rejects.toBeInstanceOf(PkiError);

    // With the right master key the key signs, and is not extractable.
    const priv = await new SealedKeyStore(persistence, { masterKey: mk }).privateKey(keyId);
    expect(priv.extractable).toBe(false);
    expect(priv.usages).toEqual(["sign"]);
    const sig = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, priv, data);
    expect(await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, publicKey, sig, data)).toBe(true);
  });

  it("unseals once per process, not per signature", async () => {
    const mk = randomBytes(32);
    const inner = memoryKeyPersistence();
    let loads = 0;
    const counting = {
      save: inner.save,
      load: (id: string) => {
        loads++;
        return inner.load(id);
      },
    };
    const { keyId } = await new SealedKeyStore(inner, { masterKey: mk }).create("EC-P384");
    // A fresh store instance (as a new request handler would create) still uses the process cache.
    const store = new SealedKeyStore(counting, { masterKey: () => mk });
    await Promise.all([store.privateKey(keyId), store.privateKey(keyId, "SHA-384"), store.privateKey(keyId)]);
    expect(loads).toBe(0);

    // After a restart (simulated by a never-seen key id), the first use loads and unseals exactly once.
    const other = memoryKeyPersistence();
    const copyId = keyId.replace(/.$/, (c) => (c === "0" ? "1" : "0"));
    const rec = inner.records.get(keyId)!;
    await other.save({ ...rec, id: copyId });
    let otherLoads = 0;
    const s2 = new SealedKeyStore(
      {
        save: other.save,
        load: (id) => {
          otherLoads++;
          return other.load(id);
        },
      },
      { masterKey: mk },
    );
    // The blob is bound to its id ("ca-key:<id>"), so a row copied under another id does not open.
    await expect(s2.privateKey(copyId)).rejects.toMatchObject({ code: "keyUnavailable" });
    expect(otherLoads).toBe(1);
  });

  it("binds RSA keys to the requested signature hash", async () => {
    const mk = randomBytes(32);
    const store = new SealedKeyStore(memoryKeyPersistence(), { masterKey: mk });
    const { keyId, publicKey } = await store.create("RSA-2048");
    const k384 = await store.privateKey(keyId, "SHA-384");
    expect((k384.algorithm as RsaHashedKeyAlgorithm).hash.name).toBe("SHA-384");
    const sig = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", k384, data);
    const pub384 = await crypto.subtle.importKey(
      "spki",
      await crypto.subtle.exportKey("spki", publicKey),
      { name: "RSASSA-PKCS1-v1_5", hash: "SHA-384" },
      false,
      ["verify"],
    );
    expect(await crypto.subtle.verify("RSASSA-PKCS1-v1_5", pub384, sig, data)).toBe(true);
  });

  it("reports unknown keys and refuses unknown algorithms with typed errors", async () => {
    const store = new SealedKeyStore(memoryKeyPersistence(), { masterKey: randomBytes(32) });
    await expect(store.privateKey("nope")).rejects.toMatchObject({ code: "keyNotFound" });
    await expect(store.create("RSA-1024" as never)).rejects.toMatchObject({ code: "unsupportedAlgorithm", field: "keyAlgorithm" });
  });
});
