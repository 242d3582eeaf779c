import { X509Certificate as NodeCertificate, createHash } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeAttestationObject, parseAppleLeaf, samePublicKey, verifyAppleAttestation } from "@attested/attestation";
import { beforeAll, describe, expect, it } from "vitest";
import { SimulatedAppleCa } from "./apple-ca";
import { FORGERIES, buildAttestation, type Forgery } from "./attestation";
import { createDeviceKey, type DeviceKey, type SimulatedDevice } from "./device";
import { certificateParts } from "./der";
import { x509 } from "./x509";
import { AttestationError, type AttestationFailureReason } from "@attested/errors";

const device: SimulatedDevice = { serialNumber: "C02SIM000001", udid: "00008103-0011223344556677" };
const TOKEN = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5";

let ca: SimulatedAppleCa;
let key: DeviceKey;
let trustedRoots: string[];

beforeAll(async () => {
  ca = await SimulatedAppleCa.create();
  key = await createDeviceKey({ keyType: "ECSECPrimeRandom", keySize: 256, hardwareBound: true });
  trustedRoots = [ca.rootPem];
});

async function rejection(attObj: Uint8Array, identifier = device.serialNumber): Promise<AttestationError> {
  try {
    await verifyAppleAttestation({ attObj, token: TOKEN, identifier, trustedRoots });
  } catch (e) {
    if (e instanceof AttestationError) return e;
    throw e;
  }
  throw new Error("the attestation was accepted");
}

