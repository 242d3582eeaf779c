import { generateKeyPairSync, webcrypto } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ecSpkiFromJwk, oid, time, unsignedInteger } from "./der";
import { publicKeySpki } from "./device";

describe("DER helpers", () => {
  it("EC SPKI from the JWK equals OpenSSL's SPKI export (P-256, P-384, short coordinates included)", () => {
    for (const namedCurve of ["P-256", "P-384"]) {
      for (let i = 0; i < 300; i++) {
        const { publicKey } = generateKeyPairSync("ec", { namedCurve });
        expect(ecSpkiFromJwk(publicKey.export({ format: "jwk" }))!.toString("hex")).toBe(publicKey.export({ type: "spki", format: "der" }).toString("hex"));
      }
    }
    expect(ecSpkiFromJwk(generateKeyPairSync("ec", { namedCurve: "P-521" }).publicKey.export({ format: "jwk" }))).toBeNull();
  });

  it("publicKeySpki equals subtle.exportKey('spki') for EC and RSA keys", async () => {
    for (const alg of [
      { name: "ECDSA", namedCurve: "P-384" },
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    ]) {
      const pair = (await webcrypto.subtle.generateKey(alg, false, ["sign", "verify"])) as CryptoKeyPair;
      expect(publicKeySpki(pair.publicKey).equals(Buffer.from(await webcrypto.subtle.exportKey("spki", pair.publicKey)))).toBe(true);
    }
  });

  it("encodes OIDs, INTEGERs and times", () => {
    expect(oid("1.2.840.113635.100.8.11.1").toString("hex")).toBe("060a2a864886f76364080b01");
    expect(oid("2.999.3").toString("hex")).toBe("0603883703");
    expect(unsignedInteger(Buffer.from("0080ff", "hex")).toString("hex")).toBe("02030080ff");
    expect(unsignedInteger(Buffer.from("000001", "hex")).toString("hex")).toBe("020101");
    expect(time(new Date("2049-12-31T23:59:59.999Z")).toString("latin1")).toBe("\x17\x0d491231235959Z");
    expect(time(new Date("2050-01-01T00:00:00Z")).toString("latin1")).toBe("\x18\x0f20500101000000Z");
  });
});
