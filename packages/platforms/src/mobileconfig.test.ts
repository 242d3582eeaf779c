import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse } from "plist";
import { describe, expect, it } from "vitest";
import { buildAcmeProfile } from "./mobileconfig";

const caPem = (() => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "profile-"));
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      path.join(dir, "k"),
      "-out",
      path.join(dir, "c.pem"),
      "-subj",
      "/CN=Acme Root CA",
      "-days",
      "2",
    ],
    { stdio: "ignore" },
  );
  return execFileSync("cat", [path.join(dir, "c.pem")], { encoding: "utf8" });
})();

const build = () =>
  buildAcmeProfile({
    platform: { id: "p1", name: "Kandji ACME", vendor: "kandji" },
    organizationName: "Acme Corp",
    directoryUrl: "https://pki.example.com/acme/secret123/directory",
    caCertificates: [{ pem: caPem, commonName: "Acme Root CA", isRoot: true }],
  });

type Payload = Record<string, unknown>;

describe(".mobileconfig", () => {
  it("is a valid plist with the ACME payload of docs/protocol.md and Kandji's variables", () => {
    const { xml, filename } = build();
    expect(filename).toBe("kandji-acme.mobileconfig");
    const profile = parse(xml) as Payload;
    expect(profile).toMatchObject({ PayloadType: "Configuration", PayloadVersion: 1 });
    const content = profile.PayloadContent as Payload[];
    const acme = content.find((p) => p.PayloadType === "com.apple.security.acme")!;
    expect(acme).toMatchObject({
      DirectoryURL: "https://pki.example.com/acme/secret123/directory",
      ClientIdentifier: "$SERIAL_NUMBER",
      KeyType: "ECSECPrimeRandom",
      KeySize: 384,
      HardwareBound: true,
      Attest: true,
      Subject: [[["CN", "$SERIAL_NUMBER"]], [["O", "Acme Corp"]]],
      SubjectAltName: { rfc822Name: "$EMAIL" },
      ExtendedKeyUsage: ["1.3.6.1.5.5.7.3.2"],
    });
    const root = content.find((p) => p.PayloadType === "com.apple.security.root")!;
    // The certificate payload carries the CA's DER (plist <data>).
    expect(Buffer.from(root.PayloadContent as Uint8Array).subarray(0, 1)[0]).toBe(0x30);
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\s*<!DOCTYPE plist/);
  });

  it("gives every payload a unique UUID, fresh on every download", () => {
    const uuids = (xml: string) => {
      const p = parse(xml) as Payload;
      return [p.PayloadUUID, ...(p.PayloadContent as Payload[]).map((c) => c.PayloadUUID)] as string[];
    };
    const a = uuids(build().xml);
    const b = uuids(build().xml);
    expect(new Set(a).size).toBe(a.length);
    expect(a.every((u) => /^[0-9A-F-]{36}$/.test(u))).toBe(true);
    expect(a.filter((u) => b.includes(u))).toEqual([]);
  });
});
