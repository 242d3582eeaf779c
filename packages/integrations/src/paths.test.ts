import { describe, expect, it } from "vitest";
import { evaluatePath, parsePath, pathProblem, PathError, type ResponseView } from "./paths";
import { renderTemplate, templateProblem, templateUses, templateVariables, TemplateError } from "./template";

const view: ResponseView = {
  status: 200,
  headers: { "content-type": "application/json", "x-rate-limit": "9999" },
  data: [
    { serial_number: "ABC1234", device_name: "Other", user: "", tags: [], "odd key": 1 },
    { serial_number: "ABC123", device_name: "Ada's Mac", user: { email: "ada@example.com", name: "Ada" }, tags: ["eng", "acme"] },
  ],
};
const get = (path: string, identity = "ABC123") => evaluatePath(view, path, { identity });

describe("parsePath", () => {
  it("parses dotted keys, indexes, quoted keys and filters", () => {
    expect(parsePath("data[0].serial_number")).toEqual({
      root: "data",
      segments: [
        { kind: "index", index: 0 },
        { kind: "key", key: "serial_number" },
      ],
    });
    expect(parsePath("data.0.user.email").segments[0]).toEqual({ kind: "index", index: 0 });
    expect(parsePath("headers.content-type").segments).toEqual([{ kind: "key", key: "content-type" }]);
    expect(parsePath(`data[0]["odd key"]`).segments[1]).toEqual({ kind: "key", key: "odd key" });
    expect(parsePath("data[serial_number=${identity}].user.email").segments[0]).toEqual({
      kind: "filter",
      field: ["serial_number"],
      value: "${identity}",
    });
    expect(parsePath("data[user.email='a]b'].x").segments[0]).toEqual({ kind: "filter", field: ["user", "email"], value: "a]b" });
    expect(parsePath("status")).toEqual({ root: "status", segments: [] });
  });

  it("rejects bad paths with a message for the form", () => {
    expect(pathProblem("")).toBe("Response path is required");
    expect(pathProblem("body[0].x")).toMatch(/must start with data, status or headers/);
    expect(pathProblem("data[0")).toMatch(/missing "\]"/);
    expect(pathProblem("data..x")).toMatch(/expected a name/);
    expect(pathProblem("data[0]x")).toMatch(/unexpected "x"/);
    expect(pathProblem("data['x]")).toMatch(/unterminated quote/);
    expect(pathProblem("status.code")).toMatch(/status is a number/);
    expect(pathProblem("data.__proto__.polluted")).toMatch(/not allowed/);
    expect(pathProblem("data[0].constructor")).toMatch(/not allowed/);
    expect(pathProblem('data["prototype"]')).toMatch(/not allowed/);
    expect(pathProblem(`data${".x".repeat(200)}`)).toMatch(/longer than/);
    expect(pathProblem("data[0].serial_number")).toBeNull();
    expect(() => parsePath("x")).toThrow(PathError);
  });
});

