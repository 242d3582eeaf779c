import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildCsr, buildCsrNative, buildCsrWithLibrary } from "./csr";
import { keyUsageValue, readTlv } from "./der";
import { createDeviceKey } from "./device";
import { renderMobileconfig, type AcmePayload } from "./profile";
import { x509 } from "./x509";

const PROFILE = readFileSync(new URL("../test-data/kandji-acme.mobileconfig", import.meta.url), "utf8");
const device = { serialNumber: "C02XK1ABCD12", udid: "00008103-0011223344556677", deviceName: "Mac", email: "alice@example.com" };

describe("buildCsr", () => {
  it("carries the payload's subject, SANs, key usage and EKU, signed by the device key", async () => {
    const payload = renderMobileconfig(PROFILE, device).acme[0]!;
    const key = await createDeviceKey({ keyType: payload.KeyType, keySize: payload.KeySize, hardwareBound: payload.HardwareBound });
    expect(key.keys.privateKey.extractable).toBe(false);
    const csr = new x509.Pkcs10CertificateRequest(new Uint8Array(await buildCsr(payload, key)));
    expect(await csr.verify()).toBe(true);
    expect(Buffer.from(csr.publicKey.rawData).equals(key.spki)).toBe(true);
    expect(csr.subjectName.getField("CN")).toEqual(["Mac (C02XK1ABCD12)"]);
    expect(csr.subjectName.getField("O")).toEqual(["Example & Co"]);
    expect(csr.subjectName.getField("0.9.2342.19200300.100.1.1")).toEqual([device.udid]);
    expect(csr.signatureAlgorithm).toMatchObject({ name: "ECDSA", hash: { name: "SHA-384" } });
    const san = csr.getExtension("2.5.29.17") as x509.SubjectAlternativeNameExtension;
    expect(san.names.toJSON()).toEqual([
      { type: "email", value: "alice@example.com" },
      { type: "dns", value: "C02XK1ABCD12.devices.example.com" },
      { type: "url", value: `urn:device:${device.udid}` },
      { type: "upn", value: "alice@example.com" },
    ]);
    const ku = csr.getExtension("2.5.29.15") as x509.KeyUsagesExtension;
    expect(ku.usages).toBe(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment);
    expect((csr.getExtension("2.5.29.37") as x509.ExtendedKeyUsageExtension).usages).toEqual(["1.3.6.1.5.5.7.3.2"]);
  });

  it("leaves out empty SANs and absent extensions; supports RSA and P-256 keys", async () => {
    const payload: AcmePayload = {
      PayloadIdentifier: "p",
      PayloadUUID: "u",
      DirectoryURL: "https://x/directory",
      ClientIdentifier: "S",
      KeyType: "RSA",
      KeySize: 2048,
      HardwareBound: false,
      Attest: false,
      Subject: [[["CN", "rsa device"]]],
      SubjectAltName: { rfc822Name: [""], dNSName: [], uniformResourceIdentifier: [], ntPrincipalName: [] },
      ExtendedKeyUsage: [],
    };
    const rsa = await createDeviceKey({ keyType: "RSA", keySize: 2048, hardwareBound: false });
    const csr = new x509.Pkcs10CertificateRequest(new Uint8Array(await buildCsr(payload, rsa)));
    expect(await csr.verify()).toBe(true);
    expect(csr.extensions).toEqual([]);
    expect((csr.publicKey.algorithm as RsaHashedKeyAlgorithm).modulusLength).toBe(2048);

    const p256 = await createDeviceKey({ keyType: "ECSECPrimeRandom", keySize: 256, hardwareBound: true });
    const csr2 = new x509.Pkcs10CertificateRequest(new Uint8Array(await buildCsr({ ...payload, KeyType: "ECSECPrimeRandom", KeySize: 256 }, p256)));
    expect(await csr2.verify()).toBe(true);
    expect(csr2.signatureAlgorithm).toMatchObject({ name: "ECDSA", hash: { name: "SHA-256" } });
  });

  it("the native CSR has the same CertificationRequestInfo as @peculiar/x509's generator", async () => {
    const info = (der: Buffer) => {
      const outer = readTlv(der, 0);
      return der.subarray(outer.body, readTlv(der, outer.body).end).toString("hex");
    };
    const base = renderMobileconfig(PROFILE, device).acme[0]!;
    const payloads: AcmePayload[] = [
      base,
      {
        ...base,
        UsageFlags: undefined,
        ExtendedKeyUsage: [],
        SubjectAltName: { rfc822Name: [""], dNSName: [], uniformResourceIdentifier: [], ntPrincipalName: [] },
      },
      { ...base, UsageFlags: 1, ExtendedKeyUsage: ["1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.4"] },
      { ...base, UsageFlags: 4, SubjectAltName: { ...base.SubjectAltName, ntPrincipalName: ["jürgen@example.com"] } },
      {
        ...base,
        Subject: [
          [
            ["CN", "Ünïcode & more"],
            ["OU", "a"],
            ["CN", "second CN"],
          ],
          [["E", "dev@example.com"]],
          [
            ["DC", "example"],
            ["DC", "com"],
          ],
          [["C", "US"]],
          [["2.5.4.5", "C02XK1ABCD12"]],
          [["L", ""]],
          [["ST", "a, b = c?"]],
        ],
      },
    ];
    const p384 = await createDeviceKey({ keyType: "ECSECPrimeRandom", keySize: 384, hardwareBound: true });
    const p256 = await createDeviceKey({ keyType: "ECSECPrimeRandom", keySize: 256, hardwareBound: false });
    const rsa = await createDeviceKey({ keyType: "RSA", keySize: 2048, hardwareBound: false });
    for (const key of [p384, p256, rsa]) {
      for (const p of payloads) {
        const fast = buildCsrNative(p, key)!;
        expect(fast).not.toBeNull();
        const reference = await buildCsrWithLibrary(p, key);
        expect(info(fast)).toBe(info(reference));
        const csr = new x509.Pkcs10CertificateRequest(new Uint8Array(fast));
        expect(await csr.verify()).toBe(true);
        expect(csr.signatureAlgorithm).toEqual(new x509.Pkcs10CertificateRequest(new Uint8Array(reference)).signatureAlgorithm);
      }
    }
  });

  it("leaves what needs the library's parsing (quoted or #hex values, non-ASCII IA5 names) to the library", async () => {
    const base = renderMobileconfig(PROFILE, device).acme[0]!;
    const key = await createDeviceKey({ keyType: "ECSECPrimeRandom", keySize: 256, hardwareBound: false });
    for (const p of [
      { ...base, Subject: [[["CN", '"quoted"']]] as [string, string][][] },
      { ...base, Subject: [[["CN", "#0c0161"]]] as [string, string][][] },
      { ...base, SubjectAltName: { ...base.SubjectAltName, dNSName: ["bücher.example"] } },
    ]) {
      expect(buildCsrNative(p, key)).toBeNull();
    }
    const csr = new x509.Pkcs10CertificateRequest(new Uint8Array(await buildCsr({ ...base, Subject: [[["CN", "#0c0161"]]] }, key)));
    expect(csr.subjectName.getField("CN")).toEqual(["a"]);
  });

  it("encodes every key usage combination as @peculiar/x509 does", () => {
    for (let flags = 1; flags < 512; flags++) {
      const value = Buffer.from(new x509.KeyUsagesExtension(flags as x509.KeyUsageFlags, true).value).toString("hex");
      expect(keyUsageValue(flags).toString("hex")).toBe(value);
    }
  });

  it("refuses key sizes Apple does not offer", async () => {
    await expect(createDeviceKey({ keyType: "ECSECPrimeRandom", keySize: 521, hardwareBound: true })).rejects.toThrow(RangeError);
    await expect(createDeviceKey({ keyType: "RSA", keySize: 1024, hardwareBound: false })).rejects.toThrow(RangeError);
  });
});
