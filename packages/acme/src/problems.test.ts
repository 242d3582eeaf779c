import { describe, expect, it } from "vitest";
import { AttestationError } from "@attested/errors";
import { AcmeProblem, httpProblem, PROBLEM_TYPES, problem, toProblem } from "./problems";

describe("problem documents", () => {
  it("covers RFC 8555 §6.7 and the device-attest draft with their statuses", () => {
    const expected: Record<string, number> = {
      malformed: 400,
      badNonce: 400,
      badSignatureAlgorithm: 400,
      unauthorized: 403,
      accountDoesNotExist: 400,
      orderNotReady: 403,
      badCSR: 400,
      rejectedIdentifier: 400,
      unsupportedIdentifier: 400,
      badRevocationReason: 400,
      alreadyRevoked: 400,
      serverInternal: 500,
      badAttestationStatement: 400,
      connection: 400,
      dns: 400,
      incorrectResponse: 403,
      rateLimited: 429,
      userActionRequired: 403,
      badPublicKey: 400,
      unsupportedContact: 400,
      invalidContact: 400,
      externalAccountRequired: 403,
      caa: 403,
      tls: 400,
      compound: 403,
    };
    expect(PROBLEM_TYPES).toEqual(expected);
    for (const [t, status] of Object.entries(expected)) {
      const p = problem[t as keyof typeof problem]("x");
      expect(p.toJSON()).toEqual({ type: `urn:ietf:params:acme:error:${t}`, detail: "x", status });
    }
  });

  it("renders identifier, subproblems and extension members; round-trips through JSON", () => {
    const p = new AcmeProblem("compound", "two failed", {
      status: 400,
      subproblems: [
        problem.rejectedIdentifier("bad", { identifier: { type: "dns", value: "a" } }),
        problem.badSignatureAlgorithm("alg", { extra: { algorithms: ["ES256"] } }),
      ],
    });
    const json = p.toJSON();
    expect(json).toEqual({
      type: "urn:ietf:params:acme:error:compound",
      detail: "two failed",
      status: 400,
      subproblems: [
        { type: "urn:ietf:params:acme:error:rejectedIdentifier", detail: "bad", status: 400, identifier: { type: "dns", value: "a" } },
        { type: "urn:ietf:params:acme:error:badSignatureAlgorithm", detail: "alg", status: 400, algorithms: ["ES256"] },
      ],
    });
    expect(AcmeProblem.fromJSON(JSON.parse(JSON.stringify(json)))!.toJSON()).toEqual(json);
    expect(AcmeProblem.fromJSON({ type: "about:blank" })).toBeNull();
    expect(AcmeProblem.fromJSON({ type: "urn:ietf:params:acme:error:nonsense" })).toBeNull();
  });

  it("extension members cannot override type, detail or status", () => {
    const p = problem.malformed("real", { extra: { type: "forged", status: 200, detail: "forged" } });
    expect(p.toJSON()).toMatchObject({ type: "urn:ietf:params:acme:error:malformed", detail: "real", status: 400 });
  });

  it("hides unexpected errors behind serverInternal", () => {
    const p = toProblem(new Error("SELECT * FROM secrets"));
    expect(p.toJSON()).toEqual({
      type: "urn:ietf:params:acme:error:serverInternal",
      detail: "The server encountered an internal error",
      status: 500,
    });
    const known = problem.badNonce("n");
    expect(toProblem(known)).toBe(known);
  });

  it("turns a refused attestation into badAttestationStatement by its code, also while the database is unavailable", () => {
    const e = new AttestationError("nonceMismatch", "freshness code\nis not the token", "admin only");
    const doc = {
      type: "urn:ietf:params:acme:error:badAttestationStatement",
      detail: "nonceMismatch: freshness code is not the token",
      status: 400,
      reason: "nonceMismatch",
    };
    expect(toProblem(e).toJSON()).toEqual(doc);
    expect(toProblem(e, true).toJSON()).toEqual(doc);
    // A plain error with a `reason` is no attestation failure: it stays hidden.
    expect(toProblem(Object.assign(new Error("x"), { reason: "nonceMismatch" })).type).toBe("serverInternal");
  });

  it("HTTP-level problems keep the malformed type with their own status and headers", () => {
    expect(httpProblem.notFound().status).toBe(404);
    expect(httpProblem.methodNotAllowed(["POST"]).headers).toEqual({ Allow: "POST" });
    expect(httpProblem.payloadTooLarge(10).status).toBe(413);
    expect(httpProblem.unsupportedMediaType().status).toBe(415);
    expect(httpProblem.deactivatedAccount().toJSON()).toMatchObject({ status: 401, type: "urn:ietf:params:acme:error:unauthorized" });
  });
});
