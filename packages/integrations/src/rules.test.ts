import { describe, expect, it } from "vitest";
import { extractGroups, mapAttributes, splitGroupsPaths } from "./mapping";
import type { ResponseView } from "./paths";
import { patternProblem, safeMatch } from "./regex";
import { evaluateRule, rulesPinIdentity, type ValidationRule } from "./rules";

const view: ResponseView = {
  status: 200,
  headers: { "content-type": "application/json" },
  data: [
    {
      serial_number: "C02ABC1234",
      device_name: "Ada's Mac",
      is_removed: false,
      mdm_enabled: true,
      asset_tag: "",
      blueprint_name: "ACME",
      tags: ["eng", "acme"],
      user: { email: "ada@example.com", name: "Ada Lovelace", id: "u1", is_archived: false },
      groups: [{ name: "Staff" }, { name: "VPN" }, { id: 3 }],
    },
  ],
};
const vars = { identity: "C02ABC1234", context: { attestation: { serialNumber: "C02ABC1234", osVersion: "15.5" } } };
const run = (rule: ValidationRule, identity = vars.identity) => evaluateRule(rule, view, { ...vars, identity });

describe("evaluateRule", () => {
  it("exists / notExists treat missing, null and empty text as absent", () => {
    expect(run({ path: "data[0].serial_number", condition: "exists" })).toMatchObject({ passed: true, actual: "C02ABC1234" });
    expect(run({ path: "data[0].asset_tag", condition: "exists" })).toMatchObject({ passed: false, actual: "" });
    expect(run({ path: "data[1].serial_number", condition: "exists" })).toMatchObject({
      passed: false,
      actual: null,
      message: "data[1].serial_number exists: data has no item [1] (1 items)",
    });
    expect(run({ path: "data[0].asset_tag", condition: "notExists" }).passed).toBe(true);
    expect(run({ path: "data[0].serial_number", condition: "notExists" }).passed).toBe(false);
  });

  it("equals compares exactly, with variables in Expected", () => {
    expect(run({ path: "data[0].serial_number", condition: "equals", expected: "${identity}" })).toEqual({
      rule: { path: "data[0].serial_number", condition: "equals", expected: "${identity}" },
      passed: true,
      actual: "C02ABC1234",
      message: 'data[0].serial_number equals "C02ABC1234"',
    });
    // The partial-match trap: the lookup asked for C02ABC12 and Kandji returned C02ABC1234.
    expect(run({ path: "data[0].serial_number", condition: "equals", expected: "${identity}" }, "C02ABC12")).toMatchObject({
      passed: false,
      message: 'data[0].serial_number equals "C02ABC12": actual "C02ABC1234"',
    });
    expect(run({ path: "data[0].serial_number", condition: "equals", expected: "c02abc1234" }).passed).toBe(false);
    expect(run({ path: "data[0].serial_number", condition: "equals", expected: "${/attestation/serialNumber}" }).passed).toBe(true);
    // The same key rule as certificate templates: the CSR's commonName answers to /commonname.
    const csr = { identity: "x", context: { csr: { subject: { commonName: "C02ABC1234" } } } };
    expect(evaluateRule({ path: "data[0].serial_number", condition: "equals", expected: "${/csr/subject/commonname}" }, view, csr).passed).toBe(true);
    expect(run({ path: "data[0].is_removed", condition: "equals", expected: "false" }).passed).toBe(true);
    expect(run({ path: "status", condition: "equals", expected: "200" }).passed).toBe(true);
    expect(run({ path: "headers.content-type", condition: "equals", expected: "application/json" }).passed).toBe(true);
  });

  it("comparisons fail closed when the path or a variable is missing", () => {
    expect(run({ path: "data[0].nope", condition: "notEquals", expected: "x" })).toMatchObject({ passed: false, actual: null });
    expect(run({ path: "data[0].is_removed", condition: "notEquals", expected: "true" }).passed).toBe(true);
    expect(run({ path: "data[0].serial_number", condition: "equals", expected: "${/attestation/udid}" })).toMatchObject({
      passed: false,
      message: "data[0].serial_number equals: ${/attestation/udid} has no value",
    });
    expect(run({ path: "data[0].serial_number", condition: "equals" }).message).toMatch(/Expected result is empty/);
    expect(run({ path: "bogus", condition: "exists" }).message).toMatch(/must start with data/);
  });

  it("contains: an item of a list, or a substring of text", () => {
    expect(run({ path: "data[0].tags", condition: "contains", expected: "acme" }).passed).toBe(true);
    expect(run({ path: "data[0].tags", condition: "contains", expected: "acm" }).passed).toBe(false);
    expect(run({ path: "data[0].user.email", condition: "contains", expected: "@example.com" }).passed).toBe(true);
    expect(run({ path: "data[0].user.email", condition: "contains", expected: "@evil.com" })).toMatchObject({
      passed: false,
      actual: "ada@example.com",
    });
  });

  it("matches: search semantics, unsafe patterns refused, runaway patterns stopped", () => {
    expect(run({ path: "data[0].serial_number", condition: "matches", expected: "^C02[A-Z0-9]{7}$" }).passed).toBe(true);
    expect(run({ path: "data[0].serial_number", condition: "matches", expected: "ABC" }).passed).toBe(true);
    expect(run({ path: "data[0].serial_number", condition: "matches", expected: "^ABC" }).passed).toBe(false);
    expect(run({ path: "data[0].serial_number", condition: "matches", expected: "(\\w+)+$" }).message).toMatch(/exponential time/);
    expect(run({ path: "data[0].serial_number", condition: "matches", expected: "[" }).message).toMatch(/invalid pattern/);
  });
});

