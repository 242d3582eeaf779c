import { describe, expect, it } from "vitest";
import { escapeDnValue, formatDn, fromX509Name, parseDn, splitDn, toX509Name, unescapeDnValue } from "./dn";
import { openssl } from "./testing";
import { x509 } from "./provider";

describe("distinguished names", () => {
  it("parses RFC 4514 strings with escapes, in the order written", () => {
    const { attributes, errors } = parseDn("CN=Jane\\, Appleseed, O=Acme\\2C Inc., OU = Wi-Fi , C=US");
    expect(errors).toEqual([]);
    expect(attributes.map((a) => [a.type, a.value])).toEqual([
      ["CN", "Jane, Appleseed"],
      ["O", "Acme, Inc."],
      ["OU", "Wi-Fi"],
      ["C", "US"],
    ]);
    expect(unescapeDnValue("caf\\C3\\A9")).toBe("café");
    expect(formatDn(attributes)).toBe("CN=Jane\\, Appleseed, O=Acme\\, Inc., OU=Wi-Fi, C=US");
  });

  it("round-trips through escaping", () => {
    for (const v of ["a,b", "+x", " lead", "trail ", "#hash", 'q"uote', "back\\slash", "semi;colon", "ünï"]) {
      const { attributes, errors } = parseDn(`CN=${escapeDnValue(v)}`);
      expect(errors, v).toEqual([]);
      expect(attributes[0].value).toBe(v);
    }
  });

  it("explains what is wrong", () => {
    expect(parseDn("CN").errors[0]).toMatch(/TYPE=value/);
    expect(parseDn("XX=1").errors[0]).toMatch(/Unknown attribute type "XX"/);
    expect(parseDn("CN=a+OU=b").errors[0]).toMatch(/Multi-valued/);
    expect(parseDn("C=USA").errors[0]).toMatch(/two-letter/);
    expect(parseDn(`CN=${"x".repeat(65)}`).errors[0]).toMatch(/longer than 64/);
    expect(parseDn("E=not-an-email").errors[0]).toMatch(/email/);
    expect(parseDn("CN=").errors[0]).toMatch(/empty/);
    expect(parseDn("CN=a\\").errors[0]).toMatch(/backslash/);
    expect(splitDn("CN=${/csr/subject/commonname").error).toMatch(/Unclosed/);
  });

  it("encodes Names OpenSSL reads back, choosing PrintableString, UTF8String or IA5String", () => {
    const attrs = parseDn("CN=Zoë, O=Acme, E=jane@example.com, 2.5.4.5=ABC123").attributes;
    const name = toX509Name(attrs);
    const der = Buffer.from(name.toArrayBuffer());
    const text = openssl(["asn1parse", "-inform", "DER"], der).stdout;
    expect(text).toContain("UTF8STRING");
    expect(text).toContain("PRINTABLESTRING");
    expect(text).toContain("IA5STRING");
    expect(fromX509Name(new x509.Name(der)).map((a) => a.value)).toEqual(["Zoë", "Acme", "jane@example.com", "ABC123"]);
    expect(fromX509Name(new x509.Name(der))[3].type).toBe("SERIALNUMBER");
  });
});
