import { describe, expect, it } from "vitest";
import { lookup } from "./lookup";
import { compilePath } from "./path";

describe("lookup: one key rule", () => {
  const ctx = {
    csr: { subject: { commonName: "C02X", CN: "C02X", "2.5.4.3": "C02X" }, san: { rfc822name: ["", "  ", "a@b.c"], dnsname: [] } },
    attestation: { serialNumber: "C02Y", osVersion: 17 },
    device: { Groups: ["Eng", "Wi-Fi"], groups: ["lower"], users: [null, { email: "u@x" }], nested: [[{ a: 1 }]] },
  };

  it("matches keys case-insensitively, an exact match first", () => {
    expect(lookup(ctx, ["csr", "subject", "commonname"])).toBe("C02X");
    expect(lookup(ctx, ["CSR", "SUBJECT", "cn"])).toBe("C02X");
    expect(lookup(ctx, ["csr", "subject", "2.5.4.3"])).toBe("C02X");
    expect(lookup(ctx, ["device", "Groups"])).toEqual(["Eng", "Wi-Fi"]);
    expect(lookup(ctx, ["device", "groups"])).toEqual(["lower"]);
    expect(lookup(ctx, ["attestation", "udid"])).toBeUndefined();
    expect(lookup(ctx, compilePath(["Attestation", "SerialNumber"]))).toBe("C02Y");
  });

  it("enters a list by index, or else through its first non-empty item", () => {
    expect(lookup(ctx, ["device", "Groups", "1"])).toBe("Wi-Fi");
    expect(lookup(ctx, ["device", "Groups", "2"])).toBeUndefined();
    expect(lookup(ctx, ["device", "users", "email"])).toBe("u@x");
    expect(lookup(ctx, ["device", "users", "0"])).toBeNull();
    expect(lookup(ctx, ["device", "nested", "a"])).toBeUndefined(); // the first item is a list, not an object
    expect(lookup(ctx, ["device", "Groups", "length"])).toBeUndefined();
    expect(lookup(ctx, ["csr", "san", "rfc822name", "x"])).toBeUndefined();
    expect(lookup(ctx, ["device", "Groups", "99999999999"])).toBeUndefined();
  });

  it("reads own properties only: no prototype, no inherited keys, no pollution", () => {
    for (const path of [
      ["toString"],
      ["csr", "constructor"],
      ["csr", "__proto__"],
      ["csr", "__proto__", "polluted"],
      ["csr", "hasOwnProperty"],
      ["device", "Groups", "map"],
    ]) {
      expect(lookup(ctx, path)).toBeUndefined();
    }
    const inherited = Object.create({ secret: "from the prototype" }) as Record<string, unknown>;
    expect(lookup({ a: inherited }, ["a", "secret"])).toBeUndefined();
    // JSON from an MDM can hold an own "__proto__" key: still refused, in any spelling.
    const json = JSON.parse('{"device": {"__proto__": {"polluted": "yes"}, "Constructor": "c", "prototype": "p"}}');
    expect(lookup(json, ["device", "__proto__", "polluted"])).toBeUndefined();
    expect(lookup(json, ["device", "constructor"])).toBeUndefined();
    expect(lookup(json, ["device", "PROTOTYPE"])).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("stops at values that are not objects", () => {
    expect(lookup(ctx, ["attestation", "serialNumber", "length"])).toBeUndefined();
    expect(lookup(null, ["a"])).toBeUndefined();
    expect(lookup("text", ["length"])).toBeUndefined();
    expect(lookup({ a: null }, ["a", "b"])).toBeUndefined();
    expect(lookup(ctx, [])).toBe(ctx);
  });

  it("keys holding NUL or other odd characters match only exactly", () => {
    expect(lookup({ "a\u0000b": 1 }, ["a\u0000b"])).toBe(1);
    expect(lookup({ "a\u0000b": 1 }, ["a"])).toBeUndefined();
  });

  it("takes time linear in the keys it reads", () => {
    const wide: Record<string, number> = {};
    for (let i = 0; i < 100_000; i++) wide[`Key${i}`] = i;
    const t = performance.now();
    expect(lookup({ wide }, ["WIDE", "key99999"])).toBe(99_999);
    expect(performance.now() - t).toBeLessThan(1000);
  });
});
