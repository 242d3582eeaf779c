import { PkiError } from "@attested/errors";
import * as graphene from "graphene-pk11";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIntermediateCa, createRootCa } from "./ca";
import { buildCrl } from "./crl";
import { issueCertificate } from "./issue";
import { KEY_ALGORITHMS } from "./keys";
import { Pkcs11KeyStore, pkcs11KeyId } from "./pkcs11-key-store";
import { x509 } from "./provider";
import { createSoftHsmToken, type SoftHsmToken } from "./softhsm";
import { KANDJI_TEMPLATE, URLS, caught, makeCsr, openssl, scratch } from "./testing";

// The PKCS#11 key store against a real SoftHSM2 token: keys are made and used in the token and cannot
// be read out of it; a missing, locked or refusing token is a clear keyStoreUnavailable error.

let token: SoftHsmToken;
let store: Pkcs11KeyStore;
let mod: graphene.Module;
let session: graphene.Session;

beforeAll(() => {
  token = createSoftHsmToken("Attested PKI Test", "1234-test-pin", [{ label: "Second Token", pin: "2345-other-pin" }]);
  store = new Pkcs11KeyStore({ module: token.module, tokenLabel: token.label, pin: () => token.pin });
  // A session of the test's own, as an auditor's PKCS#11 tool would open one.
  mod = graphene.Module.load(token.module, "softhsm-test");
  try {
    mod.initialize();
  } catch {}
  const slots = mod.getSlots(true);
  const slot = Array.from({ length: slots.length }, (_, i) => slots.items(i)).find((s) => s.getToken().label.trim() === token.label)!;
  session = slot.open(graphene.SessionFlag.SERIAL_SESSION | graphene.SessionFlag.RW_SESSION);
  session.login(token.pin);
});
afterAll(async () => {
  await store?.close();
  session?.close();
  token?.remove();
});

const findPrivate = (label: string) => {
  const found = session.find({ class: graphene.ObjectClass.PRIVATE_KEY, label });
  expect(found.length).toBe(1);
  return found.items(0).toType<graphene.PrivateKey>();
};

