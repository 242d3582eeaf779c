import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueCertificate, type IssuedCertificate } from "./issue";
import { buildOcspResponse, matchesIssuer, ocspErrorResponse, parseOcspRequest, type OcspEntry } from "./ocsp";
import { AsnConvert } from "@peculiar/asn1-schema";
import { OCSPRequest } from "@peculiar/asn1-ocsp";
import { KANDJI_TEMPLATE, URLS, caught, makeCsr, openssl, opensslAsync, scratch, testPki, type TestPki } from "./testing";
import { PkiError } from "@attested/errors";

let pki: TestPki;
let good: IssuedCertificate;
let revoked: IssuedCertificate;
let s: ReturnType<typeof scratch>;
let server: Server;
let url: string;
const revokedAt = new Date(Date.now() - 3_600_000);

/** A minimal responder, as the portal's OCSP route would be: parse, look up, answer. */
function respond(body: Buffer): Promise<Buffer> | Buffer {
  let req: ReturnType<typeof parseOcspRequest>;
  try {
    req = parseOcspRequest(body);
  } catch (e) {
    if (e instanceof PkiError) return ocspErrorResponse("malformedRequest");
    return ocspErrorResponse("internalError");
  }
  const entries: OcspEntry[] = req.requests.map((certId) => {
    if (!matchesIssuer(certId, pki.intermediate.certificatePem)) return { certId, status: "unknown" };
    if (certId.serialNumber === revoked.serialNumber) return { certId, status: "revoked", revokedAt, reason: "keyCompromise" };
    if (certId.serialNumber === good.serialNumber) return { certId, status: "good" };
    return { certId, status: "unknown" };
  });
  const now = new Date();
  return buildOcspResponse({
    responder: pki.intRef,
    keyStore: pki.keyStore,
    entries,
    nonce: req.nonce,
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + 3_600_000),
    now,
  });
}

