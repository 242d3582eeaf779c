import { describe, expect, it } from "vitest";
import { evaluateCondition } from "./conditions";
import { contextWith, resolveIdentity } from "./context";
import { conditionSchema } from "./schemas";

const attrs = { email: "ada@example.com", tags: ["engineering", "vip"] };
const run = (c: unknown, groups: string[] = ["ACME Certificates"]) => evaluateCondition(conditionSchema.parse(c), attrs, groups);

describe("Attributes/Groups conditions", () => {
  it("test attributes, lists and groups", () => {
    expect(run({ kind: "attribute", attribute: "email", operator: "equals", value: "ada@example.com" }).passed).toBe(true);
    expect(run({ kind: "attribute", attribute: "tags", operator: "equals", value: "vip" }).passed).toBe(true);
    expect(run({ kind: "attribute", attribute: "tags", operator: "notEquals", value: "vip" }).passed).toBe(false);
    expect(run({ kind: "attribute", attribute: "email", operator: "contains", value: "@example" }).passed).toBe(true);
    expect(run({ kind: "attribute", attribute: "email", operator: "matches", value: "^ada@" }).passed).toBe(true);
    expect(run({ kind: "group", operator: "equals", value: "ACME Certificates" }).passed).toBe(true);
    expect(run({ kind: "group", operator: "exists" }, []).message).toBe("Groups exists: no groups");
  });

  it("fail closed when the attribute is missing, except Not exists", () => {
    for (const operator of ["equals", "notEquals", "contains", "matches"]) {
      expect(run({ kind: "attribute", attribute: "assetTag", operator, value: "x" })).toMatchObject({ passed: false, actual: null });
    }
    expect(run({ kind: "attribute", attribute: "assetTag", operator: "notExists" }).passed).toBe(true);
    expect(run({ kind: "attribute", attribute: "email", operator: "notExists" }).passed).toBe(false);
  });

  it("refuses incomplete conditions and dangerous patterns at the form", () => {
    expect(conditionSchema.safeParse({ kind: "attribute", operator: "exists" }).success).toBe(false);
    expect(conditionSchema.safeParse({ kind: "group", operator: "equals" }).success).toBe(false);
    expect(conditionSchema.safeParse({ kind: "group", operator: "matches", value: "(a*)*b" }).success).toBe(false);
    // Exists carries no value, even if one was typed.
    expect(conditionSchema.parse({ kind: "group", operator: "exists", value: "x" })).toEqual({ kind: "group", operator: "exists" });
  });
});

describe("identity paths", () => {
  it("read case-insensitively, first of a list, own properties only", () => {
    const ctx = { csr: { subject: { commonName: "C02X" }, san: { rfc822name: ["", "a@b.c"] } }, attestation: { serialNumber: "C02Y" } };
    expect(resolveIdentity(ctx, "/csr/subject/commonname")).toBe("C02X");
    expect(resolveIdentity(ctx, "/csr/san/rfc822name")).toBe("a@b.c");
    expect(resolveIdentity(ctx, "/attestation/serialNumber")).toBe("C02Y");
    expect(resolveIdentity(ctx, "/attestation/udid")).toBeUndefined();
    expect(resolveIdentity(ctx, "/csr/__proto__/x")).toBeUndefined();
    expect(resolveIdentity({ a: { b: "   " } }, "/a/b")).toBeUndefined();
    expect(contextWith("/certificate/deviceSerial", "C02Z")).toEqual({ certificate: { deviceSerial: "C02Z" } });
  });
});