describe("evaluatePath", () => {
  it("reads body, status and headers", () => {
    expect(get("data[1].user.email")).toEqual({ found: true, value: "ada@example.com" });
    expect(get("data[-1].device_name")).toEqual({ found: true, value: "Ada's Mac" });
    expect(get("data.length")).toEqual({ found: true, value: 2 });
    expect(get("data[1].tags[1]")).toEqual({ found: true, value: "acme" });
    expect(get(`data[0]["odd key"]`)).toEqual({ found: true, value: 1 });
    expect(get("status")).toEqual({ found: true, value: 200 });
    expect(get("headers.Content-Type")).toEqual({ found: true, value: "application/json" });
  });

  it("explains where a path stops", () => {
    expect(get("data[5].serial_number")).toEqual({ found: false, reason: "data has no item [5] (2 items)" });
    expect(get("data[0].user.email")).toEqual({ found: false, reason: 'data[0].user is an empty string, so it has no "email"' });
    expect(get("data[0].nope")).toEqual({ found: false, reason: 'data[0] has no "nope"' });
    expect(get("data.serial_number")).toEqual({ found: false, reason: 'data is an array of 2, so it has no "serial_number"' });
    expect(evaluatePath({ ...view, data: [] }, "data[0].serial_number")).toEqual({ found: false, reason: "data has no item [0] (0 items)" });
    expect(get("headers.x-missing")).toEqual({ found: false, reason: 'headers has no "x-missing"' });
  });

  it("selects the array item whose field equals the identity exactly", () => {
    expect(get("data[serial_number=${identity}].device_name")).toEqual({ found: true, value: "Ada's Mac" });
    expect(get("data[serial_number=${identity}].device_name", "ABC1234")).toEqual({ found: true, value: "Other" });
    expect(get("data[serial_number=${identity}]", "ABC12")).toEqual({
      found: false,
      reason: 'data has no item whose serial_number is "ABC12" (2 items)',
    });
    expect(get("data[user.email=ada@example.com].serial_number")).toEqual({ found: true, value: "ABC123" });
    // The identity is data, never syntax: a "]" in it cannot change the path.
    expect(get("data[serial_number=${identity}]", "x].device_name")).toMatchObject({ found: false });
  });

  it("never reads inherited properties", () => {
    const v: ResponseView = { status: 200, headers: {}, data: JSON.parse('{"a": {}, "__proto__": {"x": 1}}') };
    expect(evaluatePath(v, "data.a.toString")).toEqual({ found: false, reason: 'data.a has no "toString"' });
    expect(evaluatePath(v, "data.a.hasOwnProperty")).toMatchObject({ found: false });
    expect(evaluatePath({ status: 200, headers: {}, data: "text" }, "data.length")).toEqual({ found: true, value: 4 });
  });
});

describe("templates", () => {
  it("renders ${identity} and ${/context/paths}, encoding substituted values only", () => {
    const vars = { identity: "A&B/C", context: { attestation: { serialNumber: "SN 1", osVersion: 15 } } };
    expect(renderTemplate("https://h/x?s=${identity}&o=${/attestation/osVersion}", vars, encodeURIComponent)).toBe("https://h/x?s=A%26B%2FC&o=15");
    expect(renderTemplate("${/attestation/serialNumber}", vars)).toBe("SN 1");
    expect(templateVariables("a ${ identity } b ${/csr/x}")).toEqual(["${identity}", "${/csr/x}"]);
  });

  it("reads keys as certificate templates do: case-insensitively, own properties only, a list's first non-empty item", () => {
    const context = { csr: { subject: { commonName: "C02X", CN: "C02X" }, san: { rfc822name: ["", "a@b.c"] } }, attestation: { serialNumber: "C02Y" } };
    const vars = { identity: "x", context };
    expect(renderTemplate("https://h/d?cn=${/csr/subject/commonname}&e=${/csr/san/rfc822name}", vars, encodeURIComponent)).toBe(
      "https://h/d?cn=C02X&e=a%40b.c",
    );
    expect(renderTemplate("${/ATTESTATION/SerialNumber}", vars)).toBe("C02Y");
    expect(() => renderTemplate("${/csr/subject}", vars)).toThrow("${/csr/subject} has no value");
    expect(() => renderTemplate("${/csr/san/dnsname}", { identity: "x", context: { csr: { san: { dnsname: [] } } } })).toThrow(/has no value/);
    expect(templateProblem("${/a/Constructor}")).toMatch(/not allowed/);
    expect(templateUses("${/attestation/serialnumber}", ["${/attestation/serialNumber}"])).toBe(true);
  });

  it("refuses unknown variables, missing values and prototype paths", () => {
    expect(templateProblem("${serial}")).toMatch(/unknown variable \$\{serial\}/);
    expect(templateProblem("${identity")).toMatch(/unclosed/);
    expect(templateProblem("${/a/__proto__}")).toMatch(/not allowed/);
    expect(() => renderTemplate("${/attestation/udid}", { identity: "x", context: { attestation: {} } })).toThrow(TemplateError);
    expect(() => renderTemplate("${/attestation}", { identity: "x", context: { attestation: {} } })).toThrow(/has no value/);
    expect(() => renderTemplate("${/toString}", { identity: "x", context: {} })).toThrow(/has no value/);
  });
});
