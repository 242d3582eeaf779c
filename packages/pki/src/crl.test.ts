import { beforeAll, describe, expect, it } from "vitest";
import { REASON_CODE_LABELS, buildCrl, reasonFromLabel, type BuildCrlInput } from "./crl";
import { issueCertificate, type IssuedCertificate } from "./issue";
import { KANDJI_TEMPLATE, URLS, caught, makeCsr, openssl, scratch, testPki, type TestPki } from "./testing";
import { x509 } from "./provider";

let pki: TestPki;
let revokedLeaf: IssuedCertificate;
let goodLeaf: IssuedCertificate;

beforeAll(async () => {
  pki = await testPki();
  const leaf = async () =>
    issueCertificate({ csrDer: (await makeCsr()).der, context: {}, template: KANDJI_TEMPLATE, ca: pki.intRef, keyStore: pki.keyStore, ...URLS });
  revokedLeaf = await leaf();
  goodLeaf = await leaf();
});

const thisUpdate = new Date();
const nextUpdate = new Date(thisUpdate.getTime() + 86_400_000);
const crlInput = (over: Partial<BuildCrlInput> = {}): BuildCrlInput => ({
  ca: pki.intRef,
  keyStore: pki.keyStore,
  crlNumber: 42,
  thisUpdate,
  nextUpdate,
  revoked: [
    { serialNumber: revokedLeaf.serialNumber, revokedAt: new Date(thisUpdate.getTime() - 3_600_000), reason: "certificateHold" },
    { serialNumber: "0123abcd", revokedAt: thisUpdate, reason: "keyCompromise" },
    { serialNumber: "7f", revokedAt: thisUpdate, reason: "unspecified" },
  ],
  ...over,
});

describe("buildCrl", () => {
  it("builds a v2 CRL that OpenSSL reads: AKI, CRL number, entries with reason codes", async () => {
    const der = await buildCrl(crlInput());
    const text = openssl(["crl", "-inform", "DER", "-noout", "-text"], der).stdout;
    expect(text).toContain("Version 2 (0x1)");
    expect(text).toMatch(/Issuer: CN ?= ?Acme ACME Intermediate CA/);
    expect(text).toMatch(/X509v3 CRL Number: \n\s+42\n/);
    expect(text).toContain("X509v3 Authority Key Identifier");
    expect(text).toMatch(
      new RegExp(
        `Serial Number: ${revokedLeaf.serialNumber.toUpperCase()}\\n[^\\n]+\\n\\s+CRL entry extensions:\\n\\s+X509v3 CRL Reason Code: \\n\\s+Certificate Hold`,
      ),
    );
    expect(text).toMatch(/Serial Number: 0123ABCD\n[^\n]+\n\s+CRL entry extensions:\n\s+X509v3 CRL Reason Code: \n\s+Key Compromise/);
    // RFC 5280 §5.3.1: no reason code extension for "unspecified".
    expect(text).toMatch(/Serial Number: 7F\n\s+Revocation Date: [^\n]+\n(?!\s+CRL entry extensions)/);
    expect(text).toMatch(/Next Update: /);
  });

  it("is signed by the CA and makes OpenSSL reject the revoked leaf only", async () => {
    const der = await buildCrl(crlInput());
    const s = scratch();
    try {
      const crlPem = s.file("crl.pem", openssl(["crl", "-inform", "DER", "-outform", "PEM"], der).stdout);
      const root = s.file("root.pem", pki.root.certificatePem);
      const int = s.file("int.pem", pki.intermediate.certificatePem);
      expect(
        openssl(["crl", "-in", crlPem, "-noout", "-CAfile", s.file("both.pem", pki.intermediate.certificatePem + pki.root.certificatePem)]).stderr,
      ).toContain("verify OK");
      const check = (leaf: IssuedCertificate) =>
        openssl(["verify", "-crl_check", "-CAfile", root, "-untrusted", int, "-CRLfile", crlPem, s.file(`${leaf.serialNumber}.pem`, leaf.certificatePem)]);
      const bad = check(revokedLeaf);
      expect(bad.status).not.toBe(0);
      expect(bad.stdout + bad.stderr).toContain("certificate revoked");
      expect(check(goodLeaf).status).toBe(0);
    } finally {
      s.cleanup();
    }
  });

  it("encodes big CRL numbers and lists a serial once", async () => {
    const der = await buildCrl(
      crlInput({
        crlNumber: 2n ** 70n,
        revoked: [
          { serialNumber: "AB:CD", revokedAt: thisUpdate, reason: "superseded" },
          { serialNumber: "abcd", revokedAt: thisUpdate, reason: "superseded" },
        ],
      }),
    );
    const crl = new x509.X509Crl(new Uint8Array(der));
    expect(crl.entries.map((e) => e.serialNumber)).toEqual(["abcd"]);
    expect(openssl(["crl", "-inform", "DER", "-noout", "-crlnumber"], der).stdout.trim()).toBe("crlNumber=0x400000000000000000");
  });

  it("maps the guide's Reason Code labels", () => {
    expect(Object.keys(REASON_CODE_LABELS)).toEqual(["Certificate Hold", "AA Compromise", "Privilege Withdrawn", "Unspecified"]);
    expect(reasonFromLabel("AA Compromise")).toBe("aACompromise");
    expect(reasonFromLabel("Privilege Withdrawn")).toBe("privilegeWithdrawn");
    expect(() => reasonFromLabel("Lost")).toThrow(/Reason Code must be one of/);
  });

  it("rejects bad input with a field", async () => {
    expect(await caught(() => buildCrl(crlInput({ nextUpdate: thisUpdate })))).toMatchObject({ code: "invalidInput", field: "nextUpdate" });
    expect(await caught(() => buildCrl(crlInput({ crlNumber: -1 })))).toMatchObject({ code: "invalidInput", field: "crlNumber" });
    expect(await caught(() => buildCrl(crlInput({ revoked: [{ serialNumber: "xyz", revokedAt: thisUpdate, reason: "superseded" }] })))).toMatchObject({
      code: "invalidInput",
      field: "revoked.0.serialNumber",
    });
    expect(await caught(() => buildCrl(crlInput({ revoked: [{ serialNumber: "01", revokedAt: thisUpdate, reason: "lost" as never }] })))).toMatchObject({
      code: "invalidInput",
      field: "revoked.0.reason",
    });
  });
});
