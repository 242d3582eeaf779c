import { describe, expect, it } from "vitest";
import { SAMPLE_CONTEXT, deviceContext, previewTemplate } from "./preview";
import { deviceVariables, lookup, parseTemplateString, renderTemplate, unsourcedDeviceVariables, type TemplateContext } from "./template";
import { parseTemplateInput, templateInputSchema, validateTemplateInput } from "./template-schema";
import { KANDJI_TEMPLATE } from "./testing";
import type { PkiError } from "@attested/errors";

const ctx: TemplateContext = {
  csr: {
    subject: { commonName: "F4GXK2Q1N72J" },
    san: { othername: ["jane@corp.example"], rfc822name: ["jane@example.com"], dnsname: [], uri: [] },
  },
  attestation: { serialNumber: "F4GXK2Q1N72J", udid: "00008120-001A2C3E0C7B401E", osVersion: "17.4" },
  device: { userDescription: "https://idp.example.com/u/jane", Groups: ["Eng", "Wi-Fi"], dept: "R&D, Labs" },
};

describe("template variables", () => {
  it("renders the guide's Kandji template", () => {
    const r = renderTemplate(KANDJI_TEMPLATE, ctx);
    expect(r.errors).toEqual([]);
    expect(r.subjectDn).toBe("CN=F4GXK2Q1N72J, O=Acme");
    expect(r.sans).toEqual([
      { type: "otherName", value: "jane@corp.example" },
      { type: "rfc822", value: "jane@example.com" },
      { type: "uri", value: "https://idp.example.com/u/jane" },
    ]);
  });

  it("matches keys case-insensitively and reaches list items", () => {
    expect(lookup(ctx, ["ATTESTATION", "SerialNumber"])).toBe("F4GXK2Q1N72J");
    expect(lookup(ctx, ["device", "groups", "1"])).toBe("Wi-Fi");
    expect(lookup(ctx, ["device", "constructor"])).toBeUndefined(); // own properties only
    const r = renderTemplate({ subject: "CN=${/Attestation/SERIALNUMBER}-${/attestation/osversion}" }, ctx);
    expect(r.subjectDn).toBe("CN=F4GXK2Q1N72J-17.4");
  });

  it("joins lists in the subject and fans them out in SANs", () => {
    const r = renderTemplate(
      {
        subject: "CN=x,OU=${/device/groups},O=${/device/groups|join: / }",
        sanDns: "${/device/groups|join:-}.example.com",
        sanRfc822: "${/device/groups}@example.com",
      },
      { device: { groups: ["eng", "wifi"] } },
    );
    expect(r.errors).toEqual([]);
    expect(r.subject.map((a) => a.value)).toEqual(["x", "eng,wifi", "eng / wifi"]);
    expect(r.sans).toEqual([
      { type: "rfc822", value: "eng@example.com" },
      { type: "rfc822", value: "wifi@example.com" },
      { type: "dns", value: "eng-wifi.example.com" },
    ]);
  });

  it("keeps variable values inside their attribute (no DN injection)", () => {
    const r = renderTemplate({ subject: "CN=${/device/dept},O=Acme" }, { device: { dept: "evil,O=Apple Inc.+OU=x" } });
    expect(r.errors).toEqual([]);
    expect(r.subject).toHaveLength(2);
    expect(r.subject[0].value).toBe("evil,O=Apple Inc.+OU=x");
    expect(r.subjectDn).toBe("CN=evil\\,O\\=Apple Inc.\\+OU\\=x, O=Acme");
  });

  it("leaves out SANs and optional attributes that render empty, but not the CN or the whole subject", () => {
    const r = renderTemplate({ subject: "CN=${/csr/subject/commonname},OU=${/device/missing}", sanDns: "${/csr/san/dnsname}" }, ctx);
    expect(r.errors).toEqual([]);
    expect(r.subjectDn).toBe("CN=F4GXK2Q1N72J");
    expect(r.sans).toEqual([]);

    const noCn = renderTemplate({ subject: "CN=${/device/missing},O=Acme" }, ctx);
    expect(noCn.errors).toEqual([{ field: "subject", message: expect.stringMatching(/CN renders empty/) }]);
    const empty = renderTemplate({ subject: "OU=${/device/missing}" }, ctx);
    expect(empty.errors).toEqual([{ field: "subject", message: "Subject renders empty" }]);
  });

  it("reports unknown roots, syntax errors and invalid rendered values per field", () => {
    expect(parseTemplateString("${/foo/bar}").errors[0]).toMatch(/unknown root "\/foo"/);
    expect(parseTemplateString("${csr/subject}").errors[0]).toMatch(/is not a variable/);
    expect(parseTemplateString("${/csr/subject/cn").errors[0]).toMatch(/Unclosed/);
    expect(parseTemplateString("${/csr/x|upper}").errors[0]).toMatch(/only modifier/);

    const r = renderTemplate(
      {
        subject: "CN=${/csr/subject/commonname},C=${/device/userDescription}",
        sanRfc822: "${/attestation/udid}",
        sanDns: "${/device/dept}",
        sanUri: "${/attestation/serialNumber}",
        sanOtherName: "${/csr}",
      },
      ctx,
    );
    const byField = Object.fromEntries(r.errors.map((e) => [e.field, e.message]));
    expect(byField.subject).toMatch(/two-letter country code/);
    expect(byField.sanRfc822).toMatch(/not a valid email/);
    expect(byField.sanDns).toMatch(/not a valid host name/);
    expect(byField.sanUri).toMatch(/not a valid absolute URI/);
    expect(byField.sanOtherName).toMatch(/not a variable|object/);
    expect(r.sans).toEqual([]);
  });
});

