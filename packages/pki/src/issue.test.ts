import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { issueCertificate, type IssueInput } from "./issue";
import { x509 } from "./provider";
import { KANDJI_TEMPLATE, URLS, caught, makeCsr, openssl, scratch, testPki, type TestCsr, type TestPki } from "./testing";
import { PkiError } from "@attested/errors";

let pki: TestPki;
let csr: TestCsr;
const context = { device: { userDescription: "https://idp.example.com/users/jane" }, attestation: { serialNumber: "F4GXK2Q1N72J" } };

beforeAll(async () => {
  pki = await testPki();
  csr = await makeCsr("EC-P256", {
    subject: "CN=F4GXK2Q1N72J",
    sans: [
      { type: "upn", value: "jane@corp.example" },
      { type: "email", value: "jane@example.com" },
    ],
  });
});

const issue = (over: Partial<IssueInput> = {}) =>
  issueCertificate({ csrPem: csr.pem, context, template: KANDJI_TEMPLATE, ca: pki.intRef, keyStore: pki.keyStore, ...URLS, ...over });

describe("issueCertificate", () => {
  it("issues a leaf that OpenSSL verifies up to the root, showing the template's subject, SANs and EKU", async () => {
    const now = new Date();
    const leaf = await issue({ now, expectedPublicKeySpki: csr.spki });
    const s = scratch();
    try {
      const root = s.file("root.pem", pki.root.certificatePem);
      const int = s.file("int.pem", pki.intermediate.certificatePem);
      const leafPem = s.file("leaf.pem", leaf.certificatePem);
      const v = openssl(["verify", "-CAfile", root, "-untrusted", int, "-purpose", "sslclient", leafPem]);
      expect(v.stdout.trim()).toBe(`${leafPem}: OK`);
      expect(v.status).toBe(0);

      const text = openssl(["x509", "-in", leafPem, "-noout", "-text"]).stdout;
      expect(text).toMatch(/Subject: CN ?= ?F4GXK2Q1N72J, O ?= ?Acme/);
      expect(text).toMatch(/Issuer: CN ?= ?Acme ACME Intermediate CA/);
      expect(text).toMatch(
        /Subject Alternative Name: \n\s+othername: UPN:+jane@corp.example, email:jane@example.com, URI:https:\/\/idp.example.com\/users\/jane/,
      );
      expect(text).toMatch(/Extended Key Usage: \n\s+TLS Web Client Authentication\n/);
      expect(text).toMatch(/Key Usage: critical\n\s+Digital Signature\n/);
      expect(text).toMatch(/Basic Constraints: critical\n\s+CA:FALSE/);
      expect(text).toContain(`URI:${URLS.crlUrl}`);
      expect(text).toContain(`OCSP - URI:${URLS.ocspUrl}`);
      expect(text).toContain(`CA Issuers - URI:${URLS.caIssuersUrl}`);
      const intSki = openssl(["x509", "-in", int, "-noout", "-ext", "subjectKeyIdentifier"]).stdout.split("\n")[1].trim();
      expect(text).toContain(intSki); // AKI of the leaf = SKI of the intermediate

      // The chain served to ACME clients: leaf then intermediate.
      expect(leaf.chainPem.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
      expect(leaf.chainPem.startsWith(leaf.certificatePem)).toBe(true);
      expect(leaf.subjectDn).toBe("CN=F4GXK2Q1N72J, O=Acme");
      expect(leaf.emailAddress).toBe("jane@example.com");
      expect(leaf.publicKeySpki.equals(csr.spki)).toBe(true);
      expect(leaf.publicKeyDescription).toBe("EC P-256");
      expect(leaf.serialNumber).toMatch(/^[4-7][0-9a-f]{31}$/);
      expect(openssl(["x509", "-in", leafPem, "-noout", "-serial"]).stdout.trim().toLowerCase()).toBe(`serial=${leaf.serialNumber}`);
      expect(now.getTime() - leaf.notBefore.getTime()).toBeGreaterThanOrEqual(59_000);
      expect(Math.round((leaf.notAfter.getTime() - now.getTime()) / 86_400_000)).toBe(365);
    } finally {
      s.cleanup();
    }
  });

  it("gives RSA keys keyEncipherment too, and signs with the template's hash", async () => {
    const rsa = await makeCsr("RSA-2048");
    const leaf = await issue({ csrPem: undefined, csrDer: rsa.der, template: { ...KANDJI_TEMPLATE, signatureAlgorithm: "SHA-384" } });
    const text = openssl(["x509", "-noout", "-text"], leaf.certificatePem).stdout;
    expect(text).toMatch(/Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/);
    expect(text).toContain("Signature Algorithm: ecdsa-with-SHA384");
    expect(leaf.publicKeyDescription).toBe("RSA 2048");
  });

  it("uses fresh random serials", async () => {
    const a = await issue();
    const b = await issue();
    expect(a.serialNumber).not.toBe(b.serialNumber);
  });

  it("binds the certificate to the attested key", async () => {
    const other = await makeCsr("EC-P256");
    expect(await caught(() => issue({ expectedPublicKeySpki: other.spki }))).toMatchObject({ code: "publicKeyMismatch", field: "csr" });
    expect(await caught(() => issue({ expectedPublicKeySpki: Buffer.from("junk") }))).toMatchObject({ code: "invalidInput" });
  });

  it("rejects weak, unknown and malformed keys and CSRs", async () => {
    const weak = await makeCsr("RSA-1024");
    expect(await caught(() => issue({ csrPem: weak.pem }))).toMatchObject({ code: "badPublicKey", message: expect.stringMatching(/at least 2048/) });

    const s = scratch();
    try {
      for (const newkey of [
        ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp256k1"],
        ["-newkey", "ed25519"],
      ]) {
        const r = openssl(["req", "-new", ...newkey, "-nodes", "-keyout", s.path("k.pem"), "-subj", "/CN=x"]);
        expect(r.status, r.stderr).toBe(0);
        const e = await caught(() => issue({ csrPem: r.stdout }));
        expect(e).toMatchObject({ code: "badPublicKey", field: "csr" });
      }
    } finally {
      s.cleanup();
    }

    // Found by the property test below: an RSA key whose RSAPublicKey SEQUENCE became a SET.
    const rsa = await makeCsr("RSA-2048");
    const at = rsa.der.indexOf(Buffer.from("3082010a0282", "hex"));
    const badRsa = Buffer.from(rsa.der);
    badRsa[at] = 0x31;
    expect(await caught(() => issue({ csrPem: undefined, csrDer: badRsa }))).toMatchObject({ code: "badPublicKey", field: "csr" });

    const tampered = Buffer.from(csr.der);
    tampered[tampered.length - 5] ^= 0x01; // inside the signature
    expect(await caught(() => issue({ csrPem: undefined, csrDer: tampered }))).toMatchObject({ code: "badCSR", field: "csr" });
    expect(await caught(() => issue({ csrPem: "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----" }))).toMatchObject({
      code: "badCSR",
    });
    expect(await caught(() => issue({ csrPem: undefined, csrDer: Buffer.from([0x30, 0x03, 0x02, 0x01]) }))).toMatchObject({ code: "badCSR" });
    expect(await caught(() => issue({ csrPem: undefined }))).toMatchObject({ code: "badCSR", field: "csr" });
  });

  it("refuses templates that render an invalid subject or SAN, naming the template field", async () => {
    const badCountry = await caught(() =>
      issue({ template: { ...KANDJI_TEMPLATE, subject: "CN=${/csr/subject/commonname},C=${/device/country}" }, context: { device: { country: "Germany" } } }),
    );
    expect(badCountry).toBeInstanceOf(PkiError);
    expect(badCountry).toMatchObject({ code: "templateRender", field: "subject", message: expect.stringMatching(/two-letter/) });

    const empty = await caught(() => issue({ template: { ...KANDJI_TEMPLATE, subject: "CN=${/device/missing}" } }));
    expect(empty).toMatchObject({ code: "templateRender", field: "subject" });

    const badUri = await caught(() => issue({ context: { device: { userDescription: "not a uri" } } }));
    expect(badUri).toMatchObject({ code: "templateRender", field: "sanUri" });

    const badTemplate = await caught(() => issue({ template: { ...KANDJI_TEMPLATE, subject: "CN=${/nope/x}" } }));
    expect(badTemplate).toMatchObject({ code: "invalidInput", field: "subject" });
  });

  it("clips validity to the CA, honours Override Validity Period, and refuses when the CA has expired", async () => {
    const shortPki = await testPki({ intYears: 1 });
    const long = await issueCertificate({
      csrPem: csr.pem,
      context,
      template: { ...KANDJI_TEMPLATE, validityDays: 3650 },
      ca: shortPki.intRef,
      keyStore: shortPki.keyStore,
      ...URLS,
    });
    expect(long.notAfter.getTime()).toBe(shortPki.intermediate.notAfter.getTime());

    const end = new Date(Date.now() + 30 * 86_400_000);
    const fixed = await issue({ template: { ...KANDJI_TEMPLATE, overrideValidity: true, overrideNotAfter: end.toISOString() } });
    expect(fixed.notAfter.getTime()).toBe(Math.floor(end.getTime() / 1000) * 1000);

    const past = await caught(() => issue({ template: { ...KANDJI_TEMPLATE, overrideValidity: true, overrideNotAfter: "2020-01-01" } }));
    expect(past).toMatchObject({ code: "templateRender", field: "overrideNotAfter" });

    const expired = await caught(() => issue({ now: new Date(pki.intermediate.notAfter.getTime() + 1) }));
    expect(expired).toMatchObject({ code: "caExpired" });
  });

  it("refuses a CA whose key id is not the CA's key", async () => {
    expect(await caught(() => issue({ ca: { ...pki.intRef, keyId: pki.root.keyId } }))).toMatchObject({ code: "caKeyMismatch" });
    expect(await caught(() => issue({ ca: { ...pki.intRef, keyId: "missing" } }))).toMatchObject({ code: "keyNotFound" });
  });

  it("turns any template and CSR input into a valid certificate or a PkiError, nothing else", async () => {
    const rsa = await makeCsr("RSA-2048", { subject: "CN=rsa, O=x" });
    const validCsrs = [csr.der, rsa.der];
    // Biased toward inputs that get far (valid structure, odd values), with plain garbage mixed in.
    const chars = ["a", "Z", "0", "é", " ", ".", "-", "@", ":", "/", ",", "+", "=", "\\", "#", '"', "$", "{", "}", "|", "\n"];
    const goodVars = ["${/csr/subject/commonname}", "${/device/a}", "${/device/b|join:,}", "${/attestation/x}", "${/csr/san/rfc822name}"];
    const badBits = ["${/bad/x}", "${", "}", "${/csr}", "${x}", "${/device/a|upper}"];
    const safe = ["a", "Z", "0", "é", " ", ".", "-", "@", ":", "/"];
    const fragment = fc.oneof(
      { weight: 12, arbitrary: fc.constantFrom(...goodVars) },
      { weight: 8, arbitrary: fc.string({ unit: fc.constantFrom(...safe), minLength: 1, maxLength: 8 }) },
      { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...chars), maxLength: 8 }) },
      { weight: 1, arbitrary: fc.constantFrom(...badBits) },
    );
    const value = fc.array(fragment, { minLength: 1, maxLength: 3 }).map((a) => a.join(""));
    const subject = fc
      .array(
        fc.tuple(
          fc.oneof(
            { weight: 12, arbitrary: fc.constantFrom("CN", "O", "OU", "L") },
            { weight: 2, arbitrary: fc.constantFrom("C", "E", "DC", "2.5.4.5") },
            { weight: 1, arbitrary: fc.constantFrom("XX", "", "cn ") },
          ),
          value,
        ),
        { minLength: 1, maxLength: 3 },
      )
      .map((rdns) => rdns.map(([t, v]) => `${t}=${v}`).join(","));
    const san = (good: string) =>
      fc.oneof({ weight: 4, arbitrary: fc.constant("") }, { weight: 2, arbitrary: fc.constant(good) }, { weight: 1, arbitrary: value });
    const ekus = fc.oneof(
      { weight: 5, arbitrary: fc.constantFrom(["clientAuth"], ["serverAuth", "clientAuth"], ["1.2.3.4"]) },
      { weight: 1, arbitrary: fc.array(fc.string({ maxLength: 5 }), { maxLength: 2 }) },
    );
    const validityDays = fc.oneof(
      { weight: 5, arbitrary: fc.integer({ min: 1, max: 3650 }) },
      { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.constant(undefined)) },
    );
    const csrInput = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...validCsrs).map((d) => ({ csrDer: d })) },
      {
        weight: 2,
        arbitrary: fc.tuple(fc.constantFrom(...validCsrs), fc.nat(), fc.integer({ min: 1, max: 255 })).map(([d, i, x]) => {
          const b = Buffer.from(d);
          b[i % b.length] ^= x;
          return { csrDer: b };
        }),
      },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((u) => ({ csrDer: Buffer.from(u) })) },
      { weight: 1, arbitrary: fc.string({ maxLength: 80 }).map((s) => ({ csrPem: s })) },
    );
    const jsonish = fc.oneof(
      { weight: 4, arbitrary: fc.string({ unit: fc.constantFrom(...chars), maxLength: 12 }) },
      { weight: 2, arbitrary: fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }) },
      { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.constant(null), fc.jsonValue({ maxDepth: 2 })) },
    );

    const outcomes: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          subject,
          sanRfc822: san("${/csr/san/rfc822name}"),
          sanDns: san("${/device/a}.example.com"),
          sanUri: san("urn:x:${/device/b|join:-}"),
          sanOtherName: san("${/csr/san/othername}"),
          extendedKeyUsages: ekus,
          validityDays,
        }),
        csrInput,
        fc.record({ a: jsonish, b: jsonish }),
        async (t, csrIn, device) => {
          try {
            const leaf = await issueCertificate({
              ...csrIn,
              context: { device },
              template: { name: "p", ...t },
              ca: pki.intRef,
              keyStore: pki.keyStore,
              ...URLS,
            });
            const cert = new x509.X509Certificate(leaf.certificatePem);
            expect(await cert.verify({ publicKey: new x509.X509Certificate(pki.intermediate.certificatePem).publicKey, signatureOnly: true })).toBe(true);
            expect(openssl(["x509", "-noout", "-subject"], leaf.certificatePem).status).toBe(0);
            outcomes.issued = (outcomes.issued ?? 0) + 1;
          } catch (e) {
            if (!(e instanceof PkiError)) throw e;
            expect(e.message.length).toBeGreaterThan(0);
            outcomes[e.code] = (outcomes[e.code] ?? 0) + 1;
          }
        },
      ),
      { numRuns: 400 },
    );
    // The generators must reach every stage: issued certificates, render failures and CSR failures.
    expect(outcomes.issued).toBeGreaterThanOrEqual(10);
    expect(outcomes.templateRender).toBeGreaterThanOrEqual(5);
    expect(outcomes.badCSR).toBeGreaterThanOrEqual(5);
  });
});