describe("simulated attestations through verifyAppleAttestation", () => {
  it("a genuine attestation verifies with the simulated root as an explicit test root", async () => {
    const attObj = await buildAttestation({ device, publicKey: key.keys.publicKey, token: TOKEN, ca });
    const a = await verifyAppleAttestation({ attObj, token: TOKEN, identifier: device.serialNumber, trustedRoots });
    expect(a.serialNumber).toBe(device.serialNumber);
    expect(a.udid).toBe(device.udid);
    expect(a.osVersion).toBe("15.5");
    expect(a.secureBootLevel).toBe("Full Security");
    expect(a.sipStatus).toBe(0);
    expect(a.thirdPartyKexts).toBe(0);
    expect(samePublicKey(a.publicKeySpki, key.spki)).toBe(true);
    expect(a.publicKeySpki.equals(key.spki)).toBe(true);
    // the UDID is an acceptable identifier too
    expect((await verifyAppleAttestation({ attObj, token: TOKEN, identifier: device.udid, trustedRoots })).identifierMatched).toBe("udid");
  });

  it("attests P-384 keys and device-specific software versions", async () => {
    const k384 = await createDeviceKey({ keyType: "ECSECPrimeRandom", keySize: 384, hardwareBound: true });
    const d = { ...device, osVersion: "26.0", sepOsVersion: "26.0.1", sipStatus: 1, thirdPartyKexts: 2, secureBootLevel: "Reduced Security" };
    const attObj = await buildAttestation({ device: d, publicKey: k384.spki, token: TOKEN, ca, authData: new Uint8Array(37) });
    const a = await verifyAppleAttestation({ attObj, token: TOKEN, identifier: d.serialNumber, trustedRoots });
    expect([a.osVersion, a.sepOsVersion, a.sipStatus, a.thirdPartyKexts, a.secureBootLevel]).toEqual(["26.0", "26.0.1", 1, 2, "Reduced Security"]);
    expect(a.authDataPresent).toBe(true);
    expect(a.publicKeySpki.equals(k384.spki)).toBe(true);
  });

  it("attests an iPhone's leaf without the Mac-only SIP, Secure Boot and kext extensions", async () => {
    const d: SimulatedDevice = { ...device, platform: "iOS", osVersion: "17.4", softwareUpdateDeviceId: "D83AP" };
    const attObj = await buildAttestation({ device: d, publicKey: key.keys.publicKey, token: TOKEN, ca });
    const a = await verifyAppleAttestation({ attObj, token: TOKEN, identifier: d.serialNumber, trustedRoots });
    expect([a.osVersion, a.softwareUpdateDeviceId, a.sipStatus, a.secureBootLevel, a.thirdPartyKexts]).toEqual([
      "17.4",
      "D83AP",
      undefined,
      undefined,
      undefined,
    ]);
  });

  it("has the layout of a real Apple attestation", async () => {
    const attObj = await buildAttestation({ device, publicKey: key.keys.publicKey, token: TOKEN, ca });
    const obj = decodeAttestationObject(attObj);
    expect(obj.fmt).toBe("apple");
    expect(obj.authData).toBeUndefined();
    expect(obj.attStmt.x5c).toHaveLength(2);
    const [leaf, sub] = obj.attStmt.x5c.map((d) => new x509.X509Certificate(new Uint8Array(d)));
    const real = new x509.X509Certificate(
      await readFile(new URL("../../../packages/attestation/test-data/real-attestation-leaf-2025-07.pem", import.meta.url), "utf8"),
    );
    // same extensions, same order, same criticality as the real leaf
    const layout = (c: x509.X509Certificate) => c.extensions.map((e) => `${e.type}${e.critical ? "!" : ""}`);
    expect(layout(leaf!)).toEqual(layout(real));
    expect(Buffer.from(leaf!.getExtension("1.2.840.113635.100.8.13.1")!.value).toString("hex")).toBe("020100");
    expect(Buffer.from(leaf!.getExtension("1.2.840.113635.100.8.11.1")!.value).equals(createHash("sha256").update(TOKEN).digest())).toBe(true);
    expect(leaf!.issuer).toBe(real.issuer);
    expect(leaf!.subject).toMatch(/^CN=[0-9a-f]{64}, OU=AAA Certification, O=Apple Inc\., ST=California$/);
    expect(leaf!.signatureAlgorithm).toMatchObject({ name: "ECDSA", hash: { name: "SHA-384" } });
    expect(Math.round((leaf!.notAfter.getTime() - leaf!.notBefore.getTime()) / 86_400_000)).toBe(91);
    expect(sub!.subject).toBe("CN=Apple Enterprise Attestation Sub CA 1, O=Apple Inc., C=US");
    expect(new NodeCertificate(obj.attStmt.x5c[1]!).publicKey.asymmetricKeyDetails?.namedCurve).toBe("secp384r1");
    const props = parseAppleLeaf(leaf!);
    expect(props.softwareUpdateDeviceId).toBe("J514sAP");
    expect(props.llbVersion).toBe("15.5");
  });

  it("builds, natively, the same TBSCertificate as @peculiar/x509's generator", async () => {
    const d = { ...device, osVersion: "26.0", sipStatus: 300, thirdPartyKexts: 128, secureBootLevel: "Reduced Security" };
    const attObj = await buildAttestation({ device: d, publicKey: key.keys.publicKey, token: TOKEN, ca });
    const fast = decodeAttestationObject(attObj).attStmt.x5c[0]!;
    const parsed = new x509.X509Certificate(new Uint8Array(fast));
    const ascii = (oid: string, v: string) => new x509.Extension(oid, false, new Uint8Array(Buffer.from(v, "ascii")));
    const int = (hex: string) => new Uint8Array(Buffer.from(hex, "hex"));
    // The extensions as the simulator made them before, with the library's own encoders.
    const reference = await ca.issueLeaf({
      serialNumber: parsed.serialNumber,
      subject: parsed.subject,
      publicKey: key.keys.publicKey,
      notBefore: parsed.notBefore,
      notAfter: parsed.notAfter,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation | x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.dataEncipherment,
          true,
        ),
        ascii("1.2.840.113635.100.8.10.2", "15.5"),
        ascii("1.2.840.113635.100.8.10.3", "15.5"),
        ascii("1.2.840.113635.100.8.10.1", "26.0"),
        ascii("1.2.840.113635.100.8.9.4", "J514sAP"),
        ascii("1.2.840.113635.100.8.13.2", "Reduced Security"),
        new x509.Extension("1.2.840.113635.100.8.13.1", false, int("0202012c")),
        new x509.Extension("1.2.840.113635.100.8.13.3", false, int("02020080")),
        ascii("1.2.840.113635.100.8.9.1", d.serialNumber),
        ascii("1.2.840.113635.100.8.9.2", d.udid),
        new x509.Extension("1.2.840.113635.100.8.11.1", false, new Uint8Array(createHash("sha256").update(TOKEN).digest())),
      ],
    });
    expect(certificateParts(fast).tbs.toString("hex")).toBe(certificateParts(new Uint8Array(reference.rawData)).tbs.toString("hex"));
    expect(await parsed.verify({ publicKey: ca.subCa.certificate.publicKey })).toBe(true);
  });

  const expected: Record<Exclude<Forgery, "otherKey">, AttestationFailureReason> = {
    wrongRoot: "chainInvalid",
    staleNonce: "nonceMismatch",
    missingNonce: "nonceMissing",
    otherSerial: "identifierMismatch",
    expiredChain: "chainExpired",
    malformedCbor: "malformedCbor",
  };
  for (const [forge, reason] of Object.entries(expected) as [Exclude<Forgery, "otherKey">, AttestationFailureReason][]) {
    it(`rejects the ${forge} forgery with ${reason}`, async () => {
      const attObj = await buildAttestation({ device, publicKey: key.keys.publicKey, token: TOKEN, ca, forge });
      expect((await rejection(attObj)).reason).toBe(reason);
    });
  }

  it("otherSerial also fails when the order names the device by UDID", async () => {
    const attObj = await buildAttestation({ device, publicKey: key.keys.publicKey, token: TOKEN, ca, forge: "otherSerial" });
    expect((await rejection(attObj, device.udid)).reason).toBe("identifierMismatch");
  });

  it("otherKey verifies but attests a key other than the device's (caught at finalize)", async () => {
    const attObj = await buildAttestation({ device, publicKey: key.keys.publicKey, token: TOKEN, ca, forge: "otherKey" });
    const a = await verifyAppleAttestation({ attObj, token: TOKEN, identifier: device.serialNumber, trustedRoots });
    expect(samePublicKey(a.publicKeySpki, key.spki)).toBe(false);
  });

  it("every forgery kind is covered above", () => {
    expect([...Object.keys(expected), "otherKey"].sort()).toEqual([...FORGERIES].sort());
  });

  it("with the default trust (Apple's root only) a simulated attestation is rejected", async () => {
    const attObj = await buildAttestation({ device, publicKey: key.keys.publicKey, token: TOKEN, ca });
    let error: unknown;
    try {
      await verifyAppleAttestation({ attObj, token: TOKEN, identifier: device.serialNumber });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AttestationError);
    expect((error as AttestationError).reason).toBe("chainInvalid");
  });
});