describe("values that are not there", () => {
  it("leaves out a SAN whose variable has no value instead of issuing the text around it, and says why", () => {
    const r = renderTemplate(
      { subject: "CN=host", sanUri: "urn:serial:${/attestation/serialNumber}", sanDns: "${/device/a}.${/device/b}.example" },
      { device: { a: "x" } },
    );
    expect(r.errors).toEqual([]);
    expect(r.sans).toEqual([]);
    expect(r.omitted).toEqual([
      { field: "sanDns", reason: "DNS left out: ${/device/b} has no value" },
      { field: "sanUri", reason: "URI left out: ${/attestation/serialNumber} has no value" },
    ]);
  });

  it("refuses a subject attribute that would be text around a missing variable", () => {
    const r = renderTemplate({ subject: "CN=serial-${/attestation/serialNumber},O=Acme" }, {});
    expect(r.errors).toEqual([{ field: "subject", message: 'Subject: CN would read "serial-": ${/attestation/serialNumber} has no value' }]);
    const ou = renderTemplate({ subject: "CN=x,OU=Dept ${/device/dept}" }, {});
    expect(ou.errors.map((e) => e.message)).toEqual(['Subject: OU would read "Dept": ${/device/dept} has no value']);
  });

  it("says which values came from the CSR, and withholds /csr/san when the template does not allow it", () => {
    const t = { subject: "CN=${/csr/subject/commonname},O=Acme", sanRfc822: "${/csr/san/rfc822name}", sanUri: "urn:udid:${/attestation/udid}" };
    const r = renderTemplate(t, ctx);
    expect(r.fromCsr).toEqual([
      { field: "subject", value: "CN=F4GXK2Q1N72J" },
      { field: "sanRfc822", value: "jane@example.com" },
    ]);
    const withheld = renderTemplate(t, ctx, { csrSans: false });
    expect(withheld.sans).toEqual([{ type: "uri", value: "urn:udid:00008120-001A2C3E0C7B401E" }]);
    expect(withheld.omitted).toEqual([
      { field: "sanRfc822", reason: "RFC822 left out: ${/csr/san/rfc822name} is not used: the template does not take SANs from the CSR" },
    ]);
    expect(withheld.fromCsr).toEqual([{ field: "subject", value: "CN=F4GXK2Q1N72J" }]);
  });

  it("finds the variables only a device or its MDM supply", () => {
    expect(
      deviceVariables({
        subject: "CN=${/csr/subject/commonname}",
        sanRfc822: "${/CSR/SAN/rfc822name}",
        sanUri: "${/device/userDescription}",
        sanDns: "${/csr/san/dnsname}",
      }),
    ).toEqual(["${/CSR/SAN/rfc822name}", "${/csr/san/dnsname}", "${/device/userDescription}"]);
    expect(deviceVariables({ subject: "CN=${/csr/san/dnsname}" })).toEqual(["${/csr/san/dnsname}"]);
    expect(deviceVariables({ subject: "CN=${/attestation/serialNumber}", sanUri: "urn:x:${/platform/name}" })).toEqual([]);
  });
});

