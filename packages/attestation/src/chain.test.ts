import { X509Certificate } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import { Certificate } from "@peculiar/asn1-x509";
import { describe, expect, it } from "vitest";
import { parseCertificate, verifyCertificatePath, type ParsedCertificate } from "./chain";
import { DerError, readOid, readTime, readTlv } from "@attested/der";
import { REAL_LEAF_PEM } from "./testing/fixtures";
import { appleExtensions, der, issue, makeKeys, makeRoot, makeSubCa } from "./testing/pki";
import { x509 } from "./x509";
import { AttestationError } from "@attested/errors";

/** What the full ASN.1 parser (@peculiar/x509) reads from the same bytes. */
function reference(bytes: Uint8Array) {
  const cert = new x509.X509Certificate(new Uint8Array(bytes));
  return {
    signatureAlgorithm: AsnConvert.parse(cert.rawData, Certificate).signatureAlgorithm.algorithm,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    extensions: cert.extensions.map((e) => ({ type: e.type, critical: e.critical, value: Buffer.from(e.value) })),
    publicKeySpki: Buffer.from(cert.publicKey.rawData),
    subject: cert.subject,
  };
}

const fields = (p: ParsedCertificate) => ({
  signatureAlgorithm: p.signatureAlgorithm,
  notBefore: p.notBefore,
  notAfter: p.notAfter,
  extensions: p.extensions.map((e) => ({ ...e, value: Buffer.from(e.value) })),
  publicKeySpki: Buffer.from(p.publicKeySpki),
  subject: p.cert.subject,
});

describe("parseCertificate (strict DER reader)", () => {
  it("reads what @peculiar/x509 reads, for the real Apple leaf and generated chains", async () => {
    const root = await makeRoot();
    const sub = await makeSubCa(root);
    const keys = await makeKeys("P-256");
    const leaf = await issue({
      subject: "CN=device, O=Test",
      issuer: sub,
      publicKey: keys.publicKey,
      notAfter: new Date("2051-01-01T00:00:00Z"), // GeneralizedTime
      extensions: appleExtensions({ serial: "S1", udid: "U1", freshness: new Uint8Array(32).fill(7) }),
    });
    for (const bytes of [new X509Certificate(REAL_LEAF_PEM).raw, der(root.cert), der(sub.cert), der(leaf)]) {
      expect(fields(parseCertificate(bytes, "cert"))).toEqual(reference(bytes));
    }
  });

  it("falls back to the full parser for encodings the reader refuses, with the same result", () => {
    const real = new X509Certificate(REAL_LEAF_PEM).raw;
    // Same certificate with the outer SEQUENCE length in a needlessly long form (BER, not DER).
    const len = real.readUInt16BE(2);
    const ber = Buffer.concat([Buffer.from([0x30, 0x84, 0, 0]), real.subarray(2, 4), real.subarray(4)]);
    expect(ber.length).toBe(real.length + 2);
    expect(() => readTlv(ber, 0)).toThrow(DerError);
    expect(len).toBe(real.length - 4);
    let parsed: ParsedCertificate | undefined;
    try {
      parsed = parseCertificate(ber, "x5c[0]");
    } catch (e) {
      // OpenSSL refuses it too: then it is refused as before
      expect((e as Error).message).toContain("x5c[0] is not a valid DER certificate");
    }
    if (parsed) expect(fields(parsed)).toEqual(reference(ber));
  });

  it("refuses junk as chainInvalid", () => {
    expect(() => parseCertificate(Buffer.from("junk"), "x5c[0]")).toThrow(/x5c\[0\] is not a valid DER certificate/);
    expect(() => parseCertificate(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]), "x5c[0]")).toThrow(/not a valid DER certificate/);
  });
});

