import { createHash, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { APPLE_ENTERPRISE_ATTESTATION_ROOT_CA_PEM, APPLE_ENTERPRISE_ATTESTATION_ROOT_CA_SHA256, DEFAULT_TRUSTED_ROOTS, readAppleRootPemFile } from "./index";

const colonHex = (b: Buffer) => b.toString("hex").toUpperCase().match(/../g)!.join(":");

describe("Apple Enterprise Attestation Root CA", () => {
  it("the generated constant equals the shipped data file and the published reference copy (docs/reference)", () => {
    expect(APPLE_ENTERPRISE_ATTESTATION_ROOT_CA_PEM).toBe(readAppleRootPemFile());
    const reference = new URL("../../../docs/reference/apple/apple-enterprise-attestation-root-ca.pem", import.meta.url);
    expect(APPLE_ENTERPRISE_ATTESTATION_ROOT_CA_PEM).toBe(readFileSync(reference, "utf8"));
  });

  it("has the published SHA-256 fingerprint, P-384 key and validity", () => {
    const cert = new X509Certificate(APPLE_ENTERPRISE_ATTESTATION_ROOT_CA_PEM);
    expect(colonHex(createHash("sha256").update(cert.raw).digest())).toBe(
      "CC:F5:9E:F8:FC:B3:01:7D:97:F8:B5:FA:6F:A9:0E:7A:3F:92:83:F7:6B:55:AC:6C:F6:ED:A8:B8:B9:49:F0:5B",
    );
    expect(APPLE_ENTERPRISE_ATTESTATION_ROOT_CA_SHA256).toBe(colonHex(createHash("sha256").update(cert.raw).digest()));
    expect(cert.fingerprint256).toBe(APPLE_ENTERPRISE_ATTESTATION_ROOT_CA_SHA256);
    expect(cert.subject).toBe("CN=Apple Enterprise Attestation Root CA\nO=Apple Inc.\nC=US");
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe("secp384r1");
    expect(new Date(cert.validTo).toISOString()).toBe("2047-02-20T00:00:00.000Z");
    expect(cert.ca).toBe(true);
  });

  it("is the only default trust anchor", () => {
    expect(DEFAULT_TRUSTED_ROOTS).toEqual([APPLE_ENTERPRISE_ATTESTATION_ROOT_CA_PEM]);
    expect(Object.isFrozen(DEFAULT_TRUSTED_ROOTS)).toBe(true);
  });
});
