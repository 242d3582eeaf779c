import "reflect-metadata";
import { randomUUID } from "node:crypto";
import { Pkcs10CertificateRequest } from "@peculiar/x509";
import { z } from "zod";
import { parsePayload, requireAccount, requirePostAsGet, requireTarget, type Reply, type RequestContext, type ServerDeps } from "../context";
import { decodeBase64url, randomToken } from "../encoding";
import { planAuthorizations } from "../identifiers";
import { AcmeProblem, problem, toProblem } from "../problems";
import { orderJson } from "../render";
import { refreshOrder } from "../status";
import type { AcmeEvent, ChallengeType, OrderRecord } from "../types";

// Orders: newOrder (RFC 8555 §7.4), order status, finalize (§7.4), certificate download (§7.4.2).

/** 256-bit challenge tokens (RFC 8555 §8.1 and the device-attest draft ask for at least 128). */
const TOKEN_BYTES = 32;
const RETRY_AFTER_SECONDS = "1";

const NewOrderPayload = z.object({
  identifiers: z.array(z.object({ type: z.string(), value: z.string() })),
  notBefore: z.string().optional(),
  notAfter: z.string().optional(),
});

function parseTime(v: string | undefined, name: string): Date | null {
  if (v === undefined) return null;
  const t = Date.parse(v);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(v) || Number.isNaN(t)) throw problem.malformed(`"${name}" must be an RFC 3339 date-time`);
  return new Date(t);
}

export async function newOrder(ctx: RequestContext): Promise<Reply> {
  const { deps, platform, urls, now } = ctx;
  const account = requireAccount(ctx);
  const payload = parsePayload(ctx, NewOrderPayload);
  const available = new Set((Object.keys(deps.validators) as ChallengeType[]).filter((t) => typeof deps.validators[t] === "function"));
  const plan = planAuthorizations(payload.identifiers, platform, available, deps.allowPrivateAddresses);
  const notBefore = parseTime(payload.notBefore, "notBefore");
  const notAfter = parseTime(payload.notAfter, "notAfter");
  if (notBefore && notAfter && notAfter <= notBefore) throw problem.malformed('"notAfter" must be after "notBefore"');

  const expires = new Date(now.getTime() + deps.orderLifetimeMs);
  const authorizations = plan.map((p) => ({
    id: randomUUID(),
    identifierType: p.identifier.type,
    identifierValue: p.authzValue,
    wildcard: p.wildcard,
    expires,
    challenges: p.challengeTypes.map((type) => ({ id: randomUUID(), type, token: randomToken(TOKEN_BYTES) })),
  }));
  const orderId = randomUUID();
  const identifiers = plan.map((p) => p.identifier);
  const event: AcmeEvent = {
    type: "order-created",
    platformId: platform.id,
    accountId: account.id,
    orderId,
    details: {
      identifiers,
      challenges: Object.fromEntries(plan.map((p) => [p.identifier.value, p.challengeTypes])),
    },
  };
  const order = await deps.store.createOrder({ id: orderId, accountId: account.id, identifiers, notBefore, notAfter, expires }, authorizations, event);
  if (!deps.store.recordsEvents) await deps.emit(event);
  return {
    status: 201,
    json: orderJson(
      order,
      authorizations.map((a) => a.id),
      urls,
    ),
    headers: { Location: urls.order(order.id) },
  };
}

async function loadOwnedOrder(ctx: RequestContext) {
  const account = requireAccount(ctx);
  const found = requireTarget(ctx, "order", "Order");
  if (found.order.accountId !== account.id) throw problem.unauthorized("The order belongs to another account");
  return refreshOrder(ctx.deps.store, found.order, ctx.now, ctx.deps.processingTimeoutMs, found.authorizations);
}

function orderReply(ctx: RequestContext, order: OrderRecord, authorizationIds: string[]): Reply {
  const headers: Record<string, string> = { Location: ctx.urls.order(order.id) };
  if (order.status === "processing") headers["Retry-After"] = RETRY_AFTER_SECONDS;
  return { status: 200, json: orderJson(order, authorizationIds, ctx.urls), headers };
}

export async function getOrder(ctx: RequestContext): Promise<Reply> {
  requirePostAsGet(ctx);
  const { order, authorizations } = await loadOwnedOrder(ctx);
  return orderReply(
    ctx,
    order,
    authorizations.map((a) => a.id),
  );
}

const FinalizePayload = z.object({ csr: z.string() });

/** Parses the CSR and checks its self-signature; the issuer hook checks everything else. */
async function checkCsr(csr: string, issuerChecks: boolean): Promise<Uint8Array> {
  const der = decodeBase64url(csr);
  if (!der || der.length === 0) throw problem.malformed('"csr" must be base64url-encoded DER');
  if (issuerChecks) return new Uint8Array(der);
  let req: Pkcs10CertificateRequest;
  try {
    req = new Pkcs10CertificateRequest(new Uint8Array(der));
  } catch {
    throw problem.badCSR("The CSR could not be parsed");
  }
  let ok = false;
  try {
    ok = await req.verify();
  } catch {
    ok = false;
  }
  if (!ok) throw problem.badCSR("The CSR signature does not verify");
  return new Uint8Array(der);
}

