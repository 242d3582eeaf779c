import { generateKeyPairSync } from "node:crypto";
import { calculateJwkThumbprint, type JWK } from "jose";
import { describe, expect, it } from "vitest";
import { jwkThumbprint } from "./jws";

describe("jwkThumbprint", () => {
  it("is the RFC 7638 SHA-256 thumbprint, as jose computes it, for every supported key type", async () => {
    const keys = [
      generateKeyPairSync("ec", { namedCurve: "P-256" }),
      generateKeyPairSync("ec", { namedCurve: "P-384" }),
      generateKeyPairSync("rsa", { modulusLength: 2048 }),
      generateKeyPairSync("ed25519"),
    ];
    for (const { publicKey } of keys) {
      const jwk = publicKey.export({ format: "jwk" }) as Record<string, string>;
      expect(jwkThumbprint(jwk)).toBe(await calculateJwkThumbprint(jwk as JWK, "sha256"));
    }
    // RFC 7638 §3.1's example key.
    const rfc = {
      kty: "RSA",
      e: "AQAB",
      n: "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    };
    expect(jwkThumbprint(rfc)).toBe("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  });
});
