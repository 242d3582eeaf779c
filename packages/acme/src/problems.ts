// ACME problem documents (RFC 8555 §6.7, RFC 7807), all in one place as in Pebble/Boulder.
import { AttestationError } from "@attested/errors";

export const ACME_ERROR_PREFIX = "urn:ietf:params:acme:error:";

/** Every ACME error type: RFC 8555 §6.7 plus badAttestationStatement (draft-ietf-acme-device-attest). */
export const PROBLEM_TYPES = {
  accountDoesNotExist: 400,
  alreadyRevoked: 400,
  badAttestationStatement: 400,
  badCSR: 400,
  badNonce: 400,
  badPublicKey: 400,
  badRevocationReason: 400,
  badSignatureAlgorithm: 400,
  caa: 403,
  compound: 403,
  connection: 400,
  dns: 400,
  externalAccountRequired: 403,
  incorrectResponse: 403,
  invalidContact: 400,
  malformed: 400,
  orderNotReady: 403,
  rateLimited: 429,
  rejectedIdentifier: 400,
  serverInternal: 500,
  tls: 400,
  unauthorized: 403,
  unsupportedContact: 400,
  unsupportedIdentifier: 400,
  userActionRequired: 403,
} as const satisfies Record<string, number>;

export type ProblemType = keyof typeof PROBLEM_TYPES;

export interface ProblemIdentifier {
  type: string;
  value: string;
}

/** The JSON form of a problem, as sent and as stored on orders and challenges. */
export interface ProblemDocument {
  type: string;
  detail: string;
  status: number;
  identifier?: ProblemIdentifier;
  subproblems?: ProblemDocument[];
  /** badSignatureAlgorithm: the algorithms the server accepts (RFC 8555 §6.2). */
  algorithms?: string[];
  [extension: string]: unknown;
}

export interface ProblemOptions {
  status?: number;
  identifier?: ProblemIdentifier;
  subproblems?: AcmeProblem[];
  /** Extension members (e.g. `algorithms`, `reason`). */
  extra?: Record<string, unknown>;
  /** Response headers that belong to this error (e.g. Location on a keyChange conflict, Allow on 405). */
  headers?: Record<string, string>;
}

/** An error that is meant to reach the client as a problem document. */
export class AcmeProblem extends Error {
  readonly type: ProblemType;
  readonly status: number;
  readonly identifier?: ProblemIdentifier;
  readonly subproblems?: AcmeProblem[];
  readonly extra?: Record<string, unknown>;
  readonly headers?: Record<string, string>;

  constructor(type: ProblemType, detail: string, opts: ProblemOptions = {}) {
    super(detail);
    this.name = "AcmeProblem";
    this.type = type;
    this.status = opts.status ?? PROBLEM_TYPES[type];
    this.identifier = opts.identifier;
    this.subproblems = opts.subproblems;
    this.extra = opts.extra;
    this.headers = opts.headers;
  }

  get detail(): string {
    return this.message;
  }

  get urn(): string {
    return ACME_ERROR_PREFIX + this.type;
  }

  toJSON(): ProblemDocument {
    const doc: ProblemDocument = { ...(this.extra ?? {}), type: this.urn, detail: this.message, status: this.status };
    if (this.identifier) doc.identifier = { type: this.identifier.type, value: this.identifier.value };
    if (this.subproblems?.length) doc.subproblems = this.subproblems.map((p) => p.toJSON());
    return doc;
  }

  /** Rebuilds a problem from its stored JSON form (order/challenge `error` columns). */
  static fromJSON(doc: unknown): AcmeProblem | null {
    if (!doc || typeof doc !== "object") return null;
    const d = doc as Record<string, unknown>;
    if (typeof d.type !== "string" || !d.type.startsWith(ACME_ERROR_PREFIX)) return null;
    const type = d.type.slice(ACME_ERROR_PREFIX.length);
    if (!isProblemType(type)) return null;
    const { type: _t, detail, status, identifier, subproblems, ...extra } = d;
    return new AcmeProblem(type, typeof detail === "string" ? detail : "", {
      status: typeof status === "number" ? status : undefined,
      identifier: isIdentifier(identifier) ? identifier : undefined,
      subproblems: Array.isArray(subproblems) ? subproblems.map((s) => AcmeProblem.fromJSON(s)).filter((s): s is AcmeProblem => s !== null) : undefined,
      extra: Object.keys(extra).length ? extra : undefined,
    });
  }
}

