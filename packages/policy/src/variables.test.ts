import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evaluateRule, mapAttributes, renderTemplate as renderHttp, type ResponseView } from "@attested/integrations";
import { csrContext, parseCsr, renderTemplate as renderCertificate, type TemplateContext } from "@attested/pki";
import { resolveIdentity } from "./context";
import { IDENTITY_ATTRIBUTES } from "./options";

// Every variable the README and the portal's help name resolves, to the same value, in the three
// places that read `${/path}`: a Certificate Template, a Security Signal Source's lookup key, and a
// Generic HTTP URI and Expected result. One realistic enrollment context: what an attested iPhone's
// enrollment holds (Apple's attestation summary, the CSR as enrollment parses it, the ACME account,
// the Device Management Platform) plus the device record the Core Platform mapped from the MDM.

const root = path.resolve(import.meta.dirname, "../../..");
const PATH_VARIABLE = /\$\{(\/[A-Za-z0-9_.@/-]+)\}/g;

function variablesIn(text: string): string[] {
  // Not the language's own name (`${/path}`) or an elision (`${/device/...}`): a root and a key at least.
  return [...text.matchAll(PATH_VARIABLE)].map((m) => m[1]!).filter((v) => !v.includes("...") && v.split("/").length > 2);
}

/** The README's "Variables" section. */
function readmeVariables(): string[] {
  const readme = readFileSync(path.join(root, "README.md"), "utf8");
  const start = readme.indexOf("\n## Variables\n");
  expect(start, "README has a Variables section").toBeGreaterThan(0);
  const end = readme.indexOf("\n## ", start + 1);
  return variablesIn(readme.slice(start, end));
}

/** The help text of the portal's forms (template fields, Generic HTTP, Enrollment). */
function portalVariables(): string[] {
  const dir = path.join(root, "apps/portal");
  return ["app", "components"].flatMap((sub) =>
    (readdirSync(path.join(dir, sub), { recursive: true }) as string[])
      .filter((f) => f.endsWith(".tsx"))
      .flatMap((f) => variablesIn(readFileSync(path.join(dir, sub, f), "utf8"))),
  );
}

let context: Record<string, unknown>;
let scratch: string;

beforeAll(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), "variables-"));
  // The request a Kandji-pushed ACME profile makes: serial as CN, the user in the SANs.
  const pem = execFileSync(
    "openssl",
    [
      "req",
      "-new",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      path.join(scratch, "k.pem"),
      "-subj",
      "/CN=F4GXK2Q1N72J/serialNumber=F4GXK2Q1N72J/UID=jane.appleseed/OU=Engineering/emailAddress=jane.appleseed@example.com",
      "-addext",
      "subjectAltName=email:jane.appleseed@example.com,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:jane.appleseed@corp.example,DNS:jane-iphone.corp.example,URI:https://idp.example.com/u/jane,IP:10.20.30.40",
    ],
    { encoding: "utf8" },
  );
  const csr = csrContext(await parseCsr(pem));
  // What the Core Platform's Attribute Mapping makes of a Kandji device record.
  const kandji: ResponseView = {
    status: 200,
    headers: { "content-type": "application/json" },
    data: [
      {
        device_id: "0c1f6e5a-6b5e-4d7b-9a4e-3f2b1c0d9e8f",
        device_name: "Jane's iPhone",
        serial_number: "F4GXK2Q1N72J",
        blueprint_name: "Corporate iPhones",
        notes: "https://idp.example.com/users/jane.appleseed",
        user: { email: "jane.appleseed@example.com", name: "Jane Appleseed" },
        tags: ["eng", "wifi"],
      },
    ],
  };
  const mapped = mapAttributes(
    [
      { path: "data[0].device_id", attribute: "deviceId" },
      { path: "data[0].device_name", attribute: "deviceName" },
      { path: "data[0].blueprint_name", attribute: "blueprintName" },
      { path: "data[0].notes", attribute: "userDescription" },
      { path: "data[0].user.email", attribute: "email" },
      { path: "data[0].tags", attribute: "tags" },
    ],
    kandji,
    { identity: "F4GXK2Q1N72J" },
  );
  expect(mapped.missing).toEqual([]);
  context = {
    // attestationSummary() of an iPhone's Apple attestation, as the order keeps it.
    attestation: {
      format: "apple",
      serialNumber: "F4GXK2Q1N72J",
      udid: "00008120-001A2C3E0C7B401E",
      softwareUpdateDeviceId: "iPhone15,4",
      osVersion: "17.4",
      sepOsVersion: "17.4",
      llbVersion: "17.4",
      identifierMatched: true,
      leafFingerprint: "5b1f0c...",
      keyAttestationPlatformId: "8a6d1e1c-1f38-4c53-a1a7-6a3b1b0a2f11",
      keyAttestationPlatformName: "Apple",
    },
    csr,
    account: { id: "2f0a7c3e-98f1-4f3b-8d27-3f1c9f1f6a10", contact: ["mailto:jane.appleseed@example.com"] },
    platform: { id: "6a3c1f2e-1b0d-4e8f-9a7c-2d5e4f3a1b0c", name: "Kandji iPhones", vendor: "kandji" },
    device: mapped.attributes,
  };
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The value of `${variable}` in each place, or why it has none. */
function resolveEverywhere(variable: string) {
  const vars = { identity: "unused", context };
  const policy = resolveIdentity(context, variable);
  const http = (() => {
    try {
      return renderHttp(`\${${variable}}`, vars);
    } catch (e) {
      return (e as Error).message;
    }
  })();
  const uri = (() => {
    try {
      return renderHttp(`https://mdm.example.com/api/v1/devices?q=\${${variable}}`, vars, encodeURIComponent);
    } catch (e) {
      return (e as Error).message;
    }
  })();
  const expected = (value: string | undefined) =>
    evaluateRule({ path: "data.value", condition: "equals", expected: `\${${variable}}` }, { status: 200, headers: {}, data: { value } }, vars);
  // A Subject joins a list with ","; in a SAN field a list gives one SAN per item.
  const template = renderCertificate({ subject: `CN=\${${variable}}` }, context as TemplateContext);
  return { policy, http, uri, expected, template };
}