describe("Pkcs11KeyStore", () => {
  it("makes a root and an intermediate in the token, issues and signs a CRL with it, and OpenSSL verifies them", async () => {
    const root = await createRootCa({ commonName: "HSM Root", keyAlgorithm: "EC-P384", signatureAlgorithm: "SHA-384", validityYears: 5, keyStore: store });
    expect(root.keyId).toMatch(/^pkcs11:object=attested-ca-[0-9a-f-]{36};type=private$/);
    const rootRef = { certificatePem: root.certificatePem, keyId: root.keyId, signatureAlgorithm: root.signatureAlgorithm };
    const int = await createIntermediateCa({
      commonName: "HSM Issuing",
      keyAlgorithm: "RSA-2048",
      signatureAlgorithm: "SHA-256",
      validityYears: 2,
      keyStore: store,
      key: await store.create("RSA-2048", { label: "HSM Issuing CA key" }),
      parent: rootRef,
      crlUrl: URLS.crlUrl,
      ocspUrl: URLS.ocspUrl,
    });
    expect(int.keyId).toBe(pkcs11KeyId("HSM Issuing CA key"));
    const intRef = { certificatePem: int.certificatePem, keyId: int.keyId, signatureAlgorithm: int.signatureAlgorithm };
    const csr = await makeCsr("EC-P256", { subject: "CN=F4GXK2Q1N72J" });
    // Several at once: the store serializes the token's operations.
    const leaves = await Promise.all(
      [0, 1, 2].map(() => issueCertificate({ csrPem: csr.pem, context: {}, template: KANDJI_TEMPLATE, ca: intRef, keyStore: store, ...URLS })),
    );
    const crl = await buildCrl({
      ca: intRef,
      keyStore: store,
      crlNumber: 1n,
      thisUpdate: new Date(),
      nextUpdate: new Date(Date.now() + 86_400_000),
      revoked: [{ serialNumber: leaves[0].serialNumber, revokedAt: new Date(), reason: "keyCompromise" }],
    });
    const s = scratch();
    try {
      const chain = s.file("chain.pem", int.certificatePem + root.certificatePem);
      const crlPem = s.file("crl.pem", openssl(["crl", "-inform", "DER", "-outform", "PEM"], crl).stdout);
      for (const [i, leaf] of leaves.entries()) {
        const v = openssl([
          "verify",
          "-CAfile",
          s.file("root.pem", root.certificatePem),
          "-untrusted",
          s.file("int.pem", int.certificatePem),
          s.file(`l${i}.pem`, leaf.certificatePem),
        ]);
        expect(v.status, v.stderr).toBe(0);
      }
      expect(openssl(["crl", "-in", crlPem, "-noout", "-CAfile", chain]).stderr).toContain("verify OK");
      const revoked = openssl(["verify", "-crl_check", "-CAfile", chain, "-CRLfile", crlPem, s.path("l0.pem")]);
      expect(revoked.status).not.toBe(0);
      expect(revoked.stdout + revoked.stderr).toContain("certificate revoked");
    } finally {
      s.cleanup();
    }
  });

  it("generates every offered key size inside the token: sensitive, never extractable, and no export gets it out", async () => {
    for (const alg of KEY_ALGORITHMS) {
      const label = `size ${alg}`;
      const { publicKey } = await store.create(alg, { label });
      const priv = findPrivate(label);
      expect(priv.token).toBe(true);
      expect(priv.private).toBe(true);
      expect(priv.sensitive).toBe(true); // CKA_SENSITIVE
      expect(priv.extractable).toBe(false); // CKA_EXTRACTABLE
      expect(priv.get("neverExtractable")).toBe(true);
      expect(priv.get("alwaysSensitive")).toBe(true);
      // The secret attribute itself cannot be read ...
      expect(() => priv.getAttribute(alg.startsWith("EC") ? { value: null } : { privateExponent: null })).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
      // ... nor wrapped out under a key the caller holds.
      const kek = session.generateKey(graphene.KeyGenMechanism.AES, {
        class: graphene.ObjectClass.SECRET_KEY,
        token: false,
        valueLen: 32,
        wrap: true,
        extractable: true,
      });
      expect(() => session.wrapKey(graphene.MechanismEnum.AES_KEY_WRAP_PAD, kek, priv)).toThrow(/CKR_KEY_UNEXTRACTABLE|CKR_KEY_NOT_WRAPPABLE/);
      // ... nor exported through WebCrypto by the store's own key object.
      const key = await store.privateKey(pkcs11KeyId(label));
      expect(key.extractable).toBe(false);
      await expect(crypto.subtle.exportKey("pkcs8", key)).rejects.toThrow();
      expect(publicKey.algorithm.name).toBe(alg.startsWith("EC") ? "ECDSA" : "RSASSA-PKCS1-v1_5");
    }
  }, 120_000);

  it("refuses a label the token already holds", async () => {
    await store.create("EC-P256", { label: "taken" });
    const e = await caught(() => store.create("EC-P256", { label: "taken" }));
    expect(e).toMatchObject({ code: "invalidInput", field: "keyLabel", message: expect.stringContaining('already holds a key labelled "taken"') });
  });

  it("makes a CA from a key generated beforehand in the token (a key ceremony), found by label", async () => {
    session.generateKeyPair(
      graphene.KeyGenMechanism.EC,
      {
        keyType: graphene.KeyType.EC,
        token: true,
        verify: true,
        label: "ceremony 2026",
        id: Buffer.from("c1"),
        paramsECDSA: graphene.NamedCurve.getByName("secp256r1").value,
      },
      {
        keyType: graphene.KeyType.EC,
        token: true,
        sign: true,
        sensitive: true,
        extractable: false,
        private: true,
        label: "ceremony 2026",
        id: Buffer.from("c1"),
      },
    );
    const key = await store.existing("ceremony 2026");
    expect(key.algorithm).toBe("EC-P256");
    const ca = await createRootCa({
      commonName: "Ceremony Root",
      keyAlgorithm: key.algorithm,
      signatureAlgorithm: "SHA-256",
      validityYears: 5,
      keyStore: store,
      key,
    });
    const cert = new x509.X509Certificate(ca.certificatePem);
    expect(await cert.verify({ signatureOnly: true })).toBe(true);
    expect(Buffer.from(cert.publicKey.rawData).equals(Buffer.from(await crypto.subtle.exportKey("spki", key.publicKey)))).toBe(true);

    expect(await caught(() => store.existing("no such key"))).toMatchObject({ code: "keyNotFound", field: "keyLabel" });
    // A key that could leave the token is not a CA key.
    session.generateKeyPair(
      graphene.KeyGenMechanism.EC,
      {
        keyType: graphene.KeyType.EC,
        token: true,
        verify: true,
        label: "exportable",
        id: Buffer.from("c2"),
        paramsECDSA: graphene.NamedCurve.getByName("secp256r1").value,
      },
      { keyType: graphene.KeyType.EC, token: true, sign: true, sensitive: false, extractable: true, private: true, label: "exportable", id: Buffer.from("c2") },
    );
    expect(await caught(() => store.existing("exportable"))).toMatchObject({ code: "invalidInput", message: expect.stringContaining("CKA_EXTRACTABLE") });
  });

  it("a key gone from the token, a wrong PIN, an unknown token or module: keyStoreUnavailable, saying which", async () => {
    const { keyId } = await store.create("EC-P256", { label: "soon gone" });
    const root = await createRootCa({
      commonName: "Gone",
      keyAlgorithm: "EC-P256",
      signatureAlgorithm: "SHA-256",
      validityYears: 1,
      keyStore: store,
      key: { keyId, publicKey: (await store.existing("soon gone")).publicKey },
    });
    const ref = { certificatePem: root.certificatePem, keyId, signatureAlgorithm: root.signatureAlgorithm };
    for (const cls of [graphene.ObjectClass.PRIVATE_KEY, graphene.ObjectClass.PUBLIC_KEY]) {
      const f = session.find({ class: cls, label: "soon gone" });
      for (let i = 0; i < f.length; i++) f.items(i).destroy();
    }
    const csr = await makeCsr("EC-P256");
    const signing = await caught(() => issueCertificate({ csrPem: csr.pem, context: {}, template: KANDJI_TEMPLATE, ca: ref, keyStore: store, ...URLS }));
    expect(signing).toBeInstanceOf(PkiError);
    expect(signing).toMatchObject({ code: "keyStoreUnavailable", message: expect.stringMatching(/refused the signature|not in the token/) });
    // The store recovers: the next key it is asked for works.
    expect((await store.create("EC-P256")).keyId).toMatch(/^pkcs11:/);

    const wrongPin = new Pkcs11KeyStore({ module: token.module, tokenLabel: "Second Token", pin: () => "not-the-pin" });
    expect(await caught(() => wrongPin.create("EC-P256"))).toMatchObject({ code: "keyStoreUnavailable", message: expect.stringContaining("refused the PIN") });
    const noToken = new Pkcs11KeyStore({ module: token.module, tokenLabel: "Not Plugged In", pin: () => token.pin });
    expect(await caught(() => noToken.privateKey(keyId))).toMatchObject({
      code: "keyStoreUnavailable",
      message: expect.stringContaining('no token "Not Plugged In"'),
    });
    const noModule = new Pkcs11KeyStore({ module: "/nonexistent/libpkcs11.so", slot: 0, pin: () => token.pin });
    expect(await caught(() => noModule.create("EC-P256"))).toMatchObject({ code: "keyStoreUnavailable", message: expect.stringContaining("cannot be loaded") });
  });
});
