import { describe, expect, it } from "vitest";
import { compilePath, parsePath } from "./path";

describe("parsePath", () => {
  const IDENTITY = { roots: ["attestation", "csr", "account", "platform"], minSegments: 2, maxSegments: 6 };

  it("accepts /root/key/... with letters, digits and _ . @ -", () => {
    const r = parsePath("/csr/subject/2.5.4.3", IDENTITY);
    expect(r.ok && r.path.segments).toEqual(["csr", "subject", "2.5.4.3"]);
    expect(parsePath("/CSR/san/rfc822name", IDENTITY).ok).toBe(true);
    expect(parsePath("/account/contact/user@x-y_z", IDENTITY).ok).toBe(true);
  });

  it("refuses bad syntax, prototype keys and other roots, in that order", () => {
    for (const text of ["csr/subject", "/csr", "/a/b/c/d/e/f/g", "/csr//x", "/csr/x/", " /csr/x", "/csr/x y", "/csr/\u0000", ""]) {
      expect(parsePath(text, IDENTITY), JSON.stringify(text)).toEqual({ ok: false, problem: { kind: "syntax" } });
    }
    expect(parsePath("/device/__proto__", IDENTITY)).toEqual({ ok: false, problem: { kind: "forbidden", segment: "__proto__" } });
    expect(parsePath("/csr/Prototype/x", IDENTITY)).toEqual({ ok: false, problem: { kind: "forbidden", segment: "Prototype" } });
    expect(parsePath("/certificate/deviceSerial", IDENTITY)).toEqual({ ok: false, problem: { kind: "unknownRoot", root: "certificate" } });
    expect(parsePath("/anything", {}).ok).toBe(true);
  });
});

describe("compilePath", () => {
  it("lower-cases keys and reads list indexes once", () => {
    expect(compilePath(["Device", "Groups", "10", "x1"])).toEqual({
      segments: ["Device", "Groups", "10", "x1"],
      keys: ["device", "groups", "10", "x1"],
      indexes: [undefined, undefined, 10, undefined],
      forbidden: undefined,
    });
    expect(compilePath(["a", "CONSTRUCTOR"]).forbidden).toBe("CONSTRUCTOR");
    expect(compilePath(["1234567890"]).indexes).toEqual([undefined]); // beyond any list
  });
});
