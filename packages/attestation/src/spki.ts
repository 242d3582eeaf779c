import { createPublicKey, type KeyObject } from "node:crypto";

function normalize(spki: Uint8Array): KeyObject | null {
  try {
    return createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
  } catch {
    return null;
  }
}

/**
 * True when two SubjectPublicKeyInfo DER blobs hold the same public key (e.g. the attested key and the
 * CSR's key at finalize, docs/protocol.md#identifier-and-key-binding). Compares the keys, so an EC point sent compressed in one and
 * uncompressed in the other still matches; unparsable input never matches. `aParsed`: `a` is known to
 * be a valid key (a CSR's key, which verified its signature), so identical bytes match without a parse.
 */
export function samePublicKey(a: Uint8Array, b: Uint8Array, opts: { aParsed?: boolean } = {}): boolean {
  // The usual case, the same encoding: at most one parse (still refusing what does not parse).
  if (Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)) return opts.aParsed === true || normalize(a) !== null;
  const ka = normalize(a);
  const kb = normalize(b);
  return ka !== null && kb !== null && ka.equals(kb);
}