describe("SimulatedAppleCa persistence", () => {
  it("saves and loads a CA whose attestations still verify; keys are 0600", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sim-ca-"));
    try {
      const rootPath = await ca.save(dir);
      expect(await readFile(rootPath, "utf8")).toBe(ca.rootPem);
      expect((await stat(join(dir, "root.key.pem"))).mode & 0o777).toBe(0o600);
      expect((await stat(join(dir, "sub-ca.key.pem"))).mode & 0o777).toBe(0o600);
      const loaded = await SimulatedAppleCa.load(dir);
      expect(loaded.rootPem).toBe(ca.rootPem);
      const attObj = await buildAttestation({ device, publicKey: key.keys.publicKey, token: TOKEN, ca: loaded });
      expect(
        (await verifyAppleAttestation({ attObj, token: TOKEN, identifier: device.serialNumber, trustedRoots: [await readFile(rootPath, "utf8")] }))
          .serialNumber,
      ).toBe(device.serialNumber);
      // another simulated CA is not interchangeable with this one
      const other = await SimulatedAppleCa.create();
      const foreign = await buildAttestation({ device, publicKey: key.keys.publicKey, token: TOKEN, ca: other });
      expect((await rejection(foreign)).reason).toBe("chainInvalid");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("is a P-384 root and a pathlen-0 Sub CA, both ecdsa-with-SHA384", () => {
    const root = new NodeCertificate(ca.rootPem);
    const sub = new NodeCertificate(ca.subCaPem);
    expect(root.publicKey.asymmetricKeyDetails?.namedCurve).toBe("secp384r1");
    expect(root.subject).toContain("Simulated Apple Enterprise Attestation Root CA");
    expect(sub.checkIssued(root) && sub.verify(root.publicKey)).toBe(true);
    expect(ca.subCa.certificate.getExtension(x509.BasicConstraintsExtension)?.pathLength).toBe(0);
    expect(ca.subCa.certificate.signatureAlgorithm).toMatchObject({ hash: { name: "SHA-384" } });
  });
});
