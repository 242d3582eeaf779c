import { problem, type ProblemDocument } from "./problems";
import type { AcmeStore } from "./store";
import type { AuthorizationWithChallenges, OrderRecord } from "./types";

// State machines of RFC 8555 §7.1.6, with expiry applied lazily whenever a record is read, so no
// background job is needed for correctness.

/** A processing order older than this is considered abandoned (its issuer crashed). */
export const DEFAULT_PROCESSING_TIMEOUT_MS = 10 * 60_000;

/** Brings an authorization up to date: pending/valid past `expires` becomes expired. */
export async function refreshAuthorization(store: AcmeStore, authz: AuthorizationWithChallenges, now: Date): Promise<AuthorizationWithChallenges> {
  if ((authz.status === "pending" || authz.status === "valid") && authz.expires <= now) {
    const updated = await store.updateAuthorization(authz.id, [authz.status], { status: "expired" });
    if (updated) return { ...authz, ...updated };
    const fresh = await store.getAuthorization(authz.id);
    return fresh ?? authz;
  }
  return authz;
}

/** The error an order takes from a failed authorization (its failed challenge's, with the identifier). */
export function orderErrorFor(authz: AuthorizationWithChallenges): ProblemDocument {
  const identifier = { type: authz.identifierType, value: authz.identifierValue };
  const failed = authz.challenges.find((c) => c.status === "invalid" && c.error);
  if (failed?.error) return { ...failed.error, identifier };
  return problem.unauthorized(`Authorization for ${identifier.value} is ${authz.status}`, { identifier }).toJSON();
}

/**
 * Brings an order up to date from its authorizations and expiry (RFC 8555 §7.1.6):
 * pending → ready when every authorization is valid; pending/ready → invalid when one is
 * invalid/deactivated/expired/revoked or the order has expired; processing → invalid when issuance
 * was abandoned. Persisted with compare-and-set.
 */
export async function refreshOrder(
  store: AcmeStore,
  order: OrderRecord,
  now: Date,
  processingTimeoutMs = DEFAULT_PROCESSING_TIMEOUT_MS,
  /** The order's authorizations when the caller read them with the order. */
  listed?: AuthorizationWithChallenges[],
): Promise<{ order: OrderRecord; authorizations: AuthorizationWithChallenges[] }> {
  listed ??= await store.listAuthorizations(order.id);
  const authorizations = await Promise.all(listed.map((a) => refreshAuthorization(store, a, now)));
  if (order.status === "processing" && now.getTime() - order.updatedAt.getTime() > processingTimeoutMs) {
    // The instance that claimed the order died while issuing: stop the client from polling forever.
    const error = problem.serverInternal("Certificate issuance did not complete").toJSON();
    const updated = await store.updateOrder(order.id, ["processing"], { status: "invalid", error });
    return { order: updated ?? (await store.getOrder(order.id)) ?? order, authorizations };
  }
  if (order.status !== "pending" && order.status !== "ready") return { order, authorizations };

  let next: { status: OrderRecord["status"]; error: ProblemDocument | null } | null = null;
  const broken = authorizations.find((a) => a.status !== "pending" && a.status !== "valid");
  if (order.expires <= now) {
    next = { status: "invalid", error: problem.malformed("Order expired before it was finalized").toJSON() };
  } else if (broken) {
    next = { status: "invalid", error: orderErrorFor(broken) };
  } else if (order.status === "pending" && authorizations.length > 0 && authorizations.every((a) => a.status === "valid")) {
    next = { status: "ready", error: null };
  }
  if (!next) return { order, authorizations };
  const updated = await store.updateOrder(order.id, [order.status], next);
  if (updated) return { order: updated, authorizations };
  // Someone else moved it first (e.g. a concurrent finalize): read what they wrote.
  const fresh = await store.getOrder(order.id);
  return { order: fresh ?? order, authorizations };
}
