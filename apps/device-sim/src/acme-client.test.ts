// Unit tests of the client's pure parts. The HTTP flow is exercised against the real ACME server.
import { flattenedVerify, importJWK, type FlattenedJWS } from "jose";
import { describe, expect, it } from "vitest";
import { AcmeClient, AcmeClientError, parseRetryAfter } from "./acme-client";
import { percentile } from "./fleet";
import { generateDevices, udidForSerial } from "./device";
import { splitPemChain } from "./enroll";

describe("AcmeClient.signRequest", () => {
  it("signs newAccount with the jwk, later requests with the kid, POST-as-GET with an empty payload", async () => {
    const client = new AcmeClient({ directoryUrl: "https://acme.invalid/directory" });
    const withJwk = JSON.parse(await client.signRequest("https://acme.invalid/new-account", { termsOfServiceAgreed: true }, "n1", true)) as FlattenedJWS;
    const header = JSON.parse(Buffer.from(withJwk.protected!, "base64url").toString()) as Record<string, unknown>;
    expect(header).toMatchObject({ alg: "ES256", nonce: "n1", url: "https://acme.invalid/new-account" });
    expect(header.kid).toBeUndefined();
    const jwk = header.jwk as Record<string, string>;
    expect(Object.keys(jwk).sort()).toEqual(["crv", "kty", "x", "y"]); // public members only
    const key = await importJWK(jwk, "ES256");
    const verified = await flattenedVerify(withJwk, key);
    expect(JSON.parse(new TextDecoder().decode(verified.payload))).toEqual({ termsOfServiceAgreed: true });

    await expect(client.signRequest("https://acme.invalid/x", undefined, "n2", false)).rejects.toThrow(/no account/);
    client.accountUrl = "https://acme.invalid/acct/1";
    const asGet = JSON.parse(await client.signRequest("https://acme.invalid/order/1", undefined, "n2", false)) as FlattenedJWS;
    expect(asGet.payload).toBe("");
    const h2 = JSON.parse(Buffer.from(asGet.protected!, "base64url").toString()) as Record<string, unknown>;
    expect(h2).toMatchObject({ kid: "https://acme.invalid/acct/1", nonce: "n2" });
    expect(h2.jwk).toBeUndefined();
    expect((await flattenedVerify(asGet, key)).payload.length).toBe(0);
  });
});

describe("helpers", () => {
  it("parseRetryAfter reads seconds and HTTP dates", () => {
    expect(parseRetryAfter("3")).toBe(3000);
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter("soon")).toBeNull();
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(parseRetryAfter("Wed, 01 Jan 2025 00:00:05 GMT", now)).toBe(5000);
    expect(parseRetryAfter("Tue, 31 Dec 2024 00:00:00 GMT", now)).toBe(0);
  });

  it("AcmeClientError exposes the problem type", () => {
    const e = new AcmeClientError("x", { type: "urn:ietf:params:acme:error:badAttestationStatement", detail: "d" }, 400, "u");
    expect(e.acmeType).toBe("badAttestationStatement");
    expect(new AcmeClientError("x", null, null, "u").acmeType).toBeUndefined();
  });

  it("percentile uses the nearest rank", () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(v, 50), percentile(v, 95), percentile(v, 99), percentile(v, 100)]).toEqual([50, 95, 99, 100]);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBe(0);
  });

  it("generateDevices is deterministic, unique and Apple-shaped", () => {
    const a = generateDevices(50, "SIM");
    expect(generateDevices(50, "SIM")).toEqual(a);
    expect(new Set(a.map((d) => d.serialNumber)).size).toBe(50);
    for (const d of a) {
      expect(d.serialNumber).toMatch(/^SIM[0-9A-Z]{9}$/);
      expect(d.udid).toMatch(/^00008103-[0-9A-F]{16}$/);
      expect(d.udid).toBe(udidForSerial(d.serialNumber));
    }
    expect(() => generateDevices(1, "bad-prefix")).toThrow(RangeError);
  });

  it("splitPemChain returns each certificate, leaf first", () => {
    const a = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----";
    const b = "-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----";
    expect(splitPemChain(`${a}\n${b}\n`)).toEqual([a, b]);
  });
});
