import { describe, expect, it } from "vitest";
import { assertKeyAlgorithm, assertSignatureAlgorithm, generateKeyPair, keyAlgorithmOf, signingAlgorithm } from "./keys";
import { crypto } from "./provider";
import { PkiError } from "@attested/errors";

describe("keys", () => {
  it("generates EC and RSA keys that sign and verify with the mapped algorithm", async () => {
    for (const [alg, hash] of [
      ["EC-P256", "SHA-256"],
      ["EC-P384", "SHA-384"],
      ["RSA-2048", "SHA-256"],
    ] as const) {
      const { publicKey, privateKey } = await generateKeyPair(alg);
      expect(keyAlgorithmOf(publicKey)).toBe(alg);
      expect(privateKey.extractable).toBe(false);
      const params = signingAlgorithm(privateKey, hash);
      expect(params.name).toBe(alg.startsWith("EC") ? "ECDSA" : "RSASSA-PKCS1-v1_5");
      const data = Buffer.from("tbs");
      const sig = await crypto.subtle.sign(params, privateKey, data);
      expect(await crypto.subtle.verify(params, publicKey, sig, data)).toBe(true);
    }
  });

  it("rejects key sizes and signature algorithms we do not offer, naming the field", () => {
    for (const bad of ["RSA-1024", "EC-P521", "DSA", 2048, undefined]) {
      const e = (() => {
        try {
          assertKeyAlgorithm(bad);
        } catch (err) {
          return err;
        }
      })();
      expect(e).toBeInstanceOf(PkiError);
      expect((e as PkiError).code).toBe("unsupportedAlgorithm");
      expect((e as PkiError).field).toBe("keyAlgorithm");
    }
    expect(() => assertSignatureAlgorithm("SHA-1")).toThrow(/SHA-256, SHA-384 or SHA-512/);
    expect(assertSignatureAlgorithm("SHA-384")).toBe("SHA-384");
  });
});
