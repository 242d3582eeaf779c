import { describe, expect, it } from "vitest";
import { csrContext, parseCsr } from "./csr";
import { lookup } from "./template";
import { caught, makeCsr, openssl, scratch } from "./testing";

describe("CSRs", () => {
  it("reads an OpenSSL CSR: subject by every attribute name, SANs including the UPN otherName", async () => {
    const s = scratch();
    try {
      const r = openssl([
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-384",
        "-nodes",
        "-keyout",
        s.path("k.pem"),
        "-subj",
        "/CN=F4GXK2Q1N72J/O=Acme/OU=Eng/OU=Wi-Fi",
        "-addext",
        "subjectAltName=email:jane@example.com,DNS:jane-iphone.example.com,URI:urn:uuid:1234,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:jane@corp.example,IP:10.0.0.1",
      ]);
      expect(r.status, r.stderr).toBe(0);
      const csr = await parseCsr(r.stdout);
      expect(csr.subjectDn).toBe("CN=F4GXK2Q1N72J, O=Acme, OU=Eng, OU=Wi-Fi");
      expect(csr.publicKey.description).toBe("EC P-384");
      expect(csr.sans).toEqual({
        othername: ["jane@corp.example"],
        rfc822name: ["jane@example.com"],
        dnsname: ["jane-iphone.example.com"],
        uri: ["urn:uuid:1234"],
        ipaddress: ["10.0.0.1"],
      });
      const ctx = { csr: csrContext(csr) };
      expect(lookup(ctx, ["csr", "subject", "commonname"])).toBe("F4GXK2Q1N72J");
      expect(lookup(ctx, ["csr", "subject", "CN"])).toBe("F4GXK2Q1N72J");
      expect(lookup(ctx, ["csr", "subject", "organizationalUnitName"])).toEqual(["Eng", "Wi-Fi"]);
      expect(lookup(ctx, ["csr", "san", "othername"])).toEqual(["jane@corp.example"]);
    } finally {
      s.cleanup();
    }
  });

  it("accepts DER and PEM and reports the key", async () => {
    const c = await makeCsr("RSA-3072");
    expect((await parseCsr(c.der)).publicKey.description).toBe("RSA 3072");
    expect((await parseCsr(c.pem)).publicKey.spki.equals(c.spki)).toBe(true);
  });

  it("refuses empty, oversized and unsigned-looking input with badCSR", async () => {
    expect(await caught(() => parseCsr(""))).toMatchObject({ code: "badCSR", field: "csr" });
    expect(await caught(() => parseCsr(Buffer.alloc(200_000, 0x30)))).toMatchObject({ code: "badCSR" });
    expect(await caught(() => parseCsr("hello"))).toMatchObject({ code: "badCSR" });
  });
});
