import { X509Certificate, createHash, webcrypto } from "node:crypto";
import { Encoder } from "cbor-x";
import { beforeAll, describe, expect, it } from "vitest";
import { AttestationError } from "@attested/errors";
import {
  APPLE_ENTERPRISE_ATTESTATION_ROOT_CA_PEM,
  attestationSummary,
  expectedFreshnessCode,
  samePublicKey,
  verifyAppleAttestation,
  type VerifyAppleAttestationArgs,
} from "./index";
import { REAL_LEAF_PEM } from "./testing/fixtures";
import { appleExtensions, der, issue, makeKeys, makeRoot, makeSubCa, type TestCa } from "./testing/pki";
import { x509 } from "./x509";

const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false, variableMapSize: true });
const attObj = (x5c: Buffer[], extra: Record<string, unknown> = {}) => new Uint8Array(encoder.encode({ fmt: "apple", attStmt: { x5c }, ...extra }));

const TOKEN = "l1Vd6Zr0JXQ4wS7m0xPqGdJH3aYqJk2u9zXo5cQ8Rtw";
const SERIAL = "C02TESTSERIAL";
const UDID = "00008103-001A2B3C4D5E6F70";

async function failure(args: VerifyAppleAttestationArgs): Promise<AttestationError> {
  try {
    await verifyAppleAttestation(args);
  } catch (e) {
    if (e instanceof AttestationError) return e;
    throw e;
  }
  throw new Error("expected the attestation to be rejected");
}
const reasonOf = async (args: VerifyAppleAttestationArgs) => (await failure(args)).reason;

let root: TestCa;
let sub: TestCa;
let deviceKeys: CryptoKeyPair;
let leaf: x509.X509Certificate;
let rootPem: string;

beforeAll(async () => {
  root = await makeRoot();
  sub = await makeSubCa(root);
  deviceKeys = await makeKeys("P-256");
  leaf = await issue({
    subject: "CN=device",
    issuer: sub,
    publicKey: deviceKeys.publicKey,
    extensions: appleExtensions({ serial: SERIAL, udid: UDID, freshness: expectedFreshnessCode(TOKEN) }),
  });
  rootPem = root.cert.toString("pem");
});

