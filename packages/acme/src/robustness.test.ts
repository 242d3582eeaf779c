import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { FlattenedSign } from "jose";
import { beforeEach, describe, expect, it } from "vitest";
import { httpProblem } from "./problems";
import { MemoryStore } from "./testing";
import { generateClientKey, TestClient, toReply, type Reply } from "./test-support/client";
import { createHarness, fakeAttObj, fakeDeviceAttestValidator, generateEcKeys, makeCsr, spkiOf, type Harness } from "./test-support/harness";
import { handleWebRequest } from "./web";

// Hostile and broken requests: each must get a problem document with a 4xx status and a fresh
// Replay-Nonce, never a 500.

const P = "urn:ietf:params:acme:error:";
const enc = (v: unknown) => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));
const b64u = (s: string | Uint8Array) => Buffer.from(s).toString("base64url");

function expectProblem(r: Reply, status: number, type: string) {
  expect(r.status, r.text).toBe(status);
  expect(r.headers["Content-Type"]).toBe("application/problem+json");
  expect(r.headers["Replay-Nonce"]).toMatch(/^[A-Za-z0-9_-]{22,}$/);
  expect(r.headers.Link).toContain('rel="index"');
  expect(r.json.type).toBe(P + type);
  expect(r.json.status).toBe(status);
  expect(typeof r.json.detail).toBe("string");
  expect(r.text).not.toMatch(/\bat .*\.ts:\d+/); // no stack traces
}

let h: Harness;
let c: TestClient;
let newOrderUrl: string;
beforeEach(async () => {
  h = await createHarness();
  c = await TestClient.create(h.server, h.platform);
  expect((await c.newAccount()).status).toBe(201);
  newOrderUrl = `${c.base}/new-order`;
});

const order = { identifiers: [{ type: "permanent-identifier", value: "SER" }] };

async function postBody(body: Uint8Array | string, contentType = "application/jose+json", url = newOrderUrl) {
  return c.raw("POST", url, { headers: { "Content-Type": contentType }, body: typeof body === "string" ? enc(body) : body });
}

async function postJws(jws: unknown, url = newOrderUrl) {
  return postBody(enc(jws), "application/jose+json", url);
}

/** A correctly signed kid JWS whose protected header is `header` verbatim (encoded by hand). */
async function handMade(header: Record<string, unknown>, payload: unknown = order) {
  const jws = await new FlattenedSign(enc(payload)).setProtectedHeader(header as never).sign(c.key.privateKey);
  return jws;
}