describe("verifyCertificatePath signatures (checked on the thread pool)", () => {
  it("gives OpenSSL's verdict: a good leaf passes; a flipped signature or an outer algorithm other than the signed one fails", async () => {
    const root = await makeRoot();
    const sub = await makeSubCa(root);
    const keys = await makeKeys("P-256");
    const leaf = der(await issue({ subject: "CN=device", issuer: sub, publicKey: keys.publicKey }));
    const rootPem = root.cert.toString("pem");
    const now = new Date();
    expect((await verifyCertificatePath([leaf, der(sub.cert)], [rootPem], now)).path).toHaveLength(2);

    // The last byte is inside the signature (the ECDSA s value).
    const flipped = Buffer.from(leaf);
    flipped[flipped.length - 1]! ^= 0x01;
    // The outer signatureAlgorithm (after the TBSCertificate) says ecdsa-with-SHA256; the leaf was signed with SHA-384.
    const sha384 = Buffer.from("06082a8648ce3d040303", "hex");
    const relabelled = Buffer.from(leaf);
    relabelled[relabelled.lastIndexOf(sha384) + sha384.length - 1] = 0x02;
    expect(parseCertificate(relabelled, "x5c[0]").signatureAlgorithmsMatch).toBe(false);

    for (const bad of [flipped, relabelled]) {
      expect(new X509Certificate(bad).verify(new X509Certificate(der(sub.cert)).publicKey)).toBe(false);
      const e = await verifyCertificatePath([bad, der(sub.cert)], [rootPem], now).catch((e: unknown) => e);
      expect(e).toBeInstanceOf(AttestationError);
      expect((e as AttestationError).message).toContain("is not signed by x5c[1]");
    }
  });
});

describe("DER reader", () => {
  it("refuses non-DER lengths and tags", () => {
    expect(() => readTlv(Buffer.from([0x30, 0x80, 0, 0]), 0)).toThrow(/indefinite/);
    expect(() => readTlv(Buffer.from([0x04, 0x81, 0x01, 0]), 0)).toThrow(/non-minimal/);
    expect(() => readTlv(Buffer.from([0x04, 0x82, 0x00, 0x90, ...new Array(0x90).fill(0)]), 0)).toThrow(/non-minimal/);
    expect(() => readTlv(Buffer.from([0x04, 0x05, 0]), 0)).toThrow(/exceeds/);
    expect(() => readTlv(Buffer.from([0x1f, 0x01, 0]), 0)).toThrow(/high tag/);
    expect(readTlv(Buffer.from([0x04, 0x81, 0x80, ...new Array(0x80).fill(0)]), 0)).toEqual({ tag: 4, start: 0, body: 3, end: 0x83 });
  });

  it("reads OIDs and refuses padded arcs", () => {
    const oid = (hex: string) => {
      const b = Buffer.from(hex, "hex");
      return readOid(b, readTlv(b, 0));
    };
    expect(oid("06082a8648ce3d040303")).toBe("1.2.840.10045.4.3.3");
    expect(oid("060a2a864886f763640809 01".replace(/ /g, ""))).toBe("1.2.840.113635.100.8.9.1");
    expect(oid("0603813403")).toBe("2.100.3");
    expect(() => oid("06032a8001")).toThrow(DerError);
    expect(() => oid("06022a86")).toThrow(DerError);
  });

  it("reads UTCTime and GeneralizedTime as RFC 5280 says", () => {
    const time = (tag: number, s: string) => {
      const b = Buffer.concat([Buffer.from([tag, s.length]), Buffer.from(s, "ascii")]);
      return readTime(b, readTlv(b, 0));
    };
    expect(time(0x17, "491231235959Z").toISOString()).toBe("2049-12-31T23:59:59.000Z");
    expect(time(0x17, "500101000000Z").toISOString()).toBe("1950-01-01T00:00:00.000Z");
    expect(time(0x18, "20510101000000Z").toISOString()).toBe("2051-01-01T00:00:00.000Z");
    expect(() => time(0x17, "490231000000Z")).toThrow(DerError);
    expect(() => time(0x17, "4912312359Z")).toThrow(DerError);
    expect(() => time(0x18, "20510101000000.5Z")).toThrow(DerError);
  });
});
