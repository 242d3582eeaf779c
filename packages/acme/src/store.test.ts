import { randomUUID } from "node:crypto";
import { createTestDatabase } from "@attested/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryStore } from "./testing";
import { SqlAcmeStore } from "./sql-store";
import type { AcmeStore, NewAuthorization } from "./store";
import type { AcmeEvent } from "./types";
import { TestClient } from "./test-support/client";
import { createHarness, fakeAttObj, generateEcKeys, makeCsr, spkiOf } from "./test-support/harness";

// The same contract for the in-memory store and the SQL store (PGlite, or PostgreSQL when
// DATABASE_URL is set), then a full device enrollment through the server on the SQL store.

let db: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.close());

const factories: [string, () => AcmeStore][] = [
  ["MemoryStore", () => new MemoryStore()],
  ["SqlAcmeStore", () => new SqlAcmeStore(db.sql)],
];

const jwk = (x: string) => ({ kty: "EC", crv: "P-256", x, y: "yy" });

function newAuthz(expires: Date): NewAuthorization {
  return {
    id: randomUUID(),
    identifierType: "dns",
    identifierValue: `${randomUUID()}.example.com`,
    wildcard: false,
    expires,
    challenges: [
      { id: randomUUID(), type: "http-01", token: randomUUID() },
      { id: randomUUID(), type: "dns-01", token: randomUUID() },
    ],
  };
}