describe("safe regular expressions", () => {
  it("screens nested quantifiers, backreferences and long patterns", () => {
    expect(patternProblem("(a+)+")).toMatch(/exponential/);
    expect(patternProblem("(?:a*b?)*")).toMatch(/exponential/);
    expect(patternProblem("((ab)*c)+")).toMatch(/exponential/);
    expect(patternProblem("(\\d{2,})+")).toMatch(/exponential/);
    expect(patternProblem("(a)\\1")).toMatch(/backreferences/);
    expect(patternProblem("a".repeat(201))).toMatch(/longer than 200/);
    expect(patternProblem("^(?:[A-Z]{3})+\\d?$")).toBeNull();
    expect(patternProblem("(a+)?b")).toBeNull();
    expect(patternProblem("[(+)]+")).toBeNull();
    expect(patternProblem("(?<sn>[A-Z0-9]+)$")).toBeNull();
  });

  it("stops a pattern that slips past the screen after the time limit", () => {
    const t = Date.now();
    const r = safeMatch("^(a|a)*$", `${"a".repeat(40)}b`, 30);
    expect(r).toEqual({ ok: false, error: "pattern took longer than 30ms" });
    expect(Date.now() - t).toBeLessThan(1000);
    expect(safeMatch("^a+$", "aaa")).toEqual({ ok: true, matched: true });
    expect(safeMatch("x", "y".repeat(10_001))).toMatchObject({ ok: false, error: expect.stringMatching(/longer than/) });
  });
});

describe("rulesPinIdentity", () => {
  it("is true only when a positive rule ties a data field to the identity", () => {
    expect(rulesPinIdentity([{ path: "data[0].serial_number", condition: "exists" }])).toBe(false);
    expect(rulesPinIdentity([])).toBe(false);
    expect(rulesPinIdentity([{ path: "data[0].serial_number", condition: "equals", expected: "${identity}" }])).toBe(true);
    expect(rulesPinIdentity([{ path: "data[0].serial_number", condition: "equals", expected: "C02ABC1234" }])).toBe(false);
    expect(rulesPinIdentity([{ path: "data[0].serial_number", condition: "contains", expected: "${identity}" }])).toBe(false);
    expect(rulesPinIdentity([{ path: "data[0].serial_number", condition: "notEquals", expected: "${identity}" }])).toBe(false);
    expect(rulesPinIdentity([{ path: "headers.x", condition: "equals", expected: "${identity}" }])).toBe(false);
    expect(rulesPinIdentity([{ path: "data[serial_number=${identity}]", condition: "exists" }])).toBe(true);
    expect(rulesPinIdentity([{ path: "data[serial_number=${identity}]", condition: "notExists" }])).toBe(false);
    const viaContext: ValidationRule[] = [{ path: "data[0].serial_number", condition: "equals", expected: "${/attestation/serialNumber}" }];
    expect(rulesPinIdentity(viaContext)).toBe(false);
    expect(rulesPinIdentity(viaContext, ["${identity}", "${/attestation/serialNumber}"])).toBe(true);
  });
});

describe("attribute mapping and groups", () => {
  it("maps paths to attributes: text, lists, objects by name; reports what is missing", () => {
    const r = mapAttributes(
      [
        { path: "data[0].user.email", attribute: "email" },
        { path: "data[0].device_name", attribute: "deviceName" },
        { path: "data[0].mdm_enabled", attribute: "mdmEnabled" },
        { path: "data[0].tags", attribute: "tags" },
        { path: "data[0].user", attribute: "userName" },
        { path: "data[0].asset_tag", attribute: "assetTag" },
        { path: "data[0].nope", attribute: "nope" },
      ],
      view,
      vars,
    );
    expect(r.attributes).toEqual({
      email: "ada@example.com",
      deviceName: "Ada's Mac",
      mdmEnabled: "true",
      tags: ["eng", "acme"],
      userName: "Ada Lovelace",
    });
    expect(r.missing).toEqual([
      { attribute: "assetTag", path: "data[0].asset_tag", reason: "no value" },
      { attribute: "nope", path: "data[0].nope", reason: 'data[0] has no "nope"' },
    ]);
  });

  it("collects groups from several paths, deduplicated", () => {
    expect(splitGroupsPaths("data[0].blueprint_name, data[0].tags ,data[x=','].y")).toEqual(["data[0].blueprint_name", "data[0].tags", "data[x=','].y"]);
    expect(extractGroups("data[0].blueprint_name, data[0].tags, data[0].groups, data[0].missing, data[0].tags", view, vars)).toEqual([
      "ACME",
      "eng",
      "acme",
      "Staff",
      "VPN",
    ]);
    expect(extractGroups(null, view, vars)).toEqual([]);
    expect(extractGroups("not a path", view, vars)).toEqual([]);
  });
});
