import { describe, expect, it } from "vitest";
import { createIntermediateCa, createRootCa, describeCertificate } from "./ca";
import { SealedKeyStore, memoryKeyPersistence } from "./key-store";
import { caught, openssl, scratch, testPki } from "./testing";
import { randomBytes } from "node:crypto";
import { PkiError } from "@attested/errors";

const store = () => new SealedKeyStore(memoryKeyPersistence(), { masterKey: randomBytes(32) });

describe("certificate authorities", () => {
  it("creates a root and an intermediate that OpenSSL accepts, with the RFC 5280 CA extensions", async () => {
    const now = new Date("2026-03-01T12:00:00Z");
    const { root, intermediate } = await testPki({ now });
    const s = scratch();
    try {
      const rootPem = s.file("root.pem", root.certificatePem);
      const intPem = s.file("int.pem", intermediate.certificatePem);
      const intText = openssl(["x509", "-in", intPem, "-noout", "-text"]).stdout;
      const v = openssl(["verify", "-attime", String(now.getTime() / 1000 + 60), "-CAfile", rootPem, intPem]);
      expect(v.stdout + v.stderr).toContain(": OK");
      expect(v.status).toBe(0);

      const rootText = openssl(["x509", "-in", rootPem, "-noout", "-text"]).stdout;
      expect(rootText).toMatch(/Subject: CN ?= ?Acme Root CA/);
      expect(rootText).toMatch(/Basic Constraints: critical\s+CA:TRUE\n/);
      expect(rootText).toMatch(/Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/);
      expect(rootText).toContain("Subject Key Identifier");
      expect(rootText).toContain("ecdsa-with-SHA384");
      expect(intText).toContain("Signature Algorithm: ecdsa-with-SHA384"); // signed with the root's hash

      expect(intText).toMatch(/Issuer: CN ?= ?Acme Root CA/);
      expect(intText).toMatch(/Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
      expect(intText).toContain("Authority Key Identifier");
      expect(intText).toContain("URI:http://pki.example.test/crl/root.crl");
      expect(intText).toContain("OCSP - URI:http://pki.example.test/ocsp/root");
      expect(intText).toContain("CA Issuers - URI:http://pki.example.test/ca/root.cer");

      // Fingerprints and serial as OpenSSL prints them.
      const fp = openssl(["x509", "-in", intPem, "-noout", "-fingerprint", "-sha256", "-serial"]).stdout;
      expect(fp).toContain(`Fingerprint=${intermediate.sha256Fingerprint}`);
      expect(fp.toLowerCase()).toContain(`serial=${intermediate.serialNumber}`);
      expect(intermediate.serialNumber).toMatch(/^[4-7][0-9a-f]{31}$/);
      expect(intermediate.subjectDn).toBe("CN=Acme ACME Intermediate CA");
      expect(intermediate.notAfter.getUTCFullYear()).toBe(2036);
      expect(describeCertificate(intermediate.certificatePem)).toMatchObject({ issuerDn: "CN=Acme Root CA", isCa: true });
    } finally {
      s.cleanup();
    }
  });

  it("clips an intermediate's validity to its parent's", async () => {
    const { intermediate, root } = await testPki({ intYears: 30 });
    expect(intermediate.notAfter.getTime()).toBe(root.notAfter.getTime());
  });

  it("signs with RSA keys and the chosen hash (RSA-4096 root, SHA-512)", async () => {
    const keyStore = store();
    const root = await createRootCa({ commonName: "Big Root", keyAlgorithm: "RSA-4096", signatureAlgorithm: "SHA-512", validityYears: 5, keyStore });
    const int = await createIntermediateCa({
      commonName: "RSA Intermediate",
      keyAlgorithm: "RSA-2048",
      signatureAlgorithm: "SHA-384",
      validityYears: 3,
      keyStore,
      parent: { certificatePem: root.certificatePem, keyId: root.keyId, signatureAlgorithm: "SHA-512" },
      crlUrl: "http://x.test/crl",
      ocspUrl: "http://x.test/ocsp",
    });
    const s = scratch();
    try {
      const rootText = openssl(["x509", "-noout", "-text"], root.certificatePem).stdout;
      expect(rootText).toContain("sha512WithRSAEncryption");
      expect(rootText).toContain("Public-Key: (4096 bit)");
      // The parent signs with its own hash; the intermediate's SHA-384 is for what it signs.
      expect(openssl(["x509", "-noout", "-text"], int.certificatePem).stdout).toContain("sha512WithRSAEncryption");
      expect(int.signatureAlgorithm).toBe("SHA-384");
      const v = openssl(["verify", "-CAfile", s.file("r.pem", root.certificatePem), s.file("i.pem", int.certificatePem)]);
      expect(v.status).toBe(0);
    } finally {
      s.cleanup();
    }
  });

  it("rejects bad input with a PkiError naming the field", async () => {
    const keyStore = store();
    const base = { commonName: "X", keyAlgorithm: "EC-P256", signatureAlgorithm: "SHA-256", validityYears: 5, keyStore } as const;
    const cases: [Record<string, unknown>, string][] = [
      [{ validityYears: 0 }, "validityYears"],
      [{ validityYears: 31 }, "validityYears"],
      [{ validityYears: 2.5 }, "validityYears"],
      [{ keyAlgorithm: "RSA-1024" }, "keyAlgorithm"],
      [{ signatureAlgorithm: "SHA-1" }, "signatureAlgorithm"],
      [{ signatureAlgorithm: "MD5" }, "signatureAlgorithm"],
      [{ commonName: "" }, "commonName"],
      [{ commonName: "x".repeat(65) }, "commonName"],
    ];
    for (const [override, field] of cases) {
      const e = await caught(() => createRootCa({ ...base, ...override } as never));
      expect(e, JSON.stringify(override)).toBeInstanceOf(PkiError);
      expect((e as PkiError).field).toBe(field);
      expect((e as PkiError).code).toBe("invalidInput");
      expect((e as PkiError).message.length).toBeGreaterThan(5);
    }
    const root = await createRootCa(base);
    const parent = { certificatePem: root.certificatePem, keyId: root.keyId, signatureAlgorithm: "SHA-256" as const };
    const badUrl = await caught(() => createIntermediateCa({ ...base, parent, crlUrl: "ftp://x", ocspUrl: "http://o.test" }));
    expect(badUrl).toMatchObject({ code: "invalidInput", field: "crlUrl" });
  });

  it("refuses parents that cannot issue: expired, not a CA, pathLen 0, or a key that is not theirs", async () => {
    const { keyStore, root, intermediate, rootRef } = await testPki();
    const base = {
      commonName: "Y",
      keyAlgorithm: "EC-P256",
      signatureAlgorithm: "SHA-256",
      validityYears: 1,
      keyStore,
      ...{ crlUrl: "http://c.test", ocspUrl: "http://o.test" },
    } as const;
    const later = new Date(root.notAfter.getTime() + 1000);
    expect(await caught(() => createIntermediateCa({ ...base, parent: rootRef, now: later }))).toMatchObject({ code: "caExpired", field: "parent" });
    const intRef = { certificatePem: intermediate.certificatePem, keyId: intermediate.keyId, signatureAlgorithm: "SHA-256" as const };
    expect(await caught(() => createIntermediateCa({ ...base, parent: intRef }))).toMatchObject({ code: "badCaCertificate", field: "parent" });
    const wrongKey = { ...rootRef, keyId: intermediate.keyId };
    expect(await caught(() => createIntermediateCa({ ...base, parent: wrongKey }))).toMatchObject({ code: "caKeyMismatch" });
    expect(await caught(() => createIntermediateCa({ ...base, parent: { ...rootRef, certificatePem: "nope" } }))).toMatchObject({
      code: "badCaCertificate",
      field: "parent.certificatePem",
    });
  });
});