describe.each(factories)("%s", (_name, make) => {
  let store: AcmeStore;
  beforeAll(() => {
    store = make();
  });
  const platformId = () => `p-${randomUUID()}`;

  it("signed nonces: recorded as used once, even under concurrency, and pruned by issue time", async () => {
    const now = new Date();
    const v = `s${randomUUID().replace(/-/g, "")}`;
    const results = await Promise.all(Array.from({ length: 10 }, () => store.useNonce(v, now)));
    expect(results.filter(Boolean)).toHaveLength(1);
    const old = `q${randomUUID().replace(/-/g, "")}`;
    expect(await store.useNonce(old, new Date(now.getTime() - 10_000))).toBe(true);
    expect(await store.pruneNonces(new Date(now.getTime() - 5_000))).toBeGreaterThanOrEqual(1);
    expect(await store.useNonce(v, now)).toBe(false);
    // The count is exact: three nonces from a day no other test uses, pruned once.
    const day = new Date("2001-02-03T04:05:06Z");
    const ancient = [1, 2, 3].map((i) => `a${i}${randomUUID().replace(/-/g, "")}`);
    for (const a of ancient) expect(await store.useNonce(a, day)).toBe(true);
    expect(await store.pruneNonces(new Date(day.getTime() + 1000))).toBe(3);
    expect(await store.pruneNonces(new Date(day.getTime() + 1000))).toBe(0);
    // The store forgets a pruned nonce; in the server, NonceService refuses one this old before the store is asked.
    expect(await store.useNonce(ancient[0]!, day)).toBe(true);
  });

  it("a kid request's account and nonce in one call: the nonce counts once, even for unknown accounts", async () => {
    const { account } = await store.createAccount({
      id: randomUUID(),
      platformId: platformId(),
      jwkThumbprint: randomUUID(),
      jwk: jwk("n1"),
      contact: ["mailto:a@example.com"],
    });
    const nonce = { value: `u${randomUUID().replace(/-/g, "")}`, issuedAt: new Date() };
    const both = await Promise.all([store.getAccountUsingNonce(account.id, nonce), store.getAccountUsingNonce(account.id, nonce)]);
    expect(both.map((b) => b.nonceFresh).sort()).toEqual([false, true]);
    expect(both.map((b) => b.account)).toEqual([account, account]);
    const other = { value: `w${randomUUID().replace(/-/g, "")}`, issuedAt: new Date() };
    expect(await store.getAccountUsingNonce(randomUUID(), other)).toEqual({ account: null, nonceFresh: true });
    expect(await store.getAccountUsingNonce(account.id, null)).toEqual({ account, nonceFresh: false });
    expect((await store.getAccountUsingNonce(account.id, other)).nonceFresh).toBe(false);
  });

  it("completing a challenge settles its authorization and, when it can, the order, in one step", async () => {
    const { account } = await store.createAccount({ id: randomUUID(), platformId: platformId(), jwkThumbprint: randomUUID(), jwk: jwk("c1"), contact: [] });
    const now = new Date();
    const expires = new Date(now.getTime() + 3600_000);
    const make = async (n: number) => {
      const authzs = Array.from({ length: n }, () => newAuthz(expires));
      const order = await store.createOrder(
        {
          id: randomUUID(),
          accountId: account.id,
          identifiers: authzs.map((a) => ({ type: "dns", value: a.identifierValue })),
          notBefore: null,
          notAfter: null,
          expires,
        },
        authzs,
      );
      return { order, authzs };
    };
    const complete = async (orderId: string, az: NewAuthorization, outcome: Parameters<AcmeStore["completeChallenge"]>[0]["outcome"]) => {
      const challengeId = az.challenges[0]!.id;
      await store.updateChallenge(challengeId, ["pending"], { status: "processing" });
      return store.completeChallenge({ challengeId, from: "processing", authorizationId: az.id, orderId, now, outcome });
    };

    const two = await make(2);
    const spki = Buffer.from("attested-key");
    expect((await complete(two.order.id, two.authzs[0]!, { status: "valid", attestedKeySpki: spki, attestation: { serialNumber: "S1" } }))?.status).toBe(
      "valid",
    );
    expect((await store.getOrder(two.order.id))?.status).toBe("pending");
    const a0 = await store.getAuthorization(two.authzs[0]!.id);
    expect([a0?.status, a0?.attestedKeySpki, a0?.attestation]).toEqual(["valid", spki, { serialNumber: "S1" }]);
    await complete(two.order.id, two.authzs[1]!, { status: "valid" });
    expect((await store.getOrder(two.order.id))?.status).toBe("ready");
    // Not processing any more: nothing changes.
    expect(
      await store.completeChallenge({
        challengeId: two.authzs[1]!.challenges[0]!.id,
        from: "processing",
        authorizationId: two.authzs[1]!.id,
        orderId: two.order.id,
        now,
        outcome: { status: "valid" },
      }),
    ).toBeNull();

    // Unclaimed (device-attest-01): completed straight from pending; of two concurrent completions one wins.
    const direct = await make(1);
    const d = direct.authzs[0]!;
    const settle = (outcome: Parameters<AcmeStore["completeChallenge"]>[0]["outcome"]) =>
      store.completeChallenge({ challengeId: d.challenges[0]!.id, from: "pending", authorizationId: d.id, orderId: direct.order.id, now, outcome });
    const raced = await Promise.all([settle({ status: "valid" }), settle({ status: "valid" })]);
    expect(raced.filter(Boolean).map((c) => c!.status)).toEqual(["valid"]);
    expect((await store.getOrder(direct.order.id))?.status).toBe("ready");

    const bad = await make(1);
    const error = { type: "urn:ietf:params:acme:error:badAttestationStatement", detail: "no", status: 400 };
    const orderError = { ...error, identifier: { type: "dns", value: bad.authzs[0]!.identifierValue } };
    const c = await complete(bad.order.id, bad.authzs[0]!, { status: "invalid", error, orderError });
    expect([c?.status, c?.error]).toEqual(["invalid", error]);
    expect((await store.getAuthorization(bad.authzs[0]!.id))?.status).toBe("invalid");
    const o = await store.getOrder(bad.order.id);
    expect([o?.status, o?.error]).toEqual(["invalid", orderError]);
  });

  it("holdsAuthorizations: only the account's own valid, unexpired authorizations for every identifier, wildcard flag included", async () => {
    const pid = platformId();
    const { account } = await store.createAccount({ id: randomUUID(), platformId: pid, jwkThumbprint: randomUUID(), jwk: jwk("h1"), contact: [] });
    const { account: other } = await store.createAccount({ id: randomUUID(), platformId: pid, jwkThumbprint: randomUUID(), jwk: jwk("h2"), contact: [] });
    const now = new Date();
    const live = new Date(now.getTime() + 3600_000);
    const [a, b, expired] = [newAuthz(live), newAuthz(live), newAuthz(new Date(now.getTime() - 1000))];
    await store.createOrder(
      {
        id: randomUUID(),
        accountId: account.id,
        identifiers: [a, b, expired].map((x) => ({ type: "dns", value: x.identifierValue })),
        notBefore: null,
        notAfter: null,
        expires: live,
      },
      [a, b, expired],
    );
    const held = (x: NewAuthorization) => ({ identifierType: x.identifierType, identifierValue: x.identifierValue, wildcard: x.wildcard });
    expect(await store.holdsAuthorizations(account.id, [held(a)], now)).toBe(false); // still pending
    for (const x of [a, expired]) await store.updateAuthorization(x.id, ["pending"], { status: "valid" });
    expect(await store.holdsAuthorizations(account.id, [held(a), held(a)], now)).toBe(true);
    expect(await store.holdsAuthorizations(account.id, [held(a), held(b)], now)).toBe(false);
    expect(await store.holdsAuthorizations(account.id, [held(expired)], now)).toBe(false);
    expect(await store.holdsAuthorizations(account.id, [{ ...held(a), wildcard: true }], now)).toBe(false);
    expect(await store.holdsAuthorizations(other.id, [held(a)], now)).toBe(false);
    expect(await store.holdsAuthorizations(account.id, [], now)).toBe(false);
  });

  it("an order with its authorizations and challenges, an authorization with its order, in one read", async () => {
    const { account } = await store.createAccount({ id: randomUUID(), platformId: platformId(), jwkThumbprint: randomUUID(), jwk: jwk("o1"), contact: [] });
    const expires = new Date(Math.floor(Date.now() / 1000) * 1000 + 3600_000);
    const authzs = [newAuthz(expires), newAuthz(expires)];
    const order = await store.createOrder(
      {
        id: randomUUID(),
        accountId: account.id,
        identifiers: authzs.map((a) => ({ type: "dns", value: a.identifierValue })),
        notBefore: null,
        notAfter: null,
        expires,
      },
      authzs,
    );
    const found = await store.getOrderWithAuthorizations(order.id);
    expect(found?.order).toEqual(order);
    expect(found?.authorizations.map((a) => a.id).sort()).toEqual(authzs.map((a) => a.id).sort());
    for (const a of found!.authorizations) {
      expect(a).toEqual(await store.getAuthorization(a.id));
      expect(a.expires).toEqual(expires);
      expect(a.challenges).toHaveLength(2);
    }
    expect(await store.getAuthorizationWithOrder(authzs[0]!.id)).toEqual({ authz: await store.getAuthorization(authzs[0]!.id), order });
    const challengeId = authzs[1]!.challenges[0]!.id;
    expect(await store.getChallengeWithAuthorization(challengeId)).toEqual({
      challenge: await store.getChallenge(challengeId),
      authz: await store.getAuthorization(authzs[1]!.id),
      order,
    });
    expect(await store.getChallengeWithAuthorization(randomUUID())).toBeNull();

    // The same reads, done with the account and the nonce's use in one call.
    const use = () => ({ value: `t${randomUUID().replace(/-/g, "")}`, issuedAt: new Date() });
    const withOrder = await store.getAccountUsingNonce(account.id, use(), { type: "order", id: order.id });
    expect(withOrder).toEqual({ account, nonceFresh: true, target: { type: "order", ...found } });
    expect((await store.getAccountUsingNonce(account.id, use(), { type: "authorization", id: authzs[0]!.id })).target).toEqual({
      type: "authorization",
      ...(await store.getAuthorizationWithOrder(authzs[0]!.id)),
    });
    expect((await store.getAccountUsingNonce(account.id, use(), { type: "challenge", id: challengeId })).target).toEqual({
      type: "challenge",
      ...(await store.getChallengeWithAuthorization(challengeId)),
    });
    for (const type of ["order", "authorization", "challenge"] as const) {
      expect(await store.getAccountUsingNonce(account.id, use(), { type, id: randomUUID() })).toEqual({ account, nonceFresh: true, target: null });
      expect((await store.getAccountUsingNonce(randomUUID(), use(), { type, id: order.id })).account).toBeNull();
    }
    expect(await store.getOrderWithAuthorizations(randomUUID())).toBeNull();
    expect(await store.getAuthorizationWithOrder(randomUUID())).toBeNull();
  });

  it("an account created with its request's nonce: only the nonce's first use creates it", async () => {
    const pid = platformId();
    const nonce = { value: `n${randomUUID().replace(/-/g, "")}`, issuedAt: new Date() };
    const make = (thumb: string) => ({ id: randomUUID(), platformId: pid, jwkThumbprint: thumb, jwk: jwk(thumb), contact: ["mailto:a@b.co"] });
    const results = await Promise.all(["k1", "k2", "k3"].map((t) => store.createAccount(make(t), undefined, nonce)));
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.find(Boolean)!;
    expect(winner).toMatchObject({ created: true, account: { platformId: pid, status: "valid", contact: ["mailto:a@b.co"] } });
    // The losers created nothing, and the nonce stays used.
    expect((await Promise.all(["k1", "k2", "k3"].map((t) => store.findAccountByThumbprint(pid, t)))).filter(Boolean)).toHaveLength(1);
    expect(await store.useNonce(nonce.value, nonce.issuedAt)).toBe(false);
    // A fresh nonce with a registered key: the nonce is used, the existing account comes back.
    const again = await store.createAccount(make(winner.account.jwkThumbprint), undefined, {
      value: `m${randomUUID().replace(/-/g, "")}`,
      issuedAt: new Date(),
    });
    expect(again).toEqual({ account: winner.account, created: false });
  });

  it("accounts: one per key and platform, even when created concurrently", async () => {
    const pid = platformId();
    const created = await Promise.all(
      Array.from({ length: 5 }, () =>
        store.createAccount({ id: randomUUID(), platformId: pid, jwkThumbprint: "t1", jwk: jwk("a"), contact: ["mailto:a@b.co"] }),
      ),
    );
    expect(created.filter((c) => c.created)).toHaveLength(1);
    expect(new Set(created.map((c) => c.account.id)).size).toBe(1);
    const acct = created[0].account;
    expect(acct).toMatchObject({ platformId: pid, jwkThumbprint: "t1", jwk: jwk("a"), status: "valid", contact: ["mailto:a@b.co"] });
    expect(acct.createdAt).toBeInstanceOf(Date);
    // Same key on another platform is another account.
    const other = await store.createAccount({ id: randomUUID(), platformId: platformId(), jwkThumbprint: "t1", jwk: jwk("a"), contact: [] });
    expect(other.created).toBe(true);

    expect(await store.findAccountByThumbprint(pid, "t1")).toEqual(acct);
    expect(await store.getAccount(randomUUID())).toBeNull();
    const updated = await store.updateAccount(acct.id, ["valid"], { contact: [] });
    expect(updated!.contact).toEqual([]);
    expect(await store.updateAccount(acct.id, ["deactivated"], { status: "valid" })).toBeNull();
    expect((await store.updateAccount(acct.id, ["valid"], { status: "deactivated" }))!.status).toBe("deactivated");
  });

  it("account key change: swap, stale old key, conflict", async () => {
    const pid = platformId();
    const { account: a } = await store.createAccount({ id: randomUUID(), platformId: pid, jwkThumbprint: "ka", jwk: jwk("a"), contact: [] });
    const { account: b } = await store.createAccount({ id: randomUUID(), platformId: pid, jwkThumbprint: "kb", jwk: jwk("b"), contact: [] });
    expect(await store.changeAccountKey(a.id, "ka", jwk("b"), "kb")).toEqual({ ok: false, reason: "conflict", conflictingAccountId: b.id });
    expect(await store.changeAccountKey(a.id, "wrong", jwk("c"), "kc")).toEqual({ ok: false, reason: "stale" });
    const r = await store.changeAccountKey(a.id, "ka", jwk("c"), "kc");
    expect(r.ok && r.account.jwk).toEqual(jwk("c"));
    expect((await store.findAccountByThumbprint(pid, "kc"))!.id).toBe(a.id);
    expect(await store.findAccountByThumbprint(pid, "ka")).toBeNull();
  });

  it("orders with authorizations and challenges; compare-and-set transitions", async () => {
    const { account } = await store.createAccount({ id: randomUUID(), platformId: platformId(), jwkThumbprint: "o", jwk: jwk("o"), contact: [] });
    const expires = new Date(Date.now() + 3600_000);
    const authzs = [newAuthz(expires), newAuthz(expires)];
    const identifiers = authzs.map((a) => ({ type: "dns" as const, value: a.identifierValue }));
    const o = await store.createOrder(
      { id: randomUUID(), accountId: account.id, identifiers, notBefore: null, notAfter: new Date("2030-01-01T00:00:00Z"), expires },
      authzs,
    );
    expect(o).toMatchObject({ status: "pending", identifiers, notBefore: null, error: null, certificateId: null });
    expect(o.notAfter!.toISOString()).toBe("2030-01-01T00:00:00.000Z");
    expect((await store.getOrder(o.id))!.expires.getTime()).toBe(expires.getTime());

    const listed = await store.listAuthorizations(o.id);
    expect(listed.map((a) => a.id).sort()).toEqual(authzs.map((a) => a.id).sort());
    for (const a of listed) {
      expect(a).toMatchObject({ status: "pending", attestedKeySpki: null, attestation: null, wildcard: false });
      expect(a.challenges.map((c) => c.type).sort()).toEqual(["dns-01", "http-01"]);
      expect(a.challenges.every((c) => c.status === "pending" && c.error === null && c.validated === null)).toBe(true);
    }

    // Exactly one of many concurrent ready → processing wins.
    expect(await store.updateOrder(o.id, ["ready"], { status: "processing" })).toBeNull();
    await new Promise((r) => setTimeout(r, 5));
    const ready = await store.updateOrder(o.id, ["pending"], { status: "ready" });
    // updatedAt moves with every transition (the abandoned-processing timeout relies on it).
    expect(ready!.updatedAt.getTime()).toBeGreaterThan(o.updatedAt.getTime());
    const wins = await Promise.all(Array.from({ length: 10 }, () => store.updateOrder(o.id, ["ready"], { status: "processing" })));
    expect(wins.filter(Boolean)).toHaveLength(1);
    const err = { type: "urn:ietf:params:acme:error:unauthorized", detail: "no", status: 403 };
    expect((await store.updateOrder(o.id, ["processing"], { status: "invalid", error: err }))!.error).toEqual(err);
    expect((await store.updateOrder(o.id, ["invalid"], { error: null }))!.error).toBeNull();
    const valid = await store.updateOrder(o.id, ["invalid"], { status: "valid", certificateId: "cert-1" });
    expect(valid!.certificateId).toBe("cert-1");

    const o2 = await store.createOrder({ id: randomUUID(), accountId: account.id, identifiers, notBefore: null, notAfter: null, expires }, []);
    expect((await store.listOrderIds(account.id, 10))[0]).toBe(o2.id);
    expect(await store.listOrderIds(account.id, 1)).toEqual([o2.id]);
    expect(await store.listOrderIds(account.id, 10)).toHaveLength(2);
  });

  it("authorization and challenge updates keep attestation data and errors", async () => {
    const { account } = await store.createAccount({ id: randomUUID(), platformId: platformId(), jwkThumbprint: "z", jwk: jwk("z"), contact: [] });
    const expires = new Date(Date.now() + 3600_000);
    const az = newAuthz(expires);
    await store.createOrder({ id: randomUUID(), accountId: account.id, identifiers: [], notBefore: null, notAfter: null, expires }, [az]);
    const ch = az.challenges[0];
    const claims = await Promise.all(Array.from({ length: 5 }, () => store.updateChallenge(ch.id, ["pending"], { status: "processing" })));
    expect(claims.filter(Boolean)).toHaveLength(1);
    const when = new Date("2026-01-02T03:04:05.678Z");
    const c = await store.updateChallenge(ch.id, ["processing"], { status: "valid", validated: when });
    expect(c).toMatchObject({ status: "valid", token: ch.token, type: "http-01", authorizationId: az.id });
    expect(c!.validated!.toISOString()).toBe(when.toISOString());
    const err = { type: "urn:ietf:params:acme:error:dns", detail: "x", status: 400, identifier: { type: "dns", value: "a" } };
    const c2 = await store.updateChallenge(az.challenges[1].id, ["pending"], { status: "invalid", error: err });
    expect((await store.getChallenge(c2!.id))!.error).toEqual(err);

    const spki = Buffer.from([0x30, 0x59, 1, 2, 3]);
    const attestation = { serialNumber: "C02", nested: { sip: 0 }, list: ["a"] };
    const a = await store.updateAuthorization(az.id, ["pending"], { status: "valid", attestedKeySpki: spki, attestation });
    expect(a!.attestedKeySpki!.equals(spki)).toBe(true);
    const again = await store.getAuthorization(az.id);
    expect(again!.attestation).toEqual(attestation);
    expect(again!.challenges.find((x) => x.id === ch.id)!.status).toBe("valid");
    expect(await store.updateAuthorization(az.id, ["pending"], { status: "invalid" })).toBeNull();
  });
});