describe("transport", () => {
  it("wrong content type → 415", async () => {
    const jws = await c.jws(newOrderUrl, order);
    expectProblem(await postBody(enc(jws), "application/json"), 415, "malformed");
    expectProblem(await postBody(enc(jws), ""), 415, "malformed");
  });

  it("accepts a content type with parameters", async () => {
    const jws = await c.jws(newOrderUrl, order);
    expect((await postBody(enc(jws), "application/jose+json; charset=utf-8")).status).toBe(201);
  });

  it("oversized body → 413 (core and web adapter)", async () => {
    const big = new Uint8Array(64 * 1024 + 1).fill(0x20);
    expectProblem(await postBody(big), 413, "malformed");
    const res = await handleWebRequest(
      h.server,
      new Request(newOrderUrl, { method: "POST", headers: { "Content-Type": "application/jose+json" }, body: big }),
      h.platform,
    );
    expect(res.status).toBe(413);
    expect(res.headers.get("Replay-Nonce")).toBeTruthy();
    expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  });

  it("web adapter round trip: a real newNonce and a signed request", async () => {
    const res = await handleWebRequest(h.server, new Request(`${c.base}/new-nonce`, { method: "HEAD" }), h.platform);
    expect(res.status).toBe(200);
    const nonce = res.headers.get("Replay-Nonce")!;
    const jws = await c.jws(newOrderUrl, order, { nonce });
    const res2 = await handleWebRequest(
      h.server,
      new Request(newOrderUrl, { method: "POST", headers: { "Content-Type": "application/jose+json" }, body: JSON.stringify(jws) }),
      h.platform,
    );
    expect(res2.status).toBe(201);
    expect(res2.headers.get("Location")).toMatch(/\/order\//);
  });

  it("empty body, wrong method, unknown path", async () => {
    expectProblem(await postBody(new Uint8Array()), 400, "malformed");
    const get = await c.raw("GET", newOrderUrl);
    expectProblem(get, 405, "malformed");
    expect(get.headers.Allow).toBe("POST");
    expectProblem(await c.raw("GET", `${c.base}/nope`), 404, "malformed");
    expectProblem(await c.raw("GET", `${c.base}/order/../../x`), 404, "malformed");
    expectProblem(await c.raw("GET", "https://pki.example.com/elsewhere/directory"), 404, "malformed");
  });
});

describe("JWS structure", () => {
  it("invalid JSON, non-object, invalid UTF-8", async () => {
    expectProblem(await postBody("{not json"), 400, "malformed");
    expectProblem(await postBody("[1,2]"), 400, "malformed");
    expectProblem(await postBody(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), 400, "malformed");
  });

  it("missing members, unknown members, general serialization, unprotected header", async () => {
    const jws = await c.jws(newOrderUrl, order);
    expectProblem(await postJws({ protected: jws.protected, payload: jws.payload }), 400, "malformed");
    expectProblem(await postJws({ payload: jws.payload, signature: jws.signature }), 400, "malformed");
    expectProblem(await postJws({ ...jws, extra: 1 }), 400, "malformed");
    expectProblem(await postJws({ ...jws, header: { kid: c.kid } }), 400, "malformed");
    expectProblem(await postJws({ payload: jws.payload, signatures: [{ protected: jws.protected, signature: jws.signature }] }), 400, "malformed");
    expectProblem(await postJws({ ...jws, payload: 5 }), 400, "malformed");
  });

  it("invalid base64url in each member", async () => {
    const jws = await c.jws(newOrderUrl, order);
    expectProblem(await postJws({ ...jws, protected: `${jws.protected}*` }), 400, "malformed");
    expectProblem(await postJws({ ...jws, payload: "a" }), 400, "malformed");
    expectProblem(await postJws({ ...jws, signature: "++//" }), 400, "malformed");
    expectProblem(await postJws({ ...jws, protected: b64u("not json") }), 400, "malformed");
    expectProblem(await postJws({ ...jws, payload: b64u("[]") }), 400, "malformed");
  });

  it("alg none and HMAC algorithms → badSignatureAlgorithm listing the accepted ones", async () => {
    for (const alg of ["none", "HS256", "PS256", "ES512"]) {
      const nonce = await c.freshNonce();
      const prot = b64u(JSON.stringify({ alg, kid: c.kid, nonce, url: newOrderUrl }));
      const r = await postJws({ protected: prot, payload: b64u(JSON.stringify(order)), signature: alg === "none" ? "" : "AAAA" });
      if (alg === "none") {
        // An empty signature is malformed before the algorithm is even looked at; with one, alg decides.
        expectProblem(r, 400, "malformed");
        const r2 = await postJws({ protected: prot, payload: b64u(JSON.stringify(order)), signature: "AA" });
        expectProblem(r2, 400, "badSignatureAlgorithm");
        expect(r2.json.algorithms).toEqual(["ES256", "ES384", "RS256", "EdDSA"]);
      } else {
        expectProblem(r, 400, "badSignatureAlgorithm");
        expect(r.json.algorithms).toContain("ES256");
      }
    }
  });

  it("header rules: exactly one of jwk/kid, no private keys, no unknown fields, alg must fit the key", async () => {
    const nonce = () => c.freshNonce();
    expectProblem(await postJws(await handMade({ alg: "ES256", nonce: await nonce(), url: newOrderUrl })), 400, "malformed");
    expectProblem(await postJws(await handMade({ alg: "ES256", nonce: await nonce(), url: newOrderUrl, kid: c.kid, jwk: c.key.jwk })), 400, "malformed");
    expectProblem(await postJws(await handMade({ alg: "ES256", nonce: await nonce(), url: newOrderUrl, kid: c.kid, typ: "JWT" })), 400, "malformed");
    expectProblem(
      await postJws(await handMade({ alg: "ES256", nonce: await nonce(), url: newOrderUrl, kid: c.kid, crit: ["b64"], b64: false })),
      400,
      "malformed",
    );
    const priv = { ...c.key.jwk, d: "AAAA" };
    const newAcct = `${c.base}/new-account`;
    expectProblem(await postJws(await handMade({ alg: "ES256", nonce: await nonce(), url: newAcct, jwk: priv }, {}), newAcct), 400, "malformed");
    // ES384 with a P-256 key
    // (jose will not sign that, and the key check comes before the signature, so any signature does)
    const mismatched = {
      protected: b64u(JSON.stringify({ alg: "ES384", jwk: c.key.jwk, nonce: await nonce(), url: newAcct })),
      payload: b64u("{}"),
      signature: b64u(new Uint8Array(96)),
    };
    expectProblem(await postJws(mismatched, newAcct), 400, "badSignatureAlgorithm");
    // kid on newAccount, jwk on newOrder
    expectProblem(await postJws(await c.jws(newAcct, {}, { kid: c.kid! }), newAcct), 400, "malformed");
    expectProblem(await postJws(await c.jws(newOrderUrl, order, { useJwk: true })), 400, "malformed");
  });

  it("small RSA keys are refused with badPublicKey", async () => {
    // jose refuses to sign with RSA-1024, so this JWS is built by hand with node:crypto.
    const { generateKeyPairSync, sign } = await import("node:crypto");
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
    const jwk = publicKey.export({ format: "jwk" });
    const url = `${c.base}/new-account`;
    const prot = b64u(JSON.stringify({ alg: "RS256", jwk: { kty: jwk.kty, n: jwk.n, e: jwk.e }, nonce: await c.freshNonce(), url }));
    const payload = b64u("{}");
    const signature = sign("sha256", Buffer.from(`${prot}.${payload}`), privateKey).toString("base64url");
    expectProblem(await postJws({ protected: prot, payload, signature }, url), 400, "badPublicKey");
  });

  it("accepts ES384, RS256 and EdDSA account keys", async () => {
    for (const alg of ["ES384", "RS256", "EdDSA"] as const) {
      const other = await TestClient.create(h.server, h.platform, alg);
      expect((await other.newAccount()).status, alg).toBe(201);
      expect((await other.newOrder(order.identifiers)).status, alg).toBe(201);
    }
  });
});

describe("signatures, nonces, accounts, URLs", () => {
  it("bad signature → malformed", async () => {
    const jws = await c.jws(newOrderUrl, order);
    const tampered = { ...jws, payload: b64u(JSON.stringify({ identifiers: [{ type: "permanent-identifier", value: "EVIL" }] })) };
    expectProblem(await postJws(tampered), 400, "malformed");
    const other = await generateClientKey();
    expectProblem(await postJws(await c.jws(newOrderUrl, order, { key: other })), 400, "malformed");
  });

  it("missing, unknown, malformed and replayed nonces → badNonce", async () => {
    expectProblem(await postJws(await c.jws(newOrderUrl, order, { nonce: null })), 400, "badNonce");
    expectProblem(await postJws(await c.jws(newOrderUrl, order, { nonce: b64u("x".repeat(16)) })), 400, "badNonce");
    expectProblem(await postJws(await c.jws(newOrderUrl, order, { nonce: "not a nonce!" })), 400, "badNonce");
    expectProblem(await postJws(await handMade({ alg: "ES256", nonce: 42, url: newOrderUrl, kid: c.kid })), 400, "badNonce");
    const nonce = await c.freshNonce();
    const jws = await c.jws(newOrderUrl, order, { nonce });
    expect((await postJws(jws)).status).toBe(201);
    expectProblem(await postJws(jws), 400, "badNonce");
    const jws2 = await c.jws(newOrderUrl, { ...order, x: 1 }, { nonce });
    expectProblem(await postJws(jws2), 400, "badNonce");
  });

  it("a failed signature does not burn the nonce", async () => {
    const nonce = await c.freshNonce();
    expectProblem(await postJws(await c.jws(newOrderUrl, order, { nonce, key: await generateClientKey() })), 400, "malformed");
    expect((await postJws(await c.jws(newOrderUrl, order, { nonce }))).status).toBe(201);
  });

  it("newAccount uses its nonce once, on every path (created, existing key, onlyReturnExisting, refused contact)", async () => {
    const c2 = await TestClient.create(h.server, h.platform);
    const replayed = async (payload: unknown, first: number) => {
      const nonce = await c2.freshNonce();
      expect((await c2.post(`${c2.base}/new-account`, payload, { nonce, useJwk: true })).status).toBe(first);
      expectProblem(await c2.post(`${c2.base}/new-account`, payload, { nonce, useJwk: true }), 400, "badNonce");
    };
    await replayed({ termsOfServiceAgreed: true }, 201);
    await replayed({ termsOfServiceAgreed: true }, 200);
    await replayed({ onlyReturnExisting: true }, 200);
    await replayed({ contact: ["tel:+1555"] }, 200);
    const c3 = await TestClient.create(h.server, h.platform);
    const nonce = await c3.freshNonce();
    expectProblem(await c3.post(`${c3.base}/new-account`, { contact: ["tel:+1555"] }, { nonce, useJwk: true }), 400, "unsupportedContact");
    expectProblem(await c3.post(`${c3.base}/new-account`, {}, { nonce, useJwk: true }), 400, "badNonce");
    expectProblem(await c3.post(`${c3.base}/new-account`, { onlyReturnExisting: true }), 400, "accountDoesNotExist");
  });

  it("nonces expire", async () => {
    let now = Date.now();
    const h2 = await createHarness({ now: () => new Date(now), nonceLifetimeMs: 1000 });
    const c2 = await TestClient.create(h2.server, h2.platform);
    const nonce = await c2.freshNonce();
    now += 2000;
    expectProblem(await c2.post(`${c2.base}/new-account`, {}, { nonce, useJwk: true }), 400, "badNonce");
  });

  it("signed nonces (nonceKey): requests work, a replay or another key's nonce → badNonce, no write to issue", async () => {
    const store = new MemoryStore();
    const key = randomBytes(32);
    const h2 = await createHarness({ store, nonceKey: key });
    const c2 = await TestClient.create(h2.server, h2.platform);
    expect((await c2.newAccount()).status).toBe(201);
    expect(store.nonceCount).toBe(1); // the nonce newAccount used, not every nonce handed out
    const nonce = await c2.freshNonce();
    const body = new TextEncoder().encode(JSON.stringify(await c2.jws(`${c2.base}/new-order`, order, { nonce })));
    const send = () => c2.raw("POST", `${c2.base}/new-order`, { headers: { "Content-Type": "application/jose+json" }, body });
    expect((await send()).status).toBe(201);
    expectProblem(await send(), 400, "badNonce");
    // A second instance with the same key and store accepts this one's nonces, exactly once.
    const h3 = await createHarness({ store, nonceKey: key });
    const r = await h3.server.handle({ method: "HEAD", url: `${c2.base}/new-nonce`, headers: {}, body: null }, h2.platform);
    const shared = r.headers["Replay-Nonce"]!;
    expect((await c2.post(`${c2.base}/new-order`, order, { nonce: shared })).status).toBe(201);
    expectProblem(await c2.post(`${c2.base}/new-order`, order, { nonce: shared }), 400, "badNonce");
    // A server with another key refuses them.
    const h4 = await createHarness({ store, nonceKey: randomBytes(32) });
    const c4 = await TestClient.create(h4.server, h4.platform);
    expectProblem(await c4.post(`${c4.base}/new-account`, {}, { nonce: await c2.freshNonce(), useJwk: true }), 400, "badNonce");
  });

  it("unknown kid → accountDoesNotExist", async () => {
    expectProblem(await postJws(await c.jws(newOrderUrl, order, { kid: `${c.base}/acct/00000000-0000-0000-0000-000000000000` })), 400, "accountDoesNotExist");
    expectProblem(await postJws(await c.jws(newOrderUrl, order, { kid: "https://evil.example/acct/1" })), 400, "accountDoesNotExist");
    expectProblem(await postJws(await c.jws(newOrderUrl, order, { kid: `${c.base}/acct/../x` })), 400, "accountDoesNotExist");
  });

  it("url mismatch → unauthorized", async () => {
    expectProblem(await postJws(await c.jws(newOrderUrl, order, { url: `${c.base}/new-account` })), 403, "unauthorized");
    expectProblem(await postJws(await c.jws(newOrderUrl, order, { url: newOrderUrl.replace("pki.example.com", "localhost:3000") })), 403, "unauthorized");
    // The signed URL is what counts, not the Host the request arrived on.
    const jws = await c.jws(newOrderUrl, order);
    const r = await c.raw("POST", "http://127.0.0.1:3000/acme/s3cret/new-order", {
      headers: { "Content-Type": "application/jose+json" },
      body: enc(jws),
    });
    expect(r.status).toBe(201);
  });

  it("unexpected store failures → serverInternal 500 without details", async () => {
    class Failing extends MemoryStore {
      override async getAccount(): Promise<never> {
        throw new Error("connection to db-primary:5432 refused (password=hunter2)");
      }
    }
    const h2 = await createHarness({ store: new Failing() });
    const c2 = await TestClient.create(h2.server, h2.platform);
    await c2.newAccount();
    const r = await c2.newOrder(order.identifiers);
    expect(r.status).toBe(500);
    expect(r.json).toEqual({ type: `${P}serverInternal`, detail: "The server encountered an internal error", status: 500 });
    expect(r.headers["Replay-Nonce"]).toBeTruthy();
    expect(h2.errors).toHaveLength(1);
  });

  it("fuzz: arbitrary bodies never cause a 5xx", async () => {
    const jws = await c.jws(newOrderUrl, order);
    const bodies = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.json().map((s) => enc(s)),
      fc
        .record({
          protected: fc.oneof(
            fc.constant(jws.protected),
            fc.string(),
            fc.base64String().map((s) => s.replace(/=/g, "")),
          ),
          payload: fc.oneof(fc.constant(jws.payload), fc.string(), fc.constant("")),
          signature: fc.oneof(fc.constant(jws.signature), fc.string()),
        })
        // The one valid combination is not a hostile body.
        .filter((o) => !(o.protected === jws.protected && o.payload === jws.payload && o.signature === jws.signature))
        .map((o) => enc(o)),
      fc.jsonValue().map((v) => enc({ protected: b64u(JSON.stringify(v)), payload: jws.payload, signature: jws.signature })),
    );
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const r = await postBody(body);
        expect(r.status).toBeGreaterThanOrEqual(400);
        expect(r.status).toBeLessThan(500);
        expect(r.headers["Replay-Nonce"]).toBeTruthy();
        expect(r.json.type.startsWith(P)).toBe(true);
      }),
      { numRuns: 300 },
    );
    expect(h.errors).toEqual([]);
  });

  it("every response carries a fresh, distinct nonce", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const r = toReply(await h.server.handle({ method: "GET", url: `${c.base}/directory`, headers: {}, body: null }, h.platform));
      seen.add(r.headers["Replay-Nonce"]);
    }
    expect(seen.size).toBe(5);
  });
});

