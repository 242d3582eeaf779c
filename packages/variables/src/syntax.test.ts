import { describe, expect, it } from "vitest";
import { parseVariables, type PathPart } from "./syntax";

const TEMPLATE = { join: true, roots: ["csr", "device", "attestation", "account", "platform"], minSegments: 2 } as const;
const HTTP = { identity: true } as const;
const paths = (text: string, options = {}) => parseVariables(text, options).parts.filter((p): p is PathPart => p.kind === "path");

describe("parseVariables", () => {
  it("splits text and variables, keeping the text as is", () => {
    const r = parseVariables("urn:x:${/attestation/serialNumber}-${ /device/groups |join: / }!", TEMPLATE);
    expect(r.problems).toEqual([]);
    expect(r.parts.map((p) => p.kind)).toEqual(["text", "path", "text", "path", "text"]);
    const [serial, groups] = paths("urn:x:${/attestation/serialNumber}-${ /device/groups |join: / }!", TEMPLATE);
    expect(serial).toMatchObject({ raw: "${/attestation/serialNumber}", name: "/attestation/serialNumber" });
    expect(serial.join).toBeUndefined();
    expect(serial.path.segments).toEqual(["attestation", "serialNumber"]);
    expect(serial.path.keys).toEqual(["attestation", "serialnumber"]);
    expect(groups).toMatchObject({ name: "/device/groups", join: " / " });
    expect(parseVariables("no variables", TEMPLATE).parts).toEqual([{ kind: "text", text: "no variables" }]);
    expect(parseVariables("", TEMPLATE)).toEqual({ parts: [], problems: [] });
  });

  it("knows ${identity} only where the caller allows it", () => {
    expect(parseVariables("a ${ identity } b", HTTP).parts).toEqual([
      { kind: "text", text: "a " },
      { kind: "identity", raw: "${ identity }" },
      { kind: "text", text: " b" },
    ]);
    expect(parseVariables("${identity}", TEMPLATE).problems).toEqual([{ kind: "notAVariable", raw: "${identity}", name: "identity" }]);
  });

  it("reports every problem and goes on after each, but stops at an unclosed ${", () => {
    const r = parseVariables("${csr/x} ${/foo/bar} ${/csr/x|upper} ${/csr} ${/csr/ok} ${/csr/subject/cn", TEMPLATE);
    expect(r.problems).toEqual([
      { kind: "notAVariable", raw: "${csr/x}", name: "csr/x" },
      { kind: "unknownRoot", raw: "${/foo/bar}", name: "/foo/bar", root: "foo" },
      { kind: "badModifier", raw: "${/csr/x|upper}", name: "/csr/x" },
      { kind: "notAVariable", raw: "${/csr}", name: "/csr" },
      { kind: "unclosed", position: 57 },
    ]);
    expect(paths("${/csr/ok} ${/csr/subject/cn", TEMPLATE).map((p) => p.name)).toEqual(["/csr/ok"]);
  });

  it("refuses a modifier where the caller has none, as part of the name", () => {
    expect(parseVariables("${/csr/x|join:,}", HTTP).problems).toEqual([{ kind: "notAVariable", raw: "${/csr/x|join:,}", name: "/csr/x|join:," }]);
  });

  it("matches roots case-insensitively and accepts one-segment paths unless told otherwise", () => {
    expect(parseVariables("${/CSR/Subject/CN}", TEMPLATE).problems).toEqual([]);
    expect(parseVariables("${/toString}", HTTP).problems).toEqual([]);
    expect(parseVariables("${/a/b/c}", { maxSegments: 2 }).problems).toEqual([{ kind: "notAVariable", raw: "${/a/b/c}", name: "/a/b/c" }]);
  });

  it("refuses prototype keys in any case", () => {
    for (const bad of ["__proto__", "prototype", "constructor", "Constructor", "__PROTO__"]) {
      expect(parseVariables(`\${/device/${bad}/x}`, HTTP).problems).toEqual([
        { kind: "forbidden", raw: `\${/device/${bad}/x}`, name: `/device/${bad}/x`, segment: bad },
      ]);
    }
  });

  it("refuses empty segments, NUL, spaces and other characters inside a path", () => {
    for (const name of ["/a//b", "/a/", "/", "/a\u0000b", "/a b", "/a/b\nc", "/a/${b", "/a/é"]) {
      expect(parseVariables(`\${${name}}`, HTTP).problems[0]?.kind).toMatch(/notAVariable|unclosed/);
    }
    // NUL in the literal text is the caller's business: it is kept as text.
    expect(parseVariables("a\u0000${/x}", HTTP).parts[0]).toEqual({ kind: "text", text: "a\u0000" });
  });

  it("parses a text once per options object, and shares the result frozen", () => {
    const a = parseVariables("CN=${/csr/subject/commonname}", TEMPLATE);
    expect(parseVariables("CN=${/csr/subject/commonname}", TEMPLATE)).toBe(a);
    expect(Object.isFrozen(a.parts) && Object.isFrozen(a.parts[1])).toBe(true);
    expect(() => (a.parts as unknown[]).push(1)).toThrow(TypeError);
    // Other options, other rules: ${identity} is a variable for Generic HTTP only.
    expect(parseVariables("${identity}", HTTP).problems).toEqual([]);
    expect(parseVariables("${identity}", TEMPLATE).problems).toHaveLength(1);
    expect(parseVariables("${identity}", { ...HTTP })).toEqual(parseVariables("${identity}", HTTP));
  });

  it("is linear in the size of the text", () => {
    const many = "x${/attestation/serialNumber}".repeat(50_000);
    let t = performance.now();
    expect(paths(many, TEMPLATE)).toHaveLength(50_000);
    expect(performance.now() - t).toBeLessThan(2000);
    // Worst cases for a naive scanner: many openers without a closer, a huge body, many `$` and `{`.
    for (const text of ["${".repeat(200_000), `\${/${"a".repeat(1_000_000)}`, "$".repeat(1_000_000) + "{".repeat(1_000_000), `\${/a${"/a".repeat(200_000)}}`]) {
      t = performance.now();
      const r = parseVariables(text, TEMPLATE);
      expect(r.problems.length).toBeLessThanOrEqual(1);
      expect(performance.now() - t).toBeLessThan(2000);
    }
  });
});