describe("AcmeServer on SqlAcmeStore", () => {
  it("enrolls a device end to end and issues once under concurrent finalizes", async () => {
    const h = await createHarness({ store: new SqlAcmeStore(db.sql), issueDelayMs: 30 });
    const c = await TestClient.create(h.server, h.platform);
    expect((await c.newAccount({ contact: ["mailto:it@example.com"] })).status).toBe(201);
    expect((await c.newAccount({})).status).toBe(200);
    const o = await c.newOrder([{ type: "permanent-identifier", value: "DB-SERIAL" }]);
    expect(o.status).toBe(201);
    const authz = (await c.postAsGet(o.json.authorizations[0])).json;
    const ch = authz.challenges[0];
    const device = await generateEcKeys();
    const spki = await spkiOf(device);
    const v = await c.post(ch.url, { attObj: fakeAttObj({ token: ch.token, serial: "DB-SERIAL", spki }) });
    expect(v.json.status).toBe("valid");
    const row = await db.prisma.acmeAuthorization.findUniqueOrThrow({ where: { id: o.json.authorizations[0].split("/").pop() } });
    expect(row.attestedKeySpki).toBe(spki.toString("base64"));
    expect(row.attestation).toEqual({ serialNumber: "DB-SERIAL", osVersion: "17.0" });
    expect((await c.postAsGet(o.headers.Location)).json.status).toBe("ready");

    const csr = Buffer.from(await makeCsr(device)).toString("base64url");
    const nonces = await Promise.all(Array.from({ length: 6 }, () => c.freshNonce()));
    const results = await Promise.all(nonces.map((nonce) => c.post(o.json.finalize, { csr }, { nonce })));
    expect(results.map((r) => r.status)).toEqual(Array(6).fill(200));
    expect(h.issueCalls).toHaveLength(1);
    const final = await c.postAsGet(o.headers.Location);
    expect(final.json.status).toBe("valid");
    const pem = await c.postAsGet(final.json.certificate);
    expect(pem.headers["Content-Type"]).toBe("application/pem-certificate-chain");

    // Replayed nonces are refused through the database too.
    const nonce = await c.freshNonce();
    expect((await c.post(o.headers.Location, "", { nonce })).status).toBe(200);
    expect((await c.post(o.headers.Location, "", { nonce })).json.type).toBe("urn:ietf:params:acme:error:badNonce");
  });
});

