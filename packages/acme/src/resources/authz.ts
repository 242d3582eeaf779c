import { requireAccount, requireTarget, type Reply, type RequestContext } from "../context";
import { decodeBase64url, isPlainObject } from "../encoding";
import { AttestationError } from "@attested/errors";
import { AcmeProblem, printable, problem, toProblem } from "../problems";
import { authorizationJson, challengeJson } from "../render";
import { orderErrorFor, refreshAuthorization, refreshOrder } from "../status";
import type { ChallengeCompletion } from "../store";
import type { AcmeEvent, AuthorizationWithChallenges, ChallengeRecord, DeviceAttestResult, Identifier, OrderRecord } from "../types";

// Authorizations (RFC 8555 §7.5, deactivation §7.5.2) and challenge responses (§7.5.1), with the
// validation run inline: pending → processing → valid | invalid, then authorization and order follow.

const RETRY_AFTER_SECONDS = "1";

async function ownedAuthorization(ctx: RequestContext, { authz, order }: { authz: AuthorizationWithChallenges; order: OrderRecord }) {
  const account = requireAccount(ctx);
  if (order.accountId !== account.id) throw problem.unauthorized("The authorization belongs to another account");
  return { authz: await refreshAuthorization(ctx.deps.store, authz, ctx.now), order };
}

function authzReply(ctx: RequestContext, a: AuthorizationWithChallenges): Reply {
  const headers: Record<string, string> = {};
  if (a.status === "pending" && a.challenges.some((c) => c.status === "processing")) headers["Retry-After"] = RETRY_AFTER_SECONDS;
  return { status: 200, json: authorizationJson(a, ctx.urls), headers };
}

export async function authorization(ctx: RequestContext): Promise<Reply> {
  const { deps, platform } = ctx;
  const { authz, order } = await ownedAuthorization(ctx, requireTarget(ctx, "authorization", "Authorization"));
  const payload = ctx.jws.payload;
  if (payload === null || payload.status === undefined) return authzReply(ctx, authz);
  if (payload.status !== "deactivated") throw problem.malformed('Only "status": "deactivated" may be requested');
  const updated = await deps.store.updateAuthorization(authz.id, ["pending", "valid"], { status: "deactivated" });
  if (!updated) throw problem.malformed(`Authorization is ${authz.status} and cannot be deactivated`);
  await refreshOrder(deps.store, order, ctx.now, deps.processingTimeoutMs);
  await deps.emit({
    type: "authorization-deactivated",
    platformId: platform.id,
    accountId: order.accountId,
    orderId: order.id,
    authorizationId: authz.id,
    details: { identifier: { type: authz.identifierType, value: authz.identifierValue } },
  });
  return authzReply(ctx, { ...authz, ...updated });
}

/** draft-ietf-acme-device-attest: a non-empty `error` means the device could not attest. */
function deviceError(v: unknown): string | null {
  if (v === undefined || v === null || v === "" || v === false) return null;
  if (typeof v === "string") return printable(v);
  if (isPlainObject(v)) {
    if (Object.keys(v).length === 0) return null;
    if (typeof v.detail === "string" && v.detail) return printable(v.detail);
  }
  if (Array.isArray(v) && v.length === 0) return null;
  return printable(JSON.stringify(v));
}

/** A validator's failure: a refused attestation or problem as toProblem says; anything else is reported. */
function attestationFailure(e: unknown, ctx: RequestContext): AcmeProblem {
  if (e instanceof AcmeProblem || e instanceof AttestationError) return toProblem(e);
  ctx.deps.reportError(e, "device-attest-01", ctx.platform.id);
  return problem.badAttestationStatement("The attestation could not be verified");
}

type Outcome = { ok: true; attested?: DeviceAttestResult } | { ok: false; error: AcmeProblem; adminDetail?: string };