describe("verifyAppleAttestation", () => {
  it("accepts a genuine chain and reports what it proved", async () => {
    const a = await verifyAppleAttestation({ attObj: attObj([der(leaf), der(sub.cert)]), token: TOKEN, identifier: SERIAL, trustedRoots: [rootPem] });
    expect(a.serialNumber).toBe(SERIAL);
    expect(a.udid).toBe(UDID);
    expect(a.osVersion).toBe("15.5");
    expect(a.sipStatus).toBe(0);
    expect(a.identifierMatched).toBe("serialNumber");
    expect(a.authDataPresent).toBe(false);
    expect(a.leafFingerprint).toBe(createHash("sha256").update(der(leaf)).digest("hex"));
    expect(a.rootFingerprint).toBe(createHash("sha256").update(der(root.cert)).digest("hex"));
    expect(a.chain).toHaveLength(2);
    const spki = Buffer.from(await webcrypto.subtle.exportKey("spki", deviceKeys.publicKey));
    expect(a.publicKeySpki.equals(spki)).toBe(true);
    expect(samePublicKey(a.publicKeySpki, spki)).toBe(true);
    const summary = attestationSummary(a);
    expect(summary).toMatchObject({ serialNumber: SERIAL, udid: UDID, osVersion: "15.5", sipStatus: 0 });
    expect(JSON.parse(JSON.stringify(summary))).toEqual(summary);
  });

  it("reports every posture fact the leaf carries, and none it lacks", async () => {
    const facts = {
      osVersion: "14.6.1",
      sepOsVersion: "14.6",
      llbVersion: "14.6.2",
      softwareUpdateDeviceId: "J514sAP",
      secureBootLevel: "Reduced Security",
      sipStatus: 1,
      thirdPartyKexts: 1,
    };
    const extensions = appleExtensions({ serial: SERIAL, freshness: expectedFreshnessCode(TOKEN), ...facts });
    const mac = await issue({ subject: "CN=device", issuer: sub, publicKey: deviceKeys.publicKey, extensions });
    const a = await verifyAppleAttestation({ attObj: attObj([der(mac), der(sub.cert)]), token: TOKEN, identifier: SERIAL, trustedRoots: [rootPem] });
    expect(attestationSummary(a)).toMatchObject(facts);
    const phoneExtensions = appleExtensions({ serial: SERIAL, freshness: expectedFreshnessCode(TOKEN), osVersion: "17.4", sipStatus: null });
    const phone = await issue({ subject: "CN=device", issuer: sub, publicKey: deviceKeys.publicKey, extensions: phoneExtensions });
    const p = attestationSummary(
      await verifyAppleAttestation({ attObj: attObj([der(phone), der(sub.cert)]), token: TOKEN, identifier: SERIAL, trustedRoots: [rootPem] }),
    );
    expect(p.osVersion).toBe("17.4");
    expect(["sipStatus", "secureBootLevel", "thirdPartyKexts"].filter((k) => k in p)).toEqual([]);
  });

  it("matches the identifier against the UDID too, and tolerates authData", async () => {
    const a = await verifyAppleAttestation({
      attObj: attObj([der(leaf), der(sub.cert)], { authData: Buffer.alloc(37) }),
      token: TOKEN,
      identifier: UDID,
      trustedRoots: [rootPem],
    });
    expect(a.identifierMatched).toBe("udid");
    expect(a.authDataPresent).toBe(true);
  });

  it("accepts the root itself appended to x5c", async () => {
    const a = await verifyAppleAttestation({
      attObj: attObj([der(leaf), der(sub.cert), der(root.cert)]),
      token: TOKEN,
      identifier: SERIAL,
      trustedRoots: [rootPem],
    });
    expect(a.chain).toHaveLength(2);
  });

  it("rejects with Apple's root only (the default trust)", async () => {
    expect(await reasonOf({ attObj: attObj([der(leaf), der(sub.cert)]), token: TOKEN, identifier: SERIAL })).toBe("chainInvalid");
  });

  it("rejects a missing intermediate, a wrong order, and a tampered signature", async () => {
    const base = { token: TOKEN, identifier: SERIAL, trustedRoots: [rootPem] };
    expect((await failure({ ...base, attObj: attObj([der(leaf)]) })).message).toContain("does not chain to a trusted root");
    expect(await reasonOf({ ...base, attObj: attObj([der(sub.cert), der(leaf)]) })).toBe("chainInvalid");
    const tampered = Buffer.from(der(leaf));
    tampered[tampered.length - 5] ^= 0x01;
    expect((await failure({ ...base, attObj: attObj([tampered, der(sub.cert)]) })).message).toContain("is not signed by x5c[1]");
    expect(await reasonOf({ ...base, attObj: attObj([Buffer.from("junk"), der(sub.cert)]) })).toBe("chainInvalid");
  });

  it("rejects a leaf with the right issuer name but another issuer's signature (no key identifiers to tell them apart)", async () => {
    const forger = { cert: sub.cert, keys: await makeKeys() };
    const forged = await issue({
      subject: "CN=device",
      issuer: forger,
      publicKey: deviceKeys.publicKey,
      noKeyIds: true,
      extensions: appleExtensions({ serial: SERIAL, freshness: expectedFreshnessCode(TOKEN) }),
    });
    const e = await failure({ attObj: attObj([der(forged), der(sub.cert)]), token: TOKEN, identifier: SERIAL, trustedRoots: [rootPem] });
    expect([e.reason, e.message]).toEqual(["chainInvalid", expect.stringContaining("is not signed by x5c[1]")]);
  });

  it("rejects an intermediate with the right name and another key (same-name forgery)", async () => {
    const fakeSub = await makeSubCa(await makeRoot(root.cert.subject));
    const forged = await issue({
      subject: "CN=device",
      issuer: fakeSub,
      publicKey: deviceKeys.publicKey,
      extensions: appleExtensions({ serial: SERIAL, freshness: expectedFreshnessCode(TOKEN) }),
    });
    expect(await reasonOf({ attObj: attObj([der(forged), der(fakeSub.cert)]), token: TOKEN, identifier: SERIAL, trustedRoots: [rootPem] })).toBe(
      "chainInvalid",
    );
  });

  it("rejects a leaf issued by a non-CA certificate, and a CA as the leaf", async () => {
    const notCa = await makeSubCa(root, { ca: false, pathLength: undefined });
    const l = await issue({
      subject: "CN=device",
      issuer: notCa,
      publicKey: deviceKeys.publicKey,
      extensions: appleExtensions({ serial: SERIAL, freshness: expectedFreshnessCode(TOKEN) }),
    });
    const e1 = await failure({ attObj: attObj([der(l), der(notCa.cert)]), token: TOKEN, identifier: SERIAL, trustedRoots: [rootPem] });
    expect([e1.reason, e1.message]).toEqual(["chainInvalid", expect.stringContaining("is not a CA certificate")]);
    const e2 = await failure({ attObj: attObj([der(sub.cert)]), token: TOKEN, identifier: SERIAL, trustedRoots: [rootPem] });
    expect([e2.reason, e2.message]).toEqual(["chainInvalid", expect.stringContaining("the leaf")]);
  });

  it("enforces pathLenConstraint", async () => {
    // root -> sub (pathLen 0) -> sub2 -> leaf: sub allows no intermediate below it
    const sub2 = await makeSubCa(sub, { subject: "CN=Second Sub CA", pathLength: undefined });
    const l = await issue({
      subject: "CN=device",
      issuer: sub2,
      publicKey: deviceKeys.publicKey,
      extensions: appleExtensions({ serial: SERIAL, freshness: expectedFreshnessCode(TOKEN) }),
    });
    const e = await failure({ attObj: attObj([der(l), der(sub2.cert), der(sub.cert)]), token: TOKEN, identifier: SERIAL, trustedRoots: [rootPem] });
    expect([e.reason, e.message]).toEqual(["chainInvalid", expect.stringContaining("allows a path of 0")]);
  });

  it("rejects an unrecognised critical extension", async () => {
    const l = await issue({
      subject: "CN=device",
      issuer: sub,
      publicKey: deviceKeys.publicKey,
      extensions: [
        ...appleExtensions({ serial: SERIAL, freshness: expectedFreshnessCode(TOKEN) }),
        new x509.Extension("1.3.6.1.4.1.99999.1", true, Buffer.from([5, 0])),
      ],
    });
    const e = await failure({ attObj: attObj([der(l), der(sub.cert)]), token: TOKEN, identifier: SERIAL, trustedRoots: [rootPem] });
    expect([e.reason, e.message]).toEqual(["chainInvalid", expect.stringContaining("critical extension 1.3.6.1.4.1.99999.1")]);
  });

  it("checks validity at `now` for the leaf, the intermediate and the root", async () => {
    const base = { attObj: attObj([der(leaf), der(sub.cert)]), token: TOKEN, identifier: SERIAL, trustedRoots: [rootPem] };
    expect(await reasonOf({ ...base, now: new Date(Date.now() + 91 * 86_400_000) })).toBe("chainExpired");
    expect(await reasonOf({ ...base, now: new Date(Date.now() - 2 * 86_400_000) })).toBe("chainNotYetValid");
  });

  it("requires the freshness code to be SHA-256 of the token", async () => {
    const base = { attObj: attObj([der(leaf), der(sub.cert)]), identifier: SERIAL, trustedRoots: [rootPem] };
    expect(await reasonOf({ ...base, token: "another-token" })).toBe("nonceMismatch");
    // SHA-256 of the key authorization (token.thumbprint) is not the token's hash
    expect(await reasonOf({ ...base, token: `${TOKEN}.thumbprint` })).toBe("nonceMismatch");
    const noNonce = await issue({ subject: "CN=device", issuer: sub, publicKey: deviceKeys.publicKey, extensions: appleExtensions({ serial: SERIAL }) });
    expect(await reasonOf({ ...base, token: TOKEN, attObj: attObj([der(noNonce), der(sub.cert)]) })).toBe("nonceMissing");
    const shortNonce = await issue({
      subject: "CN=device",
      issuer: sub,
      publicKey: deviceKeys.publicKey,
      extensions: appleExtensions({ serial: SERIAL, freshness: Buffer.alloc(16) }),
    });
    expect(await reasonOf({ ...base, token: TOKEN, attObj: attObj([der(shortNonce), der(sub.cert)]) })).toBe("nonceMismatch");
  });

  it("requires the identifier to be the attested serial number or UDID", async () => {
    const base = { attObj: attObj([der(leaf), der(sub.cert)]), token: TOKEN, trustedRoots: [rootPem] };
    expect(await reasonOf({ ...base, identifier: "C02OTHERSERIAL" })).toBe("identifierMismatch");
    expect(await reasonOf({ ...base, identifier: SERIAL.toLowerCase() })).toBe("identifierMismatch");
    expect(await reasonOf({ ...base, identifier: "" })).toBe("identifierMismatch");
  });

  it("rejects malformed Apple extensions", async () => {
    const badSip = await issue({
      subject: "CN=device",
      issuer: sub,
      publicKey: deviceKeys.publicKey,
      extensions: [
        new x509.Extension("1.2.840.113635.100.8.13.3", false, Buffer.from([0x04, 0x01, 0x00])),
        ...appleExtensions({ serial: SERIAL, freshness: expectedFreshnessCode(TOKEN) }),
      ],
    });
    expect(await reasonOf({ attObj: attObj([der(badSip), der(sub.cert)]), token: TOKEN, identifier: SERIAL, trustedRoots: [rootPem] })).toBe(
      "malformedExtension",
    );
    const ctrl = await issue({
      subject: "CN=device",
      issuer: sub,
      publicKey: deviceKeys.publicKey,
      extensions: appleExtensions({ serial: "AB\nC", freshness: expectedFreshnessCode(TOKEN) }),
    });
    expect(await reasonOf({ attObj: attObj([der(ctrl), der(sub.cert)]), token: TOKEN, identifier: "AB\nC", trustedRoots: [rootPem] })).toBe(
      "malformedExtension",
    );
  });

  it("rejects the real Apple leaf without its (unpublished) Sub CA, whatever the time", async () => {
    const real = new X509Certificate(REAL_LEAF_PEM).raw;
    for (const now of [new Date("2025-08-01T00:00:00Z"), new Date("2026-01-01T00:00:00Z")]) {
      expect(await reasonOf({ attObj: attObj([real]), token: TOKEN, identifier: "TMWFWWWP67", now })).toBe("chainInvalid");
    }
  });

  it("refuses a chain longer than the limit", async () => {
    const c = der(sub.cert);
    expect(await reasonOf({ attObj: attObj([der(leaf), c, c, c, c, c]), token: TOKEN, identifier: SERIAL, trustedRoots: [rootPem] })).toBe("tooLarge");
  });
});