describe("SqlAcmeStore with an event statement", () => {
  // The statement the portal gives it records each event in the "Event" table; this one keeps the type.
  const store = () =>
    new SqlAcmeStore(db.sql, (e, first) => ({
      text: `INSERT INTO "Event" ("type", "outcome", "actorType", "summary", "details") SELECT $${first}::text, 'success', 'device', $${first + 1}::text, '{}'::jsonb`,
      values: [e.type, e.accountId],
    }));
  const recorded = async (accountId: string) =>
    (await db.sql.query<{ type: string }>(`SELECT "type" FROM "Event" WHERE "summary" = $1 ORDER BY "id"`, [accountId])).map((r) => r.type);

  it("records an account's update, deactivation and key change with the change, and nothing when the change does not happen", async () => {
    const s = store();
    expect(s.recordsEvents).toBe(true);
    const platformId = `p-${randomUUID()}`;
    const { account } = await s.createAccount({ id: randomUUID(), platformId, jwkThumbprint: "e1", jwk: jwk("e1"), contact: [] });
    const ids = { platformId, accountId: account.id };
    const updated: AcmeEvent = { type: "account-updated", ...ids, details: { contact: ["mailto:x@example.com"], previousContact: [] } };
    expect((await s.updateAccount(account.id, ["valid"], { contact: ["mailto:x@example.com"] }, updated))!.contact).toEqual(["mailto:x@example.com"]);
    // A compare-and-set that finds the account in another status changes nothing and records nothing.
    expect(await s.updateAccount(account.id, ["deactivated"], { status: "valid" }, updated)).toBeNull();
    const keyChanged: AcmeEvent = { type: "account-key-changed", ...ids, details: { oldThumbprint: "e1", newThumbprint: "e2" } };
    expect(await s.changeAccountKey(account.id, "wrong", jwk("e2"), "e2", keyChanged)).toEqual({ ok: false, reason: "stale" });
    expect((await s.changeAccountKey(account.id, "e1", jwk("e2"), "e2", keyChanged)).ok).toBe(true);
    const deactivated: AcmeEvent = { type: "account-deactivated", ...ids, details: {} };
    expect((await s.updateAccount(account.id, ["valid"], { status: "deactivated" }, deactivated))!.status).toBe("deactivated");
    expect(await recorded(account.id)).toEqual(["account-updated", "account-key-changed", "account-deactivated"]);
  });
});