export async function challenge(ctx: RequestContext): Promise<Reply> {
  const { deps, platform, urls } = ctx;
  const account = requireAccount(ctx);
  const found = requireTarget(ctx, "challenge", "Challenge");
  const chall = found.challenge;
  const { authz, order } = await ownedAuthorization(ctx, found);
  const up = { Link: `<${urls.authorization(authz.id)}>;rel="up"` };
  const reply = (c: ChallengeRecord): Reply => ({
    status: 200,
    json: challengeJson(c, urls),
    headers: c.status === "processing" ? { ...up, "Retry-After": RETRY_AFTER_SECONDS } : up,
  });

  const payload = ctx.jws.payload;
  if (payload === null || chall.status !== "pending") return reply(chall); // POST-as-GET, or already answered
  if (authz.status !== "pending") throw problem.malformed(`Authorization is ${authz.status}; the challenge cannot be answered`);
  if (!platform.allowedChallenges.includes(chall.type)) throw problem.unauthorized(`${chall.type} is no longer accepted here`);
  const identifier: Identifier = { type: authz.identifierType, value: authz.identifierValue };

  // Decode the response before claiming the challenge, so a garbled request can be retried.
  let attObj: Uint8Array | null = null;
  let refused: string | null = null;
  if (chall.type === "device-attest-01") {
    refused = deviceError(payload.error);
    if (!refused) {
      if (typeof payload.attObj !== "string" || payload.attObj === "") throw problem.malformed('"attObj" is required');
      const bytes = decodeBase64url(payload.attObj);
      if (!bytes) throw problem.malformed('"attObj" is not valid base64url');
      attObj = new Uint8Array(bytes);
    }
  }

  // A validation that goes out to the network (http-01, dns-01) claims the challenge first (pending →
  // processing), so a concurrent answer waits for it. device-attest-01 is checked in memory in
  // milliseconds: it is not claimed, and its completion is the compare-and-set (pending → valid |
  // invalid), so of two concurrent answers one settles it and the other reads the result.
  const claimed = chall.type === "device-attest-01" ? chall : await deps.store.updateChallenge(chall.id, ["pending"], { status: "processing" });
  if (!claimed) return reply((await deps.store.getChallenge(chall.id)) ?? chall);
  const from = claimed.status as "pending" | "processing";

  let outcome: Outcome;
  try {
    outcome = await runValidation(ctx, chall, identifier, authz.wildcard, account.id, account.jwkThumbprint, attObj, refused);
  } catch (e) {
    // The storage was unavailable during validation (runValidation rethrows only that): the answer is
    // neither valid nor invalid, so the challenge goes back to pending for the client's retry (503).
    if (from === "processing") await deps.store.updateChallenge(chall.id, ["processing"], { status: "pending" }).catch(() => null);
    throw e;
  }
  const now = deps.now();
  const base = { platformId: platform.id, accountId: account.id, orderId: order.id, authorizationId: authz.id, challengeId: chall.id };

  let event: AcmeEvent;
  let result: ChallengeCompletion["outcome"];
  if (outcome.ok) {
    const attested = outcome.attested;
    event = { type: "challenge-valid", ...base, details: { challengeType: chall.type, identifier, ...(attested ? { attested: attested.attested } : {}) } };
    result = attested ? { status: "valid", attestedKeySpki: Buffer.from(attested.publicKeySpki), attestation: attested.attested } : { status: "valid" };
  } else {
    const error = outcome.error.toJSON();
    event = {
      type: "challenge-invalid",
      ...base,
      details: { challengeType: chall.type, identifier, error, ...(outcome.adminDetail ? { adminDetail: outcome.adminDetail } : {}) },
    };
    const failed = { ...claimed, status: "invalid" as const, error };
    result = { status: "invalid", error, orderError: orderErrorFor({ ...authz, status: "invalid", challenges: [failed] }) };
  }
  const done = await deps.store.completeChallenge({ challengeId: chall.id, from, authorizationId: authz.id, orderId: order.id, now, outcome: result }, event);
  // Null: a concurrent answer settled it first (its event is the one); answer with what it is now.
  if (done && !deps.store.recordsEvents) await deps.emit(event);
  return reply(done ?? (await deps.store.getChallenge(chall.id)) ?? chall);
}

async function runValidation(
  ctx: RequestContext,
  chall: ChallengeRecord,
  identifier: Identifier,
  wildcard: boolean,
  accountId: string,
  thumbprint: string,
  attObj: Uint8Array | null,
  refused: string | null,
): Promise<Outcome> {
  const { deps, platform } = ctx;
  if (chall.type === "device-attest-01") {
    if (refused) return { ok: false, error: problem.badAttestationStatement(`The device could not attest: ${refused}`) };
    const validate = deps.validators["device-attest-01"];
    if (!validate) return { ok: false, error: problem.serverInternal("device-attest-01 is not configured") };
    try {
      const attested = await validate({ token: chall.token, attObj: attObj!, identifier, platformId: platform.id, accountId });
      if (!attested || !(attested.publicKeySpki instanceof Uint8Array) || attested.publicKeySpki.length === 0) {
        throw new Error("device-attest-01 validator returned no public key");
      }
      return { ok: true, attested };
    } catch (e) {
      if (deps.isUnavailable(e)) throw e; // not the device's fault: nothing is settled (see challenge())
      const adminDetail = e instanceof AttestationError ? e.adminDetail : undefined;
      return { ok: false, error: attestationFailure(e, ctx), ...(adminDetail ? { adminDetail } : {}) };
    }
  }
  const validate = deps.validators[chall.type];
  if (!validate) return { ok: false, error: problem.serverInternal(`${chall.type} is not configured`) };
  try {
    await validate({
      type: chall.type,
      identifier,
      wildcard,
      token: chall.token,
      keyAuthorization: `${chall.token}.${thumbprint}`, // RFC 8555 §8.1
      platformId: platform.id,
      accountId,
    });
    return { ok: true };
  } catch (e) {
    if (deps.isUnavailable(e)) throw e;
    if (!(e instanceof AcmeProblem)) deps.reportError(e, chall.type, platform.id);
    return { ok: false, error: e instanceof AcmeProblem ? e : toProblem(e) };
  }
}
