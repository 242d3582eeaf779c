import type { AccountRecord, AuthorizationWithChallenges, ChallengeRecord, OrderRecord } from "./types";
import type { PlatformUrls } from "./urls";

// JSON representations of the resources (RFC 8555 §7.1.2-§7.1.5).

export function accountJson(a: AccountRecord, urls: PlatformUrls) {
  return { status: a.status, contact: a.contact, orders: urls.accountOrders(a.id) };
}

export function orderJson(o: OrderRecord, authorizationIds: string[], urls: PlatformUrls) {
  return {
    status: o.status,
    expires: o.expires.toISOString(),
    identifiers: o.identifiers,
    ...(o.notBefore ? { notBefore: o.notBefore.toISOString() } : {}),
    ...(o.notAfter ? { notAfter: o.notAfter.toISOString() } : {}),
    ...(o.error ? { error: o.error } : {}),
    authorizations: authorizationIds.map((id) => urls.authorization(id)),
    finalize: urls.finalize(o.id),
    ...(o.status === "valid" && o.certificateId ? { certificate: urls.certificate(o.id) } : {}),
  };
}

export function challengeJson(c: ChallengeRecord, urls: PlatformUrls) {
  return {
    type: c.type,
    url: urls.challenge(c.id),
    status: c.status,
    token: c.token,
    ...(c.validated ? { validated: c.validated.toISOString() } : {}),
    ...(c.error ? { error: c.error } : {}),
  };
}

export function authorizationJson(a: AuthorizationWithChallenges, urls: PlatformUrls) {
  return {
    identifier: { type: a.identifierType, value: a.identifierValue },
    status: a.status,
    expires: a.expires.toISOString(),
    challenges: a.challenges.map((c) => challengeJson(c, urls)),
    ...(a.wildcard ? { wildcard: true } : {}),
  };
}
