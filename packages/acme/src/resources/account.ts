import { randomUUID } from "node:crypto";
import { z } from "zod";
import { BAD_NONCE, parsePayload, requireAccount, requirePostAsGet, useRequestNonce, type Reply, type RequestContext } from "../context";
import { isPlainObject } from "../encoding";
import { jwkThumbprint, parseJwsObject, publicJwk, verifyJws } from "../jws";
import { AcmeProblem, problem } from "../problems";
import { accountJson } from "../render";
import type { AccountRecord, AcmeEvent } from "../types";

// Accounts: newAccount (RFC 8555 §7.3), update and deactivation (§7.3.2, §7.3.6), orders list
// (§7.1.2.1), key rollover (§7.3.5).

export const MAX_CONTACTS = 10;
const EMAIL = /^[A-Za-z0-9.!#$&'*+/=^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** RFC 8555 §7.3: only mailto: contacts, one plain address each, no hfields. */
export function validateContacts(contact: unknown): string[] {
  if (contact === undefined) return [];
  if (!Array.isArray(contact)) throw problem.malformed('"contact" must be an array of URLs');
  if (contact.length > MAX_CONTACTS) throw problem.invalidContact(`At most ${MAX_CONTACTS} contacts are allowed`);
  return contact.map((c) => {
    if (typeof c !== "string") throw problem.malformed('"contact" entries must be strings');
    const m = /^mailto:(.*)$/i.exec(c);
    if (!m) throw problem.unsupportedContact(`Only mailto: contacts are supported, got "${c.slice(0, 64)}"`);
    const addr = m[1];
    if (addr.includes("?")) throw problem.invalidContact("mailto: contacts must not have header fields");
    if (addr.includes(",")) throw problem.invalidContact("Each mailto: contact must hold one address");
    if (addr.length > 254 || !EMAIL.test(addr)) throw problem.invalidContact(`"${c.slice(0, 64)}" is not a valid email address`);
    return `mailto:${addr}`;
  });
}

const NewAccountPayload = z.object({
  contact: z.unknown().optional(),
  termsOfServiceAgreed: z.boolean().optional(),
  onlyReturnExisting: z.boolean().optional(),
});

export async function newAccount(ctx: RequestContext): Promise<Reply> {
  const { deps, platform, urls } = ctx;
  if (!ctx.jwk) throw problem.malformed('newAccount must be signed with "jwk", not "kid"');
  const payload = parsePayload(ctx, NewAccountPayload);
  // §7.3.1: an existing key returns the existing account with 200 and its Location, whatever else the
  // request says. A new key is the common case: it is looked up only when the request cannot create.
  const existingReply = async (): Promise<Reply | null> => {
    const existing = await deps.store.findAccountByThumbprint(platform.id, ctx.jwk!.thumbprint);
    return existing && accountReply(existing, 200);
  };
  const accountReply = (account: AccountRecord, status: number): Reply => {
    if (account.status !== "valid") throw problem.unauthorized(`Account is ${account.status}`, { status: 401 });
    return { status, json: accountJson(account, urls), headers: { Location: urls.account(account.id) } };
  };
  // The nonce's use is recorded here (see POST_ROUTES): with the new account in one statement, or alone.
  if (payload.onlyReturnExisting) {
    await useRequestNonce(ctx);
    const found = await existingReply();
    if (found) return found;
    throw problem.accountDoesNotExist("No account exists with this key");
  }
  let contact: string[];
  try {
    const tos = platform.meta?.termsOfService ?? deps.meta.termsOfService;
    const requireTos = platform.meta?.requireTermsOfServiceAgreement ?? deps.meta.requireTermsOfServiceAgreement;
    if (tos && requireTos && payload.termsOfServiceAgreed !== true) {
      throw problem.malformed("You must agree to the terms of service (termsOfServiceAgreed: true)");
    }
    contact = validateContacts(payload.contact);
  } catch (e) {
    await useRequestNonce(ctx);
    const found = await existingReply();
    if (found) return found;
    throw e;
  }
  const id = randomUUID();
  const event: AcmeEvent = {
    type: "account-created",
    platformId: platform.id,
    accountId: id,
    details: { contact, jwkThumbprint: ctx.jwk.thumbprint, keyType: ctx.jwk.key.kty },
  };
  const a = { id, platformId: platform.id, jwkThumbprint: ctx.jwk.thumbprint, jwk: ctx.jwk.key, contact };
  if (!ctx.nonce) throw new Error("newAccount is routed with nonceInHandler: its nonce is in ctx.nonce");
  const result = await deps.store.createAccount(a, event, ctx.nonce);
  if (!result) throw problem.badNonce(BAD_NONCE);
  const { account, created } = result;
  if (created && !deps.store.recordsEvents) await deps.emit(event);
  return accountReply(account, created ? 201 : 200);
}

const AccountUpdatePayload = z.object({
  contact: z.unknown().optional(),
  status: z.string().optional(),
});

export async function accountResource(ctx: RequestContext): Promise<Reply> {
  const { deps, platform, urls } = ctx;
  const account = requireAccount(ctx);
  if (ctx.route.id !== account.id) throw problem.unauthorized("The account URL does not match the signing account");
  const location = { Location: urls.account(account.id) };
  if (ctx.jws.payload === null) return { status: 200, json: accountJson(account, urls), headers: location };
  const payload = parsePayload(ctx, AccountUpdatePayload);

  if (payload.status !== undefined) {
    if (payload.status !== "deactivated") throw problem.malformed('Only "status": "deactivated" may be requested');
    const event: AcmeEvent = { type: "account-deactivated", platformId: platform.id, accountId: account.id, details: {} };
    const updated = await deps.store.updateAccount(account.id, ["valid"], { status: "deactivated" }, event);
    if (!updated) throw problem.unauthorized("Account is not valid", { status: 401 });
    if (!deps.store.recordsEvents) await deps.emit(event);
    return { status: 200, json: accountJson(updated, urls), headers: location };
  }
  if (payload.contact !== undefined) {
    const contact = validateContacts(payload.contact);
    const event: AcmeEvent = {
      type: "account-updated",
      platformId: platform.id,
      accountId: account.id,
      details: { contact, previousContact: account.contact },
    };
    const updated = await deps.store.updateAccount(account.id, ["valid"], { contact }, event);
    if (!updated) throw problem.unauthorized("Account is not valid", { status: 401 });
    if (!deps.store.recordsEvents) await deps.emit(event);
    return { status: 200, json: accountJson(updated, urls), headers: location };
  }
  return { status: 200, json: accountJson(account, urls), headers: location };
}

export async function accountOrders(ctx: RequestContext): Promise<Reply> {
  const account = requireAccount(ctx);
  if (ctx.route.id !== account.id) throw problem.unauthorized("The account URL does not match the signing account");
  requirePostAsGet(ctx);
  const ids = await ctx.deps.store.listOrderIds(account.id, ctx.deps.maxOrdersListed);
  return { status: 200, json: { orders: ids.map((id) => ctx.urls.order(id)) } };
}

/** RFC 8555 §7.3.5: the outer JWS is signed by the old key (kid), the inner one by the new key (jwk). */
export async function keyChange(ctx: RequestContext): Promise<Reply> {
  const { deps, platform, urls } = ctx;
  const account = requireAccount(ctx);
  if (ctx.jws.payload === null) throw problem.malformed("keyChange needs an inner JWS as payload");
  const inner = parseJwsObject(ctx.jws.payload, { requireNonce: false });
  if (!inner.header.jwk) throw problem.malformed('The inner JWS must carry the new key in "jwk"');
  await verifyJws(inner, inner.header.jwk);
  if (inner.header.url !== ctx.jws.header.url) throw problem.malformed('The inner JWS "url" must equal the outer one');
  const body = inner.payload;
  if (!body || typeof body.account !== "string" || !isPlainObject(body.oldKey)) {
    throw problem.malformed('The inner payload must have "account" and "oldKey"');
  }
  if (body.account !== urls.account(account.id)) throw problem.malformed('"account" does not match the signing account');
  let oldThumbprint: string;
  try {
    oldThumbprint = jwkThumbprint(publicJwk(body.oldKey, ctx.jws.header.alg));
  } catch (e) {
    if (e instanceof AcmeProblem) throw problem.malformed('"oldKey" is not a valid public key');
    throw e;
  }
  if (oldThumbprint !== account.jwkThumbprint) throw problem.malformed('"oldKey" is not the current account key');
  const newThumbprint = jwkThumbprint(inner.header.jwk);
  if (newThumbprint === account.jwkThumbprint) throw problem.malformed("The new key is the same as the old key");

  const event: AcmeEvent = {
    type: "account-key-changed",
    platformId: platform.id,
    accountId: account.id,
    details: { oldThumbprint, newThumbprint },
  };
  const r = await deps.store.changeAccountKey(account.id, oldThumbprint, inner.header.jwk, newThumbprint, event);
  if (!r.ok && r.reason === "conflict") {
    throw new AcmeProblem("malformed", "Another account already uses the new key", {
      status: 409,
      headers: { Location: urls.account(r.conflictingAccountId) },
    });
  }
  if (!r.ok) throw problem.unauthorized("The account key changed concurrently; retry");
  if (!deps.store.recordsEvents) await deps.emit(event);
  return { status: 200, json: accountJson(r.account, urls), headers: { Location: urls.account(account.id) } };
}