// While the storage stays down, the give-back is tried again after these waits (about 30 s in all); an
// order still processing after that ends at the processing timeout, as after a crash.
const GIVE_BACK_RETRIES_MS = [1_000, 2_000, 4_000, 8_000, 15_000];

/** processing → ready for an issuance that did not happen; a compare-and-set, so a valid order stays valid. */
async function giveBack(deps: ServerDeps, orderId: string, attempt = 0): Promise<void> {
  try {
    await deps.store.updateOrder(orderId, ["processing"], { status: "ready" });
  } catch (err) {
    const wait = GIVE_BACK_RETRIES_MS[attempt];
    if (wait === undefined || !deps.isUnavailable(err)) return deps.reportError(err, "finalize give-back");
    setTimeout(() => void giveBack(deps, orderId, attempt + 1), wait).unref();
  }
}

export async function finalize(ctx: RequestContext): Promise<Reply> {
  const { deps, platform } = ctx;
  const account = requireAccount(ctx);
  const { order, authorizations } = await loadOwnedOrder(ctx);
  const authzIds = authorizations.map((a) => a.id);
  const payload = parsePayload(ctx, FinalizePayload);
  // A retried finalize after issuance (or during it) just gets the order back.
  if (order.status === "valid" || order.status === "processing") return orderReply(ctx, order, authzIds);
  if (order.status !== "ready") throw problem.orderNotReady(`Order is ${order.status}, not ready`);
  const csrDer = await checkCsr(payload.csr, deps.issuerChecksCsr);

  // The single gate against double issuance: only one request can move ready → processing.
  const claimed = await deps.store.updateOrder(order.id, ["ready"], { status: "processing" });
  if (!claimed) {
    const now = await deps.store.getOrder(order.id);
    if (now && (now.status === "processing" || now.status === "valid")) return orderReply(ctx, now, authzIds);
    throw problem.orderNotReady(`Order is ${now?.status ?? "gone"}, not ready`);
  }

  const base = { platformId: platform.id, accountId: account.id, orderId: order.id };
  try {
    const issued = await deps.issue({ order: claimed, account, csrDer, authorizations, platformId: platform.id });
    // The hook recorded the certificate and moved the order processing → valid with it, together.
    const done: OrderRecord = { ...claimed, status: "valid", certificateId: issued.certificateId, error: null, updatedAt: ctx.now };
    if (issued.chainPem) deps.recentChains.set(issued.certificateId, issued.chainPem, deps.now().getTime());
    await deps.emit({
      type: "certificate-issued",
      ...base,
      details: { certificateId: issued.certificateId, identifiers: order.identifiers },
    });
    return orderReply(ctx, done, authzIds);
  } catch (e) {
    if (e instanceof AcmeProblem && e.type === "badCSR") {
      // RFC 8555 §7.4: leave the order ready so the client can send an amended CSR.
      await deps.store.updateOrder(order.id, ["processing"], { status: "ready" });
      await deps.emit({ type: "finalize-rejected", ...base, details: { error: e.toJSON() } });
      throw e;
    }
    if (e instanceof AcmeProblem && e.status === 503) {
      // The issuer cannot decide for now (the device's MDM is down): nothing happened, so the order goes
      // back to ready and the client comes back after Retry-After (RFC 8555 §6.6, RFC 9110 §15.6.4).
      await giveBack(deps, order.id);
      throw e;
    }
    if (deps.isUnavailable(e)) {
      // The storage failed: the certificate and the order's move to valid are one write, so either both
      // happened (the order is valid and stays so) or neither. Give the order back for the retry.
      await giveBack(deps, order.id);
      throw e;
    }
    if (!(e instanceof AcmeProblem)) deps.reportError(e, "issue", platform.id);
    const p = toProblem(e);
    // Not when the hook failed after recording the certificate: the order is valid then, and stays so.
    if (await deps.store.updateOrder(order.id, ["processing"], { status: "invalid", error: p.toJSON() }))
      await deps.emit({ type: "order-invalid", ...base, details: { error: p.toJSON() } });
    throw p;
  }
}

export async function certificate(ctx: RequestContext): Promise<Reply> {
  requirePostAsGet(ctx);
  const { order } = await loadOwnedOrder(ctx);
  if (order.status !== "valid" || !order.certificateId) throw problem.malformed("Certificate not found", { status: 404 });
  const pem =
    ctx.deps.recentChains.get(order.certificateId, ctx.now.getTime()) ??
    (await ctx.deps.getCertificateChain({ certificateId: order.certificateId, platformId: ctx.platform.id }));
  if (!pem) throw problem.malformed("Certificate not found", { status: 404 });
  // RFC 8555 §7.4.2: the end-entity certificate followed by the chain, as one PEM file.
  return { status: 200, raw: { body: pem, contentType: "application/pem-certificate-chain" } };
}