describe("one ${/path} language in templates, policies and Generic HTTP", () => {
  it("finds the variables the README and the portal's help name", () => {
    const readme = readmeVariables();
    const portal = portalVariables();
    expect(readme).toEqual(
      expect.arrayContaining([
        "/attestation/serialNumber",
        "/csr/subject/commonname",
        "/csr/san/rfc822name",
        "/device/userDescription",
        "/account/contact",
        "/platform/name",
      ]),
    );
    expect(portal).toEqual(expect.arrayContaining(["/csr/subject/commonname", "/csr/san/othername", "/device/userDescription", "/attestation/serialNumber"]));
  });

  it("resolves every one of them, to the same value, in all three places", () => {
    const all = [...new Set([...readmeVariables(), ...portalVariables(), ...IDENTITY_ATTRIBUTES.csr.map((a) => a.value)])];
    expect(all.length).toBeGreaterThan(20);
    for (const variable of all) {
      const r = resolveEverywhere(variable);
      const value = r.policy;
      expect(value, `${variable} in a Security Signal Source`).toBeTruthy();
      expect(r.http, `${variable} in Generic HTTP`).toBe(value);
      expect(r.uri, `${variable} in a Generic HTTP URI`).toBe(`https://mdm.example.com/api/v1/devices?q=${encodeURIComponent(value!)}`);
      expect(r.expected(value).passed, `${variable} in an Expected result`).toBe(true);
      expect(r.expected(`${value}-other`).passed, `${variable} in an Expected result`).toBe(false);
      expect(r.template.errors, `${variable} in a Certificate Template`).toEqual([]);
      const cn = r.template.subject[0]!.value;
      expect(cn === value || cn.startsWith(`${value},`), `${variable} in a Certificate Template: ${cn}`).toBe(true);
    }
  });

  it("reads keys by one rule everywhere: case-insensitively", () => {
    for (const variable of ["/csr/subject/commonname", "/CSR/Subject/CN", "/attestation/SERIALNUMBER", "/Device/DeviceName"]) {
      const r = resolveEverywhere(variable);
      expect([r.http, r.template.subject[0]?.value]).toEqual([r.policy, r.policy]);
    }
    expect(resolveEverywhere("/csr/subject/commonname").policy).toBe("F4GXK2Q1N72J");
    expect(resolveEverywhere("/csr/san/rfc822name").http).toBe("jane.appleseed@example.com");
    expect(resolveEverywhere("/csr/san/othername").http).toBe("jane.appleseed@corp.example");
    expect(resolveEverywhere("/device/deviceName").template.subject[0]?.value).toBe("Jane's iPhone");
    // A list: the first item, or all of them where a template joins or fans out.
    expect(resolveEverywhere("/device/tags")).toMatchObject({ policy: "eng", http: "eng" });
    expect(resolveEverywhere("/device/tags").template.subject[0]?.value).toBe("eng,wifi");
    expect(renderCertificate({ subject: "CN=x", sanDns: "${/device/tags}.corp.example" }, context as TemplateContext).sans.map((s) => s.value)).toEqual([
      "eng.corp.example",
      "wifi.corp.example",
    ]);
  });

  it("has no value for missing keys, objects and the prototype, in all three places", () => {
    for (const variable of ["/attestation/nothing", "/csr/subject", "/device/constructor", "/csr/toString", "/csr/san/dnsname/x"]) {
      const r = resolveEverywhere(variable);
      expect(r.policy, variable).toBeUndefined();
      expect(r.http, variable).toMatch(/has no value|not allowed/);
      expect(r.template.subject, variable).toEqual([]);
      expect(r.template.errors.length, variable).toBeGreaterThan(0);
    }
  });
});