describe("template form", () => {
  it("accepts the guide's template and fills defaults", () => {
    const t = parseTemplateInput({ name: "K", subject: "CN=${/csr/subject/commonname}", validityDays: "365" });
    expect(t).toMatchObject({
      validityDays: 365,
      signatureAlgorithm: "SHA-256",
      extendedKeyUsages: ["clientAuth"],
      overrideValidity: false,
      sanDns: "",
      allowCsrSans: true,
    });
    expect(parseTemplateInput({ name: "K", subject: "CN=x", validityDays: 1, allowCsrSans: false }).allowCsrSans).toBe(false);
    expect(parseTemplateInput({ name: "K", subject: "CN=x", validityDays: 1, allowCsrSans: "" }).allowCsrSans).toBe(false);
    expect(validateTemplateInput({ name: "K", subject: "CN=x", validityDays: 1, allowCsrSans: "maybe" }).ok).toBe(false);
  });

  it("gives a message per field", () => {
    const r = validateTemplateInput({
      name: "",
      subject: "CN=${/nope/x},C=Germany",
      validityDays: 0,
      sanDns: "${/csr/san/dnsname",
      extendedKeyUsages: ["clientAuth", "teleport"],
      signatureAlgorithm: "SHA-1",
    });
    expect(r.ok).toBe(false);
    const fields = r.ok ? [] : r.errors.map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(["name", "subject", "validityDays", "sanDns", "extendedKeyUsages.1", "signatureAlgorithm"]));
    const subjectMessages = r.ok ? [] : r.errors.filter((e) => e.field === "subject").map((e) => e.message);
    expect(subjectMessages.join(" ")).toMatch(/unknown root/);
    expect(subjectMessages.join(" ")).toMatch(/two-letter/);
  });

  it("requires an end date in the future when Override Validity Period is checked", () => {
    const base = { name: "K", subject: "CN=x" };
    expect(templateInputSchema.safeParse({ ...base, overrideValidity: true }).error?.issues[0].path).toEqual(["overrideNotAfter"]);
    expect(templateInputSchema.safeParse({ ...base, overrideValidity: "on", overrideNotAfter: "2001-01-01" }).error?.issues[0].message).toMatch(/future/);
    expect(templateInputSchema.safeParse({ ...base, overrideValidity: true, overrideNotAfter: "2099-01-01" }).success).toBe(true);
    const e = (() => {
      try {
        parseTemplateInput(base);
      } catch (err) {
        return err as PkiError;
      }
    })();
    expect(e).toMatchObject({ code: "invalidInput", field: "validityDays" });
  });
});

describe("template preview", () => {
  it("renders the guide's template against a sample iPhone without errors", () => {
    const p = previewTemplate(KANDJI_TEMPLATE, undefined, new Date("2026-01-01T00:00:00Z"));
    expect(p.errors).toEqual([]);
    expect(p.subjectDn).toBe(`CN=${SAMPLE_CONTEXT.attestation!.serialNumber}, O=Acme`);
    expect(p.sans.map((s) => s.type)).toEqual(["otherName", "rfc822", "uri"]);
    expect(p.extendedKeyUsages).toEqual([{ oid: "1.3.6.1.5.5.7.3.2", label: "Client Authentication" }]);
    expect(p.notAfter.toISOString()).toBe("2027-01-01T00:00:00.000Z");
  });

  it("shows form and rendering errors together for unsaved input", () => {
    const p = previewTemplate({ subject: "CN=${/attestation/udid},O=${/device/nothing}", sanUri: "${/device/deviceName}" });
    expect(p.subjectDn).toBe("CN=00008120-001A2C3E0C7B401E");
    expect(p.errors.map((e) => e.field)).toEqual(expect.arrayContaining(["name", "sanUri"]));
  });
});

describe("variables with no source", () => {
  const kandji = (attributes: string[] | null) => ({ via: 'Enrollment Policy "Kandji"', corePlatform: attributes ? "Kandji API" : null, attributes });

  it("names a /device variable the Core Platform does not map, per way the template is reached", () => {
    const t = { subject: "CN=${/csr/subject/commonname}", sanUri: "${/device/userDescription}", sanRfc822: "${/device/email}" };
    expect(unsourcedDeviceVariables(t, [kandji(["email"])])).toEqual([
      {
        variable: "${/device/userDescription}",
        sources: [{ via: 'Enrollment Policy "Kandji"', reason: 'Core Platform "Kandji API" maps no attribute named userdescription' }],
      },
    ]);
    // Mapped under another spelling: matched case-insensitively, as at issuance.
    expect(unsourcedDeviceVariables(t, [kandji(["EMAIL", "UserDescription"])])).toEqual([]);
  });

  it("counts the platform defaults as looking nothing up, and ignores /csr and /attestation", () => {
    const t = { subject: "CN=${/attestation/serialNumber}", sanDns: "${/csr/san/dnsname}", sanUri: "${/device/deviceName}" };
    const r = unsourcedDeviceVariables(t, [kandji(["deviceName"]), { via: 'Device Management Platform "Kandji ACME"', corePlatform: null, attributes: null }]);
    expect(r).toEqual([
      {
        variable: "${/device/deviceName}",
        sources: [{ via: 'Device Management Platform "Kandji ACME"', reason: "it looks no device up, so /device is empty" }],
      },
    ]);
    expect(unsourcedDeviceVariables(t, [])).toEqual([]);
  });

  it("renders a real device's answer: a variable without a mapped value is left out, and said so", () => {
    const p = previewTemplate({ ...KANDJI_TEMPLATE, sanUri: "${/device/userDescription}" }, deviceContext("C02REAL0001", { email: "ada@example.com" }));
    expect(p.subjectDn).toContain("CN=C02REAL0001");
    expect(p.sans.some((s) => s.type === "uri")).toBe(false);
    expect(p.omitted.map((o) => o.reason)).toContain("URI left out: ${/device/userDescription} has no value");
    expect(previewTemplate(KANDJI_TEMPLATE, deviceContext("C02REAL0001", { userDescription: "https://idp/ada" })).sans).toContainEqual({
      type: "uri",
      value: "https://idp/ada",
    });
  });
});
