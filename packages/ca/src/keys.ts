import { EventType, recordEvent, systemActor, type Actor } from "@attested/events";
import { PkiError } from "@attested/errors";
import { isPkcs11KeyId, pkcs11KeyLabel } from "@attested/pki";
import type { CaContext } from "./context";

// Where a CA's key lives, and the trail of a key store that cannot sign (an HSM token missing, locked
// or refusing): the CA page, the CA Key events and the edges' 503 answers read these.

/** The key store could not do it now: the edges answer 503 with Retry-After (ACME, REST, CRL) or OCSP tryLater. */
export const isKeyStoreUnavailable = (e: unknown): e is PkiError => e instanceof PkiError && e.code === "keyStoreUnavailable";

/** Seconds a client is asked to wait when the HSM cannot sign. */
export const KEY_STORE_RETRY_AFTER_SECONDS = 30;

/** Where a key lives. Named so the trail keeps them: event details under "key…" or "token" names are redacted. */
export interface KeyLocation {
  storage: "pkcs11" | "internal";
  /** The configured token (PKCS11_TOKEN_LABEL or slot), for a key in the HSM. */
  hsm?: string;
  label?: string;
}

export function keyLocation(ctx: Pick<CaContext, "hsm">, keyId: string): KeyLocation {
  if (!isPkcs11KeyId(keyId)) return { storage: "internal" };
  return { storage: "pkcs11", hsm: ctx.hsm?.tokenDescription, label: pkcs11KeyLabel(keyId) };
}

/** What the CA page says: "Internal system (sealed with the master key)" or the HSM's token and label. */
export function describeKeyLocation(location: KeyLocation): string {
  if (location.storage === "internal") return "Internal system (private key sealed with the master key, non-exportable)";
  return `Hardware security module (PKCS#11): key "${location.label}"${location.hsm ? ` in ${location.hsm}` : " (no module configured)"}`;
}

// One "CA Key Unavailable" event per CA and operation a minute: an outage must not flood the trail
// (every OCSP request and enrollment would add one).
const lastRecorded = new Map<string, number>();
const RECORD_EVERY_MS = 60_000;

/** Records a key store failure on the trail (throttled); never throws. */
export async function recordKeyFailure(
  ctx: CaContext,
  ca: { id?: string; commonName: string; keyId: string },
  operation: "issue" | "crl" | "ocsp" | "create",
  error: unknown,
  actor: Actor = systemActor(operation === "ocsp" ? "ocsp" : operation === "crl" ? "crl" : "enrollment"),
): Promise<void> {
  const key = `${ca.id ?? ca.keyId}:${operation}`;
  const now = Date.now();
  if (now - (lastRecorded.get(key) ?? 0) < RECORD_EVERY_MS) return;
  lastRecorded.set(key, now);
  if (lastRecorded.size > 1000) lastRecorded.clear();
  const message = error instanceof Error ? error.message : String(error);
  await recordEvent(ctx.db, {
    type: EventType.CaKeyUnavailable,
    outcome: "failure",
    actor,
    object: { type: "certificate-authority", id: ca.id, name: ca.commonName },
    summary: `The key of "${ca.commonName}" could not sign (${operation}): ${message}`,
    details: { ...keyLocation(ctx, ca.keyId), operation, error: message },
  }).catch(() => {});
}