export function isProblemType(t: string): t is ProblemType {
  return Object.hasOwn(PROBLEM_TYPES, t);
}

function isIdentifier(v: unknown): v is ProblemIdentifier {
  return !!v && typeof v === "object" && typeof (v as ProblemIdentifier).type === "string" && typeof (v as ProblemIdentifier).value === "string";
}

/** Shorthand constructors, e.g. `problem.malformed("...")`. */
export const problem = Object.fromEntries(
  (Object.keys(PROBLEM_TYPES) as ProblemType[]).map((t) => [t, (detail: string, opts?: ProblemOptions) => new AcmeProblem(t, detail, opts)]),
) as { [K in ProblemType]: (detail: string, opts?: ProblemOptions) => AcmeProblem };

/** HTTP-level failures that RFC 8555 has no own type for are reported as `malformed` with their status. */
export const httpProblem = {
  notFound: (detail = "Resource not found") => new AcmeProblem("malformed", detail, { status: 404 }),
  methodNotAllowed: (allow: string[]) =>
    new AcmeProblem("malformed", `Method not allowed; use ${allow.join(", ")}`, {
      status: 405,
      headers: { Allow: allow.join(", ") },
    }),
  payloadTooLarge: (limit: number) => new AcmeProblem("malformed", `Request body exceeds ${limit} bytes`, { status: 413 }),
  unsupportedMediaType: () => new AcmeProblem("malformed", 'Content-Type must be "application/jose+json"', { status: 415 }),
  /** The server cannot answer for a moment (its database is unreachable or restarting, or a device's MDM is down). */
  unavailable: (retryAfterSeconds = 1) =>
    new AcmeProblem("serverInternal", "The server is temporarily unavailable; retry after the time in Retry-After", {
      status: 503,
      headers: { "Retry-After": String(retryAfterSeconds) },
    }),
  /** A deactivated account (RFC 8555 §7.3.6 asks for 401 here). */
  deactivatedAccount: () => new AcmeProblem("unauthorized", "Account is deactivated", { status: 401 }),
};

/** Text from a device or a validator in a problem's detail: printable, at most `max` characters. */
export function printable(s: string, max = 300): string {
  const cleaned = s.replace(/[\u0000-\u001f\u007f]/g, " ").trim();
  return cleaned.length > max ? `${cleaned.slice(0, max)}…` : cleaned;
}

/** A refused attestation: badAttestationStatement (draft-ietf-acme-device-attest), its code as `reason`. */
export function attestationProblem(e: AttestationError): AcmeProblem {
  const msg = e.message && e.message !== e.reason ? `${e.reason}: ${e.message}` : e.reason;
  return problem.badAttestationStatement(printable(msg, 500), { extra: { reason: e.reason } });
}

/**
 * The one conversion of an error into what the ACME client sees. A refused attestation is a
 * badAttestationStatement; anything else that is not an AcmeProblem becomes a bare serverInternal: no
 * message, no stack. An error the server's storage says is passing (its database restarting) is 503
 * with Retry-After (RFC 9110 §15.6.4), so clients know to come back rather than give up.
 */
export function toProblem(err: unknown, unavailable = false): AcmeProblem {
  if (err instanceof AcmeProblem) return err;
  if (err instanceof AttestationError) return attestationProblem(err);
  if (unavailable) return httpProblem.unavailable();
  return new AcmeProblem("serverInternal", "The server encountered an internal error");
}

export const PROBLEM_CONTENT_TYPE = "application/problem+json";
