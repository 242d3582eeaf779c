import { describe, expect, it } from "vitest";
import { allValues, firstValue, scalarText } from "./values";

describe("values: one list rule", () => {
  it("writes scalars out as text", () => {
    expect(scalarText("x")).toBe("x");
    expect(scalarText("")).toBe("");
    expect(scalarText(15)).toBe("15");
    expect(scalarText(10n)).toBe("10");
    expect(scalarText(false)).toBe("false");
    expect(scalarText(new Date("2026-01-02T03:04:05Z"))).toBe("2026-01-02T03:04:05.000Z");
    for (const v of [new Date(Number.NaN), null, undefined, {}, [], Symbol("s"), () => 1]) expect(scalarText(v)).toBeUndefined();
  });

  it("gives one value: a scalar as is, else the first non-blank item of a list", () => {
    expect(firstValue("")).toBe("");
    expect(firstValue(" x ")).toBe(" x ");
    expect(firstValue(["", "  ", null, { a: 1 }, "a@b.c", "d@e.f"])).toBe("a@b.c");
    expect(firstValue([7])).toBe("7");
    expect(firstValue([])).toBeUndefined();
    expect(firstValue(["", " "])).toBeUndefined();
    expect(firstValue({ a: "x" })).toBeUndefined();
    expect(firstValue(undefined)).toBeUndefined();
  });

  it("gives every value when the caller fans out or joins", () => {
    expect(allValues(undefined)).toEqual({ values: [] });
    expect(allValues(null)).toEqual({ values: [] });
    expect(allValues("x")).toEqual({ values: ["x"] });
    expect(allValues(["a", null, "", 2])).toEqual({ values: ["a", "", "2"] });
    expect(allValues({ a: 1 })).toEqual({ values: [], notAValue: "object" });
    expect(allValues(["a", { b: 1 }])).toEqual({ values: [], notAValue: "objectList" });
  });
});