describe("storage failures", () => {
  // What a driver throws while the database restarts, and the server's test for it.
  const refused = () => Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
  const isUnavailable = (e: unknown) => (e as { code?: string }).code === "ECONNREFUSED";

  it("an unavailable store is 503 with Retry-After and a nonce; any other failure is a bare 500; the retry succeeds", async () => {
    let failure: Error | null = null;
    const base = new MemoryStore();
    // Every store call fails while `failure` is set, as every query does while the database restarts.
    const store = new Proxy(base, {
      get(target, key, receiver) {
        const v = Reflect.get(target, key, receiver) as unknown;
        if (typeof v !== "function") return v;
        return (...args: unknown[]) => {
          if (failure) throw failure;
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const hs = await createHarness({ store, isUnavailable });
    const cs = await TestClient.create(hs.server, hs.platform);
    expect((await cs.newAccount()).status).toBe(201);
    const url = `${cs.base}/new-order`;

    failure = refused();
    const down = await cs.newOrder(order.identifiers);
    expectProblem(down, 503, "serverInternal");
    expect(down.headers["Retry-After"]).toBe("1");
    expect(down.json.detail).toMatch(/temporarily unavailable/);

    failure = new Error("db exploded: password=hunter2");
    const crash = await cs.post(url, order);
    expectProblem(crash, 500, "serverInternal");
    expect(crash.headers["Retry-After"]).toBeUndefined();
    expect(crash.text).not.toContain("hunter2");

    failure = null;
    expect((await cs.newOrder(order.identifiers)).status).toBe(201);
  });

  it("a validation or issuance the storage interrupts settles nothing: 503, then the same challenge and order succeed", async () => {
    let validationFails = false;
    let issuanceFails = false;
    const hs = await createHarness({
      isUnavailable,
      // As the real validator and issuer do when they read configuration or write while PostgreSQL restarts.
      validators: {
        "device-attest-01": async (args) => {
          if (validationFails) throw refused();
          return fakeDeviceAttestValidator(args);
        },
      },
      beforeIssue: () => {
        if (issuanceFails) throw refused();
      },
    });
    const cs = await TestClient.create(hs.server, hs.platform);
    expect((await cs.newAccount()).status).toBe(201);
    const o = await cs.newOrder([{ type: "permanent-identifier", value: "SER-DOWN" }]);
    const authzUrl = o.json.authorizations[0];
    const ch = (await cs.postAsGet(authzUrl)).json.challenges[0];
    const device = await generateEcKeys();
    const answer = { attObj: fakeAttObj({ token: ch.token, serial: "SER-DOWN", spki: await spkiOf(device) }) };

    validationFails = true;
    const down = await cs.post(ch.url, answer);
    expectProblem(down, 503, "serverInternal");
    expect(down.headers["Retry-After"]).toBe("1");
    expect((await cs.postAsGet(authzUrl)).json.challenges[0].status).toBe("pending");
    validationFails = false;
    expect((await cs.post(ch.url, answer)).json.status).toBe("valid");

    const csr = { csr: b64u(await makeCsr(device)) };
    issuanceFails = true;
    const fin = await cs.post(o.json.finalize, csr);
    expectProblem(fin, 503, "serverInternal");
    expect((await cs.postAsGet(o.headers.Location)).json.status).toBe("ready");
    issuanceFails = false;
    const done = await cs.post(o.json.finalize, csr);
    expect(done.json.status).toBe("valid");
    expect(hs.issued.size).toBe(1);
    // No event says the device or the order failed.
    expect(hs.events.map((e) => e.type).filter((t) => /invalid|rejected/.test(t))).toEqual([]);
  });

  it("an issuer that cannot decide for now (the device's MDM is down) answers 503 with its Retry-After, and the same order succeeds later", async () => {
    let mdmDown = true;
    const hs = await createHarness({
      beforeIssue: () => {
        if (mdmDown) throw httpProblem.unavailable(30);
      },
    });
    const cs = await TestClient.create(hs.server, hs.platform);
    expect((await cs.newAccount()).status).toBe(201);
    const o = await cs.newOrder([{ type: "permanent-identifier", value: "SER-MDM" }]);
    const authzUrl = o.json.authorizations[0];
    const ch = (await cs.postAsGet(authzUrl)).json.challenges[0];
    const device = await generateEcKeys();
    expect((await cs.post(ch.url, { attObj: fakeAttObj({ token: ch.token, serial: "SER-MDM", spki: await spkiOf(device) }) })).json.status).toBe("valid");
    const csr = { csr: b64u(await makeCsr(device)) };
    const fin = await cs.post(o.json.finalize, csr);
    expectProblem(fin, 503, "serverInternal");
    expect(fin.headers["Retry-After"]).toBe("30");
    expect((await cs.postAsGet(o.headers.Location)).json.status).toBe("ready");
    mdmDown = false;
    expect((await cs.post(o.json.finalize, csr)).json.status).toBe("valid");
    expect(hs.issued.size).toBe(1);
    expect(hs.events.map((e) => e.type).filter((t) => /invalid|rejected/.test(t))).toEqual([]);
  });

  it("an order whose issuance the outage interrupted goes back to ready once the storage is back, without a request", async () => {
    let issuanceFails = false;
    let giveBacksRefused = 0;
    const base = new MemoryStore();
    // The database is still down when finalize hands the order back: the first give-back fails too.
    const store = new Proxy(base, {
      get(target, key, receiver) {
        const v = Reflect.get(target, key, receiver) as unknown;
        if (key !== "updateOrder" || typeof v !== "function") return v;
        return (...args: unknown[]) => {
          if ((args[2] as { status?: string }).status === "ready" && giveBacksRefused-- > 0) throw refused();
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const hs = await createHarness({
      store,
      isUnavailable,
      beforeIssue: () => {
        if (issuanceFails) throw refused();
      },
    });
    const cs = await TestClient.create(hs.server, hs.platform);
    expect((await cs.newAccount()).status).toBe(201);
    const o = await cs.newOrder([{ type: "permanent-identifier", value: "SER-LATER" }]);
    const ch = (await cs.postAsGet(o.json.authorizations[0])).json.challenges[0];
    const device = await generateEcKeys();
    expect((await cs.post(ch.url, { attObj: fakeAttObj({ token: ch.token, serial: "SER-LATER", spki: await spkiOf(device) }) })).json.status).toBe("valid");

    const csr = { csr: b64u(await makeCsr(device)) };
    issuanceFails = true;
    giveBacksRefused = 1;
    expectProblem(await cs.post(o.json.finalize, csr), 503, "serverInternal");
    issuanceFails = false;
    expect((await cs.postAsGet(o.headers.Location)).json.status).toBe("processing");
    // The give-back is tried again a second later, by the server itself.
    await new Promise((r) => setTimeout(r, 1_200));
    expect((await cs.postAsGet(o.headers.Location)).json.status).toBe("ready");
    expect((await cs.post(o.json.finalize, csr)).json.status).toBe("valid");
    // What was reported is the outage itself (logged for the operator), nothing else.
    expect(hs.errors.map((e) => (e as { code?: string }).code)).toEqual(["ECONNREFUSED"]);
  });
});