describe("samePublicKey", () => {
  it("compares keys, not encodings", async () => {
    const k = await makeKeys("P-256");
    const spki = Buffer.from(await webcrypto.subtle.exportKey("spki", k.publicKey));
    const other = Buffer.from(await webcrypto.subtle.exportKey("spki", (await makeKeys("P-256")).publicKey));
    expect(samePublicKey(spki, Buffer.from(spki))).toBe(true);
    expect(samePublicKey(spki, other)).toBe(false);
    expect(samePublicKey(spki, Buffer.from("garbage"))).toBe(false);
    expect(samePublicKey(Buffer.from("garbage"), Buffer.from("garbage"))).toBe(false);
    expect(samePublicKey(spki, Buffer.from(spki), { aParsed: true })).toBe(true);
    expect(samePublicKey(spki, other, { aParsed: true })).toBe(false);
  });
});

describe("trusted roots", () => {
  it("accepts a PEM bundle and ignores text around the certificates", async () => {
    const bundle = `# test roots\n${APPLE_ENTERPRISE_ATTESTATION_ROOT_CA_PEM}\nsimulated:\n${rootPem}`;
    const a = await verifyAppleAttestation({ attObj: attObj([der(leaf), der(sub.cert)]), token: TOKEN, identifier: SERIAL, trustedRoots: [bundle] });
    expect(a.rootFingerprint).toBe(createHash("sha256").update(der(root.cert)).digest("hex"));
  });

  it("refuses to run without any root (a configuration error, not an attestation failure)", async () => {
    await expect(verifyAppleAttestation({ attObj: attObj([der(leaf), der(sub.cert)]), token: TOKEN, identifier: SERIAL, trustedRoots: [] })).rejects.toThrow(
      TypeError,
    );
    await expect(
      verifyAppleAttestation({ attObj: attObj([der(leaf), der(sub.cert)]), token: TOKEN, identifier: SERIAL, trustedRoots: ["garbage"] }),
    ).rejects.toThrow(TypeError);
  });
});
