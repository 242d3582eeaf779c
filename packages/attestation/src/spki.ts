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
 * CSR's key at finalize, SPEC §4). Compares the keys, so an EC point sent compressed in one and
 * uncompressed in the other still matches; unparsable input never matches.
 */
export function samePublicKey(a: Uint8Array, b: Uint8Array): boolean {
  // The usual case, the same encoding: one parse (still refusing what does not parse).
  if (Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)) return normalize(a) !== null;
  const ka = normalize(a);
  const kb = normalize(b);
  return ka !== null && kb !== null && ka.equals(kb);
}