beforeAll(async () => {
  pki = await testPki();
  const leaf = async () =>
    issueCertificate({ csrDer: (await makeCsr()).der, context: {}, template: KANDJI_TEMPLATE, ca: pki.intRef, keyStore: pki.keyStore, ...URLS });
  good = await leaf();
  revoked = await leaf();
  s = scratch();
  s.file("root.pem", pki.root.certificatePem);
  s.file("int.pem", pki.intermediate.certificatePem);
  s.file("good.pem", good.certificatePem);
  s.file("revoked.pem", revoked.certificatePem);
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      const out = await respond(Buffer.concat(chunks));
      res.writeHead(200, { "content-type": "application/ocsp-response" }).end(out);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ocsp`;
});

afterAll(() => {
  server?.close();
  s?.cleanup();
});

describe("OCSP", () => {
  it("parses requests made by openssl ocsp -reqout and matches them to their issuer", () => {
    for (const hash of ["-sha1", "-sha256"]) {
      const r = openssl([
        "ocsp",
        hash,
        "-issuer",
        s.path("int.pem"),
        "-cert",
        s.path("good.pem"),
        "-cert",
        s.path("revoked.pem"),
        "-reqout",
        s.path("req.der"),
      ]);
      expect(r.status, r.stderr).toBe(0);
      const req = parseOcspRequest(readFileSync(s.path("req.der")));
      expect(req.requests.map((q) => q.serialNumber)).toEqual([good.serialNumber, revoked.serialNumber]);
      expect(req.requests[0].hashAlgorithm).toBe(hash === "-sha1" ? "SHA-1" : "SHA-256");
      expect(req.nonce?.length).toBeGreaterThan(2);
      expect(matchesIssuer(req.requests[0], pki.intermediate.certificatePem)).toBe(true);
      expect(matchesIssuer(req.requests[0], pki.root.certificatePem)).toBe(false);
    }
  });

  it("reads plain requests in place exactly as the generic ASN.1 parser does, and anything else through it", () => {
    // The reference: what the generic parser makes of a request (null when it refuses it).
    const reference = (der: Buffer) => {
      let parsed: OCSPRequest;
      try {
        parsed = AsnConvert.parse(der, OCSPRequest);
      } catch {
        return null;
      }
      const nonce = parsed.tbsRequest.requestExtensions?.find((x) => x.extnID === "1.3.6.1.5.5.7.48.1.2");
      return {
        version: parsed.tbsRequest.version,
        ids: parsed.tbsRequest.requestList.map(({ reqCert: c }) => [
          c.hashAlgorithm.algorithm,
          Buffer.from(c.issuerNameHash.buffer).toString("hex"),
          Buffer.from(c.issuerKeyHash.buffer).toString("hex"),
          Buffer.from(c.serialNumber)
            .toString("hex")
            .replace(/^(00)+(?=.)/, ""),
        ]),
        nonce: nonce && Buffer.from(nonce.extnValue.buffer).toString("hex"),
      };
    };
    const ours = (der: Buffer) => {
      try {
        const r = parseOcspRequest(der);
        return {
          version: 0,
          ids: r.requests.map((c) => [c.hashAlgorithmOid, c.issuerNameHash, c.issuerKeyHash, c.serialNumber]),
          nonce: r.nonce?.toString("hex"),
        };
      } catch (e) {
        expect(e).toBeInstanceOf(PkiError);
        return null;
      }
    };
    const requests: Buffer[] = [];
    for (const args of [["-sha1"], ["-sha256"], ["-sha1", "-no_nonce"], ["-sha384", "-no_nonce"]]) {
      for (const certs of [["good.pem"], ["good.pem", "revoked.pem"]]) {
        const r = openssl(["ocsp", ...args, "-issuer", s.path("int.pem"), ...certs.flatMap((c) => ["-cert", s.path(c)]), "-reqout", s.path("eq.der")]);
        expect(r.status, r.stderr).toBe(0);
        requests.push(readFileSync(s.path("eq.der")));
      }
    }
    let corrupted = 0;
    for (const der of requests) {
      expect(ours(der)).toEqual(reference(der));
      // Every byte flipped in turn: the same verdict and the same fields, whichever path read it.
      for (let i = 0; i < der.length; i++) {
        const bad = Buffer.from(der);
        bad[i] ^= 0x41;
        const want = reference(bad);
        const got = ours(bad);
        if (
          want === null ||
          want.version !== 0 ||
          want.ids.length === 0 ||
          want.ids.some((c) => c[3] === "") ||
          (want.nonce !== undefined && (want.nonce.length === 0 || want.nonce.length > 256))
        )
          expect(got).toBeNull();
        else expect(got).toEqual({ ...want, version: 0 });
        corrupted++;
      }
    }
    expect(corrupted).toBeGreaterThan(500);
  });

  it("answers openssl ocsp -url: good, revoked with reason, nonce echoed, signature verified", async () => {
    const r = await opensslAsync([
      "ocsp",
      "-issuer",
      s.path("int.pem"),
      "-cert",
      s.path("good.pem"),
      "-cert",
      s.path("revoked.pem"),
      "-CAfile",
      s.path("root.pem"),
      "-url",
      url,
    ]);
    const out = r.stdout + r.stderr;
    expect(r.status, out).toBe(0);
    expect(out).toContain("Response verify OK");
    expect(out).toContain(`${s.path("good.pem")}: good`);
    expect(out).toContain(`${s.path("revoked.pem")}: revoked`);
    expect(out).toContain("Reason: keyCompromise");
    expect(out).not.toMatch(/nonce/i); // OpenSSL warns when the nonce is missing or differs
  });

  it("says unknown for certificates it does not know, and builds byKey responder IDs", async () => {
    const stranger = await issueCertificate({
      csrDer: (await makeCsr()).der,
      context: {},
      template: KANDJI_TEMPLATE,
      ca: pki.intRef,
      keyStore: pki.keyStore,
      ...URLS,
    });
    const r = await opensslAsync([
      "ocsp",
      "-issuer",
      s.path("int.pem"),
      "-cert",
      s.file("stranger.pem", stranger.certificatePem),
      "-CAfile",
      s.path("root.pem"),
      "-url",
      url,
      "-resp_text",
    ]);
    expect(r.stdout).toContain("stranger.pem: unknown");
    expect(r.stdout).toMatch(/Responder Id: [0-9A-F]{40}/);
    expect(r.stderr).toContain("Response verify OK");
  });

  it("builds error responses OpenSSL understands", () => {
    const r = openssl(["ocsp", "-respin", s.file("err.der", ocspErrorResponse("malformedRequest")), "-resp_text", "-noverify"]);
    expect(r.stdout + r.stderr).toMatch(/malformedrequest \(1\)/i);
    expect(ocspErrorResponse("unauthorized").equals(Buffer.from("30030a0106", "hex"))).toBe(true);
  });

  it("rejects malformed requests with a typed error", () => {
    for (const bad of [Buffer.alloc(0), Buffer.from("not der"), Buffer.from("3000", "hex"), Buffer.from("300530030201ff", "hex")]) {
      expect(() => parseOcspRequest(bad)).toThrow(PkiError);
      try {
        parseOcspRequest(bad);
      } catch (e) {
        expect(e).toMatchObject({ code: "badOcspRequest", field: "request" });
      }
    }
  });

  it("never vouches for another issuer's certificate", async () => {
    const r = openssl(["ocsp", "-issuer", s.path("root.pem"), "-cert", s.path("int.pem"), "-reqout", s.path("root-req.der")]);
    expect(r.status).toBe(0);
    const [certId] = parseOcspRequest(readFileSync(s.path("root-req.der"))).requests;
    const now = new Date();
    const e = await caught(() =>
      buildOcspResponse({
        responder: pki.intRef,
        keyStore: pki.keyStore,
        entries: [{ certId, status: "good" }],
        thisUpdate: now,
        nextUpdate: new Date(now.getTime() + 60_000),
        now,
      }),
    );
    expect(e).toMatchObject({ code: "invalidInput", field: "entries.0.certId" });
  });
});
