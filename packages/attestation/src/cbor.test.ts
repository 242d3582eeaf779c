import { Encoder } from "cbor-x";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AttestationError } from "@attested/errors";
import { DEFAULT_CBOR_LIMITS, decodeAttestationObject, scanCbor } from "./index";

const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false, variableMapSize: true });
const enc = (v: unknown) => new Uint8Array(encoder.encode(v));
const hex = (h: string) => Buffer.from(h.replace(/\s+/g, ""), "hex");

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof AttestationError) return e.reason;
    throw e;
  }
  throw new Error("expected an AttestationError");
}

describe("decodeAttestationObject", () => {
  const cert1 = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]);
  const cert2 = Buffer.from([0x30, 0x00]);

  it("decodes {fmt, attStmt:{x5c}} without authData", () => {
    const o = decodeAttestationObject(enc({ fmt: "apple", attStmt: { x5c: [cert1, cert2] } }));
    expect(o.fmt).toBe("apple");
    expect(o.attStmt.x5c.map((b) => b.toString("hex"))).toEqual([cert1.toString("hex"), cert2.toString("hex")]);
    expect(o.authData).toBeUndefined();
  });

  it("keeps authData when present and ignores unknown fields", () => {
    const o = decodeAttestationObject(enc({ fmt: "apple", attStmt: { x5c: [cert1], other: 1 }, authData: Buffer.alloc(37, 7), extra: "x" }));
    expect(o.authData?.length).toBe(37);
  });

  it("rejects other formats, missing or empty x5c, and wrong shapes", () => {
    expect(reason(() => decodeAttestationObject(enc({ fmt: "packed", attStmt: { x5c: [cert1] } })))).toBe("unsupportedFormat");
    expect(reason(() => decodeAttestationObject(enc({ fmt: "apple", attStmt: {} })))).toBe("missingChain");
    expect(reason(() => decodeAttestationObject(enc({ fmt: "apple", attStmt: { x5c: [] } })))).toBe("missingChain");
    expect(reason(() => decodeAttestationObject(enc({ fmt: "apple", attStmt: { x5c: ["text"] } })))).toBe("malformedCbor");
    expect(reason(() => decodeAttestationObject(enc({ fmt: "apple" })))).toBe("malformedCbor");
    expect(reason(() => decodeAttestationObject(enc({ attStmt: { x5c: [cert1] } })))).toBe("malformedCbor");
    expect(reason(() => decodeAttestationObject(enc([1, 2, 3])))).toBe("malformedCbor");
    expect(reason(() => decodeAttestationObject(enc({ fmt: "apple", attStmt: { x5c: [cert1] }, authData: 5 })))).toBe("malformedCbor");
  });

  it("rejects truncated input, trailing bytes, and empty input", () => {
    const good = enc({ fmt: "apple", attStmt: { x5c: [cert1] } });
    expect(reason(() => decodeAttestationObject(good.subarray(0, good.length - 1)))).toBe("malformedCbor");
    expect(reason(() => decodeAttestationObject(Buffer.concat([good, Buffer.from([0])])))).toBe("malformedCbor");
    expect(reason(() => decodeAttestationObject(new Uint8Array()))).toBe("malformedCbor");
  });

  it("rejects input over the size limit before decoding", () => {
    const big = enc({ fmt: "apple", attStmt: { x5c: [Buffer.alloc(DEFAULT_CBOR_LIMITS.maxBytes)] } });
    expect(reason(() => decodeAttestationObject(big))).toBe("tooLarge");
  });

  it("rejects CBOR bombs cheaply", () => {
    // byte string declaring 2^64-1 bytes
    expect(reason(() => scanCbor(hex("5b ffffffffffffffff 00")))).toBe("malformedCbor");
    // byte string declaring 4 GiB
    expect(reason(() => scanCbor(hex("5a ffffffff 00")))).toBe("malformedCbor");
    // array declaring 2^32-1 entries
    expect(reason(() => scanCbor(hex("9a ffffffff 00")))).toBe("tooLarge");
    // map declaring 40 entries but only 2 bytes follow
    expect(reason(() => scanCbor(hex("b8 28 0000")))).toBe("malformedCbor");
    // 100,000 nested arrays: rejected at the depth limit, not by a stack overflow
    const deep = Buffer.alloc(100_000, 0x81);
    const t0 = performance.now();
    expect(reason(() => scanCbor(deep))).toBe("tooLarge");
    expect(reason(() => scanCbor(Buffer.alloc(60_000, 0x81)))).toBe("tooLarge");
    expect(performance.now() - t0).toBeLessThan(200);
    // 2,000 items in small arrays stays under the collection limit but not the item limit
    const many = enc({ a: Array.from({ length: 40 }, () => Array.from({ length: 60 }, () => 0)) });
    expect(reason(() => scanCbor(many))).toBe("tooLarge");
  });

  it("rejects indefinite lengths, tags, reserved values and duplicate keys", () => {
    expect(reason(() => scanCbor(hex("9f 01 ff")))).toBe("malformedCbor");
    expect(reason(() => scanCbor(hex("5f 41 00 ff")))).toBe("malformedCbor");
    expect(reason(() => scanCbor(hex("c2 41 01")))).toBe("malformedCbor"); // tag 2 (bignum)
    expect(reason(() => scanCbor(hex("d8 1c 01")))).toBe("malformedCbor"); // tag 28 (shared value)
    expect(reason(() => scanCbor(hex("1c")))).toBe("malformedCbor");
    expect(reason(() => scanCbor(hex("ff")))).toBe("malformedCbor");
    expect(reason(() => scanCbor(hex("f8 10")))).toBe("malformedCbor");
    expect(reason(() => scanCbor(hex("62 c3 28")))).toBe("malformedCbor"); // invalid UTF-8
    // {"fmt": "apple", "fmt": "packed"}, the second key with a non-minimal length head
    expect(reason(() => scanCbor(hex("a2 63 666d74 65 6170706c65 78 03 666d74 66 7061636b6564")))).toBe("malformedCbor");
  });

  it("accepts the value kinds a WebAuthn object may hold", () => {
    expect(() => scanCbor(hex("a6 61 61 00 61 62 3903e7 61 63 f5 61 64 f6 61 65 fb 3ff0000000000000 61 66 f9 3c00"))).not.toThrow();
  });

  it("never fails with anything but AttestationError on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        try {
          decodeAttestationObject(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(AttestationError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("never fails with anything but AttestationError on mutated attestation objects", () => {
    const good = enc({ fmt: "apple", attStmt: { x5c: [cert1, cert2] }, authData: Buffer.alloc(4) });
    fc.assert(
      fc.property(fc.nat(good.length - 1), fc.nat(255), (i, v) => {
        const b = Buffer.from(good);
        b[i] = v;
        try {
          decodeAttestationObject(b);
        } catch (e) {
          expect(e).toBeInstanceOf(AttestationError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
