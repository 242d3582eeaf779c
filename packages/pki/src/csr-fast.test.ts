// The fast CSR path (strict DER reader + node:crypto) must decide exactly as the original path
// (@peculiar/x509 + WebCrypto, kept as parseCsrDer): same result, or the same PkiError.
import { randomInt } from "node:crypto";
import { describe, expect, it } from "vitest";
import { checkPublicKey, parseCsr, parseCsrDer } from "./csr";
import { makeCsr, openssl, scratch } from "./testing";
import { PkiError } from "@attested/errors";

async function outcome(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    return { ok: await fn() };
  } catch (e) {
    if (e instanceof PkiError) return { code: e.code, message: e.message, field: e.field };
    return { thrown: String(e) };
  }
}

const same = async (der: Buffer) => {
  const fast = await outcome(() => parseCsr(der));
  const reference = await outcome(() => parseCsrDer(new Uint8Array(der)));
  expect(fast, der.toString("base64")).toEqual(reference);
  return fast as { ok?: unknown; code?: string };
};

function opensslCsrs(): Buffer[] {
  const s = scratch();
  const out: Buffer[] = [];
  const req = (args: string[]) => {
    const r = openssl(["req", "-new", "-nodes", "-keyout", s.path("k.pem"), "-outform", "DER", "-out", s.path("r.der"), ...args]);
    expect(r.status, r.stderr).toBe(0);
    out.push(Buffer.from(openssl(["base64", "-A", "-in", s.path("r.der")]).stdout, "base64"));
  };
  try {
    const san = "subjectAltName=email:jane@example.com,DNS:jane.example.com,URI:urn:uuid:1234,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:jane@corp.example";
    req(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-subj", "/CN=F4GXK2Q1N72J/O=Acme/OU=Eng/OU=Wi-Fi", "-addext", san]);
    req([
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-384",
      "-sha384",
      "-subj",
      "/CN=Zoë Ünïcode/emailAddress=z@example.com/DC=corp/C=DE/ST=Bayern/serialNumber=42",
      "-utf8",
      "-addext",
      san,
      "-addext",
      "keyUsage=critical,digitalSignature",
      "-addext",
      "extendedKeyUsage=clientAuth",
    ]);
    req([
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-521",
      "-sha512",
      "-subj",
      "/CN=a+OU=multi/O=x",
      "-addext",
      "subjectAltName=IP:10.0.0.1,DNS:x.example",
    ]);
    req(["-newkey", "rsa:2048", "-subj", "/CN=rsa/title=Dr/givenName=G/initials=I/surname=S/2.5.4.65=pseudo", "-addext", "basicConstraints=CA:FALSE"]);
    req(["-newkey", "rsa:2048", "-sha1", "-subj", "/CN=sha1"]);
    req(["-newkey", "rsa:2048", "-sigopt", "rsa_padding_mode:pss", "-subj", "/CN=pss"]);
    req(["-newkey", "rsa:1024", "-subj", "/CN=weak"]);
    req(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp256k1", "-subj", "/CN=k1"]);
    req(["-newkey", "ed25519", "-subj", "/CN=ed"]);
    req(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-subj", "/CN=pw", "-addext", "subjectAltName=DNS:a.example"]);
    req(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-subj", "/"]);
    req([
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-subj",
      "/CN=two sans",
      "-addext",
      "subjectAltName=DNS:a.example",
      "-addext",
      "issuerAltName=DNS:b.example",
    ]);
    req(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-pkeyopt", "ec_param_enc:explicit", "-subj", "/CN=explicit"]);
  } finally {
    s.cleanup();
  }
  return out;
}

describe("parseCsr fast path", () => {
  it("decides as parseCsrDer for OpenSSL CSRs of every shape (keys, hashes, names, extensions)", async () => {
    const csrs = opensslCsrs();
    const codes = [];
    for (const der of csrs) codes.push((await same(der)).code ?? "ok");
    expect(codes).toEqual(["ok", "ok", "ok", "ok", "ok", "ok", "badPublicKey", "badPublicKey", "badPublicKey", "ok", "ok", "ok", "badPublicKey"]);
  });

  it("decides as parseCsrDer for WebCrypto CSRs (RSA, EC)", async () => {
    for (const alg of ["EC-P256", "EC-P384", "RSA-2048"] as const) await same((await makeCsr(alg)).der);
  });

  it("decides as parseCsrDer for every single-byte corruption of a CSR (sampled)", async () => {
    const [p256, , , rsa] = opensslCsrs();
    for (const base of [p256!, rsa!]) {
      for (let i = 0; i < 150; i++) {
        const der = Buffer.from(base);
        const at = randomInt(der.length);
        der[at] = i % 3 === 0 ? der[at]! ^ (1 << randomInt(8)) : randomInt(256);
        await same(der);
      }
      // and truncations
      for (const cut of [1, 2, 10, base.length >> 1]) await same(base.subarray(0, base.length - cut));
    }
  }, 120_000);

  it("checkPublicKey reads DER and BER-ish keys as before", async () => {
    const { spki } = await makeCsr("EC-P256");
    expect(await checkPublicKey(spki)).toMatchObject({ type: "EC", description: "EC P-256" });
    expect((await checkPublicKey(spki)).spki.equals(spki)).toBe(true);
    // a long-form length the strict reader refuses: the asn1-schema path normalizes it as it always did
    const ber = Buffer.concat([Buffer.from([0x30, 0x81, spki[1]!]), spki.subarray(2)]);
    expect((await checkPublicKey(ber)).spki.equals(spki)).toBe(true);
  });
});
