/** Why a PKI operation refused its input. The portal maps `field` to a form field, the ACME server to a problem type. */
export const PKI_ERROR_CODES = [
  "invalidInput", // a parameter failed validation (see `field`)
  "unsupportedAlgorithm", // key or signature algorithm we do not offer
  "badCSR", // the PKCS#10 request is malformed or its signature does not verify
  "badPublicKey", // weak or unknown key in a CSR
  "publicKeyMismatch", // CSR key is not the attested key
  "templateRender", // the certificate template did not render to a valid subject / SAN
  "caExpired", // the issuing CA is expired or not yet valid
  "badCaCertificate", // the CA certificate given cannot issue (not a CA, unparsable)
  "caKeyMismatch", // the CA key in the key store does not belong to the CA certificate
  "keyNotFound", // no such key in the key store
  "keyUnavailable", // the key exists but cannot be unsealed (wrong master key, tampered)
  "keyStoreUnavailable", // the key store cannot do it now (HSM token missing, locked or refusing): retry later
  "badOcspRequest", // malformed OCSP request
] as const;
export type PkiErrorCode = (typeof PKI_ERROR_CODES)[number];

export interface PkiFieldError {
  field: string;
  message: string;
}

// Next.js bundles its own copy of every package: a PkiError thrown by the server's copy (its key store,
// say) must still be one for `instanceof` in Next's route handlers and actions.
const BRAND = Symbol.for("attested.PkiError");

export class PkiError extends Error {
  override name = "PkiError";
  readonly [BRAND] = true;
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as { [BRAND]?: boolean })[BRAND] === true;
  }
  constructor(
    readonly code: PkiErrorCode,
    message: string,
    readonly field?: string,
    /** Every field error when there are several (template rendering, form validation). */
    readonly errors?: PkiFieldError[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isPkiError = (e: unknown): e is PkiError => e instanceof PkiError;

/** Builds an `invalidInput` error from zod issues, naming the first failing field. */
export function invalidInput(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): PkiError {
  const errors = issues.map((i) => ({ field: i.path.map(String).join(".") || "input", message: i.message }));
  const first = errors[0] ?? { field: "input", message: "Invalid input" };
  return new PkiError("invalidInput", first.message, first.field, errors);
}
