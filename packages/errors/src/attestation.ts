/**
 * Why an attestation was refused: the typed code of an AttestationError. The ACME server turns every
 * AttestationError into a `urn:ietf:params:acme:error:badAttestationStatement` problem with this code
 * as its `reason` member (draft-ietf-acme-device-attest).
 */
export type AttestationFailureReason =
  | "tooLarge" // over the size, nesting or item limits (checked before decoding)
  | "malformedCbor" // not well-formed CBOR, or not the WebAuthn-style {fmt, attStmt, authData?} map
  | "unsupportedFormat" // fmt is not "apple"
  | "missingChain" // attStmt.x5c absent or empty
  | "chainInvalid" // unparsable certificate, bad signature, broken chaining, untrusted root
  | "chainExpired" // a certificate of the path is past notAfter at `now`
  | "chainNotYetValid" // a certificate of the path is before notBefore at `now`
  | "malformedExtension" // an Apple extension is not in the documented shape (or is repeated)
  | "nonceMissing" // no freshness code (1.2.840.113635.100.8.11.1)
  | "nonceMismatch" // freshness code is not SHA-256 of the challenge token
  | "identifierMismatch"; // the order's identifier is neither the attested serial nor UDID

export class AttestationError extends Error {
  override readonly name = "AttestationError";
  constructor(
    readonly reason: AttestationFailureReason,
    message: string,
    /** What only administrators see (the Attestation Failed event), e.g. the portal's configuration; the device gets `message`. */
    readonly adminDetail?: string,
  ) {
    super(message);
  }
}

export function isAttestationError(e: unknown): e is AttestationError {
  return e instanceof AttestationError;
}
