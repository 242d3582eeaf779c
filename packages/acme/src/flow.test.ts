import http from "node:http";
import type { AddressInfo } from "node:net";
import { X509Certificate } from "node:crypto";
import { calculateJwkThumbprint } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDns01Validator, createHttp01Validator, dns01Digest } from "./validation";
import { RecentChains } from "./context";
import { MemoryStore } from "./testing";
import { generateClientKey, signJws, TestClient } from "./test-support/client";
import { createHarness, fakeAttObj, fakeDeviceAttestValidator, generateEcKeys, makeCsr, spkiOf, type Harness } from "./test-support/harness";
import type { TxtResolver } from "./validation";

// End-to-end protocol flows against AcmeServer.handle (RFC 8555 §7), with the in-memory store.

const P = "urn:ietf:params:acme:error:";
const b64u = (b: Uint8Array) => Buffer.from(b).toString("base64url");

/** A loopback HTTP server that answers http-01 requests from a token → key authorization map. */
let challengeServer: http.Server;
let challengePort: number;
const served = new Map<string, string>();
const seenHostHeaders: string[] = [];
beforeAll(async () => {
  challengeServer = http.createServer((req, res) => {
    seenHostHeaders.push(req.headers.host ?? "");
    const m = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]+)$/.exec(req.url ?? "");
    const ka = m && served.get(m[1]);
    if (!ka) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, { "Content-Type": "text/plain" }).end(`${ka}\n`);
  });
  await new Promise<void>((r) => challengeServer.listen(0, "127.0.0.1", r));
  challengePort = (challengeServer.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => challengeServer.close(() => r())));

const txt = new Map<string, string[][]>();
const resolver: TxtResolver = {
  async resolveTxt(name) {
    const v = txt.get(name);
    if (!v) throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
    return v;
  },
};

function validators() {
  return {
    "http-01": createHttp01Validator({ port: challengePort, timeoutMs: 2000, resolveHost: () => "127.0.0.1", allowPrivateAddresses: true }),
    "dns-01": createDns01Validator({ resolver }),
    "device-attest-01": fakeDeviceAttestValidator,
  };
}

async function accountClient(h: Harness) {
  const c = await TestClient.create(h.server, h.platform);
  const r = await c.newAccount();
  expect(r.status).toBe(201);
  return c;
}

async function thumbprint(c: TestClient) {
  return calculateJwkThumbprint(c.key.jwk, "sha256");
}

async function orderAuthz(c: TestClient, order: { authorizations: string[] }, i = 0) {
  const r = await c.postAsGet(order.authorizations[i]);
  expect(r.status).toBe(200);
  return r.json;
}

/** An order for a permanent identifier, attested with a fresh device key: ready to finalize with that key. */
async function readyOrder(c: TestClient, serial: string) {
  const o = await c.newOrder([{ type: "permanent-identifier", value: serial }]);
  const ch = (await orderAuthz(c, o.json)).challenges[0];
  const device = await generateEcKeys();
  await c.post(ch.url, { attObj: fakeAttObj({ token: ch.token, serial, spki: await spkiOf(device) }) });
  return { o, device };
}

describe("directory and nonces", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ meta: { website: "https://example.com", caaIdentities: ["example.com"] } });
  });

  it("serves the directory with URLs from the configured base, not the Host header", async () => {
    const r = await h.server.handle({ method: "GET", url: "http://internal-host:3000/acme/s3cret/directory", headers: {}, body: null }, h.platform);
    expect(r.status).toBe(200);
    expect(r.headers["Content-Type"]).toBe("application/json");
    expect(r.headers["Replay-Nonce"]).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    expect(r.headers.Link).toBe('<https://pki.example.com/acme/s3cret/directory>;rel="index"');
    const d = JSON.parse(r.body as string);
    expect(d).toEqual({
      newNonce: "https://pki.example.com/acme/s3cret/new-nonce",
      newAccount: "https://pki.example.com/acme/s3cret/new-account",
      newOrder: "https://pki.example.com/acme/s3cret/new-order",
      revokeCert: "https://pki.example.com/acme/s3cret/revoke-cert",
      keyChange: "https://pki.example.com/acme/s3cret/key-change",
      meta: { website: "https://example.com", caaIdentities: ["example.com"], externalAccountRequired: false },
    });
  });

  it("newNonce: HEAD 200, GET 204, no-store, others 405", async () => {
    const c = await TestClient.create(h.server, h.platform);
    const head = await c.raw("HEAD", `${c.base}/new-nonce`);
    expect(head.status).toBe(200);
    expect(head.text).toBe("");
    expect(head.headers["Cache-Control"]).toBe("no-store");
    const get = await c.raw("GET", `${c.base}/new-nonce`);
    expect(get.status).toBe(204);
    expect(get.headers["Replay-Nonce"]).not.toBe(head.headers["Replay-Nonce"]);
    const post = await c.raw("POST", `${c.base}/new-nonce`);
    expect(post.status).toBe(405);
    expect(post.headers.Allow).toBe("HEAD, GET");
    expect(post.json.type).toBe(`${P}malformed`);
  });
});

describe("accounts", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ validators: validators() });
  });

  it("creates an account once and returns the same one for the same key", async () => {
    const c = await TestClient.create(h.server, h.platform);
    const r1 = await c.newAccount({ termsOfServiceAgreed: true, contact: ["mailto:admin@example.com"] });
    expect(r1.status).toBe(201);
    expect(r1.headers.Location).toMatch(/^https:\/\/pki\.example\.com\/acme\/s3cret\/acct\/[0-9a-f-]{36}$/);
    expect(r1.json).toEqual({ status: "valid", contact: ["mailto:admin@example.com"], orders: `${r1.headers.Location}/orders` });
    const r2 = await c.newAccount({});
    expect(r2.status).toBe(200);
    expect(r2.headers.Location).toBe(r1.headers.Location);
    expect(h.events.filter((e) => e.type === "account-created")).toHaveLength(1);
  });

  it("onlyReturnExisting with an unknown key answers accountDoesNotExist", async () => {
    const c = await TestClient.create(h.server, h.platform);
    const r = await c.newAccount({ onlyReturnExisting: true });
    expect(r.status).toBe(400);
    expect(r.json.type).toBe(`${P}accountDoesNotExist`);
  });

  it("validates contacts", async () => {
    const cases: [unknown, string][] = [
      [["tel:+123"], "unsupportedContact"],
      [["mailto:a@example.com?subject=x"], "invalidContact"],
      [["mailto:a@example.com,b@example.com"], "invalidContact"],
      [["mailto:not-an-address"], "invalidContact"],
      ["mailto:a@example.com", "malformed"],
    ];
    for (const [contact, type] of cases) {
      const c = await TestClient.create(h.server, h.platform);
      const r = await c.newAccount({ contact });
      expect(r.json.type, JSON.stringify(contact)).toBe(P + type);
      expect(r.status).toBe(400);
    }
  });

  it("requires agreement to the terms when configured", async () => {
    const h2 = await createHarness({ meta: { termsOfService: "https://example.com/tos", requireTermsOfServiceAgreement: true } });
    const c = await TestClient.create(h2.server, h2.platform);
    const dir = await c.directory();
    expect(dir.json.meta.termsOfService).toBe("https://example.com/tos");
    expect((await c.newAccount({})).json.detail).toMatch(/terms of service/);
    expect((await c.newAccount({ termsOfServiceAgreed: true })).status).toBe(201);
  });

  it("updates contacts, lists orders, and deactivates (then refuses the account with 401)", async () => {
    const c = await accountClient(h);
    const up = await c.post(c.kid!, { contact: ["mailto:new@example.com"] });
    expect(up.status).toBe(200);
    expect(up.json.contact).toEqual(["mailto:new@example.com"]);
    const get = await c.postAsGet(c.kid!);
    expect(get.json.contact).toEqual(["mailto:new@example.com"]);

    const o = await c.newOrder([{ type: "permanent-identifier", value: "SERIAL1" }]);
    const list = await c.postAsGet(`${c.kid}/orders`);
    expect(list.json.orders).toEqual([o.headers.Location]);

    const other = await accountClient(h);
    const foreign = await other.post(c.kid!, { contact: [] });
    expect(foreign.status).toBe(403);
    expect(foreign.json.type).toBe(`${P}unauthorized`);

    const bad = await c.post(c.kid!, { status: "revoked" });
    expect(bad.json.type).toBe(`${P}malformed`);
    const deact = await c.post(c.kid!, { status: "deactivated" });
    expect(deact.status).toBe(200);
    expect(deact.json.status).toBe("deactivated");
    const after = await c.newOrder([{ type: "permanent-identifier", value: "SERIAL1" }]);
    expect(after.status).toBe(401);
    expect(after.json.type).toBe(`${P}unauthorized`);
    const again = await c.newAccount({});
    expect(again.status).toBe(401);
    expect(h.events.map((e) => e.type)).toContain("account-deactivated");
  });

  it("rolls the account key over (keyChange) and refuses a key already in use with 409", async () => {
    const c = await accountClient(h);
    const newKey = await generateClientKey("ES384");
    const url = `${c.base}/key-change`;
    const inner = await signJws({ account: c.kid, oldKey: c.key.jwk }, { url, jwk: newKey.jwk }, newKey);
    const r = await c.post(url, inner);
    expect(r.status).toBe(200);
    expect(r.headers.Location).toBe(c.kid);

    const old = await c.postAsGet(c.kid!);
    expect(old.status).toBe(400);
    expect(old.json.detail).toMatch(/algorithm ES256 does not match|requires curve|signature/i);
    c.key = newKey;
    expect((await c.postAsGet(c.kid!)).status).toBe(200);

    // Another account's key cannot be taken over.
    const d = await accountClient(h);
    const inner2 = await signJws({ account: c.kid, oldKey: c.key.jwk }, { url, jwk: d.key.jwk }, d.key);
    const conflict = await c.post(url, inner2);
    expect(conflict.status).toBe(409);
    expect(conflict.headers.Location).toBe(d.kid);

    // The inner JWS must be signed by the key it carries, for this URL, naming this account.
    const wrongUrl = await signJws({ account: c.kid, oldKey: c.key.jwk }, { url: `${c.base}/x`, jwk: newKey.jwk }, newKey);
    expect((await c.post(url, wrongUrl)).json.type).toBe(`${P}malformed`);
    const wrongOld = await generateClientKey();
    const inner3 = await signJws({ account: c.kid, oldKey: wrongOld.jwk }, { url, jwk: wrongOld.jwk }, wrongOld);
    expect((await c.post(url, inner3)).json.detail).toMatch(/oldKey/);
  });
});

describe("orders and identifiers", () => {
  let h: Harness;
  let c: TestClient;
  beforeEach(async () => {
    h = await createHarness({
      validators: validators(),
      platform: { allowedIdentifierTypes: ["permanent-identifier", "dns"], allowedChallenges: ["device-attest-01", "http-01", "dns-01"] },
    });
    c = await accountClient(h);
  });

  it("creates authorizations with the platform's challenges and strong tokens", async () => {
    const r = await c.newOrder([
      { type: "dns", value: "WWW.Example.com" },
      { type: "dns", value: "www.example.com" },
      { type: "dns", value: "*.example.com" },
    ]);
    expect(r.status).toBe(201);
    expect(r.headers.Location).toMatch(/\/order\/[0-9a-f-]{36}$/);
    expect(r.json.status).toBe("pending");
    expect(r.json.identifiers).toEqual([
      { type: "dns", value: "www.example.com" },
      { type: "dns", value: "*.example.com" },
    ]);
    expect(r.json.finalize).toBe(`${r.headers.Location}/finalize`);
    expect(new Date(r.json.expires).getTime()).toBeGreaterThan(Date.now());
    const authzs = await Promise.all(r.json.authorizations.map((u: string) => c.postAsGet(u)));
    const byValue = Object.fromEntries(authzs.map((a) => [a.json.wildcard ? "*" : a.json.identifier.value, a.json]));
    expect(byValue["www.example.com"].challenges.map((x: any) => x.type).sort()).toEqual(["dns-01", "http-01"]);
    expect(byValue["*"].identifier).toEqual({ type: "dns", value: "example.com" });
    expect(byValue["*"].challenges.map((x: any) => x.type)).toEqual(["dns-01"]);
    for (const a of authzs) {
      for (const ch of a.json.challenges) {
        expect(ch.token).toMatch(/^[A-Za-z0-9_-]{43,}$/); // ≥ 256 bits, base64url without padding
        expect(ch.status).toBe("pending");
        expect(ch.url).toMatch(/^https:\/\/pki\.example\.com\/acme\/s3cret\/chall\//);
      }
    }
    expect(h.events.find((e) => e.type === "order-created")?.details.identifiers).toEqual(r.json.identifiers);
  });

  it("refuses identifiers per type and platform, with subproblems for several", async () => {
    const ip = await c.newOrder([{ type: "ip", value: "192.0.2.1" }]);
    expect(ip.json.type).toBe(`${P}unsupportedIdentifier`);
    const unknown = await c.newOrder([{ type: "email", value: "a@b.c" }]);
    expect(unknown.json.type).toBe(`${P}unsupportedIdentifier`);
    const bad = await c.newOrder([{ type: "dns", value: "bad_name.example.com" }]);
    expect(bad.json.type).toBe(`${P}rejectedIdentifier`);
    expect(bad.json.identifier).toEqual({ type: "dns", value: "bad_name.example.com" });
    const several = await c.newOrder([
      { type: "dns", value: "-x.example.com" },
      { type: "email", value: "a@b.c" },
      { type: "dns", value: "ok.example.com" },
    ]);
    expect(several.status).toBe(400);
    expect(several.json.type).toBe(`${P}compound`);
    expect(several.json.subproblems.map((s: any) => s.type)).toEqual([`${P}rejectedIdentifier`, `${P}unsupportedIdentifier`]);
    expect((await c.newOrder([])).json.type).toBe(`${P}malformed`);
    expect((await c.newOrder([{ type: "permanent-identifier", value: "bad\u0001" }])).json.type).toBe(`${P}rejectedIdentifier`);
    expect((await c.post(`${c.base}/new-order`, { identifiers: "x" })).json.type).toBe(`${P}malformed`);
    expect((await c.newOrder([{ type: "dns", value: "a.example.com" }], { notBefore: "yesterday" })).json.type).toBe(`${P}malformed`);
  });

  it("offers only challenges that are both allowed on the platform and configured", async () => {
    const h2 = await createHarness({
      validators: { "http-01": validators()["http-01"] },
      platform: { allowedChallenges: ["http-01", "dns-01"], allowedIdentifierTypes: ["dns", "permanent-identifier"] },
    });
    const c2 = await accountClient(h2);
    const o = await c2.newOrder([{ type: "dns", value: "a.example.com" }]);
    const a = await orderAuthz(c2, o.json);
    expect(a.challenges.map((x: any) => x.type)).toEqual(["http-01"]);
    expect((await c2.newOrder([{ type: "dns", value: "*.example.com" }])).json.type).toBe(`${P}rejectedIdentifier`);
    expect((await c2.newOrder([{ type: "permanent-identifier", value: "SER" }])).json.type).toBe(`${P}rejectedIdentifier`);
  });

  it("keeps accounts to their own orders and platforms", async () => {
    const o = await c.newOrder([{ type: "permanent-identifier", value: "SER1" }]);
    const other = await accountClient(h);
    const r = await other.postAsGet(o.headers.Location);
    expect(r.status).toBe(403);
    expect(r.json.type).toBe(`${P}unauthorized`);
    const az = await other.postAsGet(o.json.authorizations[0]);
    expect(az.status).toBe(403);
    // The same account URL presented on another platform does not exist there.
    const p2 = { ...h.platform, id: "platform-2", baseUrl: "https://pki.example.com/acme/other" };
    const c2 = new TestClient(h.server, p2, c.key);
    c2.kid = c.kid!.replace("/s3cret/", "/other/");
    const r2 = await c2.postAsGet(`${p2.baseUrl}/order/${o.headers.Location.split("/").pop()}`);
    expect(r2.status).toBe(400);
    expect(r2.json.type).toBe(`${P}accountDoesNotExist`);
  });

  it("POST-as-GET resources refuse a non-empty payload", async () => {
    const o = await c.newOrder([{ type: "permanent-identifier", value: "SER1" }]);
    const r = await c.post(o.headers.Location, {});
    expect(r.status).toBe(400);
    expect(r.json.detail).toMatch(/POST-as-GET/);
    expect((await c.raw("GET", o.headers.Location)).status).toBe(405);
  });

  it("deactivating an authorization invalidates the order", async () => {
    const o = await c.newOrder([{ type: "permanent-identifier", value: "SER1" }]);
    const r = await c.post(o.json.authorizations[0], { status: "deactivated" });
    expect(r.status).toBe(200);
    expect(r.json.status).toBe("deactivated");
    const order = await c.postAsGet(o.headers.Location);
    expect(order.json.status).toBe("invalid");
    expect(order.json.error.type).toBe(`${P}unauthorized`);
    expect((await c.post(o.json.authorizations[0], { status: "deactivated" })).status).toBe(400);
  });

  it("expires orders and authorizations (RFC 8555 §7.1.6)", async () => {
    let now = Date.now();
    const h2 = await createHarness({ now: () => new Date(now), orderLifetimeMs: 60_000 });
    const c2 = await accountClient(h2);
    const o = await c2.newOrder([{ type: "permanent-identifier", value: "SER1" }]);
    now += 61_000;
    const a = await c2.postAsGet(o.json.authorizations[0]);
    expect(a.json.status).toBe("expired");
    const order = await c2.postAsGet(o.headers.Location);
    expect(order.json.status).toBe("invalid");
    const ch = a.json.challenges[0];
    const late = await c2.post(ch.url, { attObj: "AAAA" });
    expect(late.status).toBe(400);
    expect(late.json.detail).toMatch(/expired/);
  });
});

describe("http-01", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ validators: validators() });
  });

  it("validates against a real HTTP server, issues, and serves the chain", async () => {
    const c = await accountClient(h);
    const o = await c.newOrder([{ type: "dns", value: "host.example.test" }]);
    const a = await orderAuthz(c, o.json);
    const ch = a.challenges.find((x: any) => x.type === "http-01");
    served.set(ch.token, `${ch.token}.${await thumbprint(c)}`);

    // POST-as-GET does not trigger validation.
    const peek = await c.postAsGet(ch.url);
    expect(peek.json.status).toBe("pending");
    expect(peek.headers.Link).toContain(`<${o.json.authorizations[0]}>;rel="up"`);

    const r = await c.post(ch.url, {});
    expect(r.status).toBe(200);
    expect(r.json.status).toBe("valid");
    expect(r.json.validated).toBeDefined();
    expect(seenHostHeaders.at(-1)).toBe(`host.example.test:${challengePort}`);
    expect((await orderAuthz(c, o.json)).status).toBe("valid");
    const ready = await c.postAsGet(o.headers.Location);
    expect(ready.json.status).toBe("ready");

    // Answering again changes nothing.
    expect((await c.post(ch.url, {})).json.status).toBe("valid");

    const keys = await generateEcKeys();
    const fin = await c.post(o.json.finalize, { csr: b64u(await makeCsr(keys, { dns: ["host.example.test"] })) });
    expect(fin.status).toBe(200);
    expect(fin.json.status).toBe("valid");
    expect(fin.headers.Location).toBe(o.headers.Location);
    expect(fin.json.certificate).toMatch(/\/cert\//);

    const cert = await c.postAsGet(fin.json.certificate);
    expect(cert.status).toBe(200);
    expect(cert.headers["Content-Type"]).toBe("application/pem-certificate-chain");
    expect(cert.text.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(2);
    const leaf = new X509Certificate(cert.text);
    expect(leaf.subjectAltName).toBe("DNS:host.example.test");
    expect(h.events.map((e) => e.type)).toEqual(["account-created", "order-created", "challenge-valid", "certificate-issued"]);
  });

  it("an incorrect response makes challenge, authorization and order invalid", async () => {
    const c = await accountClient(h);
    const o = await c.newOrder([{ type: "dns", value: "wrong.example.test" }]);
    const a = await orderAuthz(c, o.json);
    const ch = a.challenges.find((x: any) => x.type === "http-01");
    served.set(ch.token, `${ch.token}.not-the-thumbprint`);
    const r = await c.post(ch.url, {});
    expect(r.status).toBe(200);
    expect(r.json.status).toBe("invalid");
    expect(r.json.error.type).toBe(`${P}incorrectResponse`);
    expect((await orderAuthz(c, o.json)).status).toBe("invalid");
    const order = await c.postAsGet(o.headers.Location);
    expect(order.json.status).toBe("invalid");
    expect(order.json.error.type).toBe(`${P}incorrectResponse`);
    expect(order.json.error.identifier).toEqual({ type: "dns", value: "wrong.example.test" });
    const fin = await c.post(o.json.finalize, { csr: b64u(await makeCsr(await generateEcKeys())) });
    expect(fin.status).toBe(403);
    expect(fin.json.type).toBe(`${P}orderNotReady`);
    const ev = h.events.find((e) => e.type === "challenge-invalid")!;
    expect(ev.details.error).toMatchObject({ type: `${P}incorrectResponse` });
  });

  it("a missing file is incorrectResponse, an unreachable host is connection", async () => {
    const c = await accountClient(h);
    const o = await c.newOrder([{ type: "dns", value: "missing.example.test" }]);
    const ch = (await orderAuthz(c, o.json)).challenges.find((x: any) => x.type === "http-01");
    expect((await c.post(ch.url, {})).json.error.type).toBe(`${P}incorrectResponse`);

    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const h2 = await createHarness({
      validators: { "http-01": createHttp01Validator({ port: deadPort, timeoutMs: 2000, resolveHost: () => "127.0.0.1", allowPrivateAddresses: true }) },
    });
    const c2 = await accountClient(h2);
    const o2 = await c2.newOrder([{ type: "dns", value: "down.example.test" }]);
    const ch2 = (await orderAuthz(c2, o2.json)).challenges[0];
    const r = await c2.post(ch2.url, {});
    expect(r.json.error.type).toBe(`${P}connection`);
    // Which ports are open is not the client's business: one message for every failure to connect.
    expect(r.json.error.detail).toBe(
      `Could not connect to down.example.test to fetch http://down.example.test:${deadPort}/.well-known/acme-challenge/${ch2.token}`,
    );
  });

  it("refuses internal IP identifiers at newOrder unless allowed", async () => {
    const h2 = await createHarness({ validators: { "http-01": createHttp01Validator({ port: challengePort, timeoutMs: 2000 }) } });
    const c2 = await accountClient(h2);
    for (const value of ["127.0.0.1", "10.0.0.1", "169.254.169.254", "::1", "fd00:ec2::254", "::ffff:127.0.0.1", "100.64.0.1"]) {
      const o = await c2.newOrder([{ type: "ip", value }]);
      expect(o.status).toBe(400);
      expect(o.json.type).toBe(`${P}rejectedIdentifier`);
    }
    expect((await c2.newOrder([{ type: "ip", value: "8.8.8.8" }])).status).toBe(201);
  });

  it("validates an ip identifier by connecting to the address itself", async () => {
    const h2 = await createHarness({
      validators: { "http-01": createHttp01Validator({ port: challengePort, timeoutMs: 2000, allowPrivateAddresses: true }) },
      allowPrivateAddresses: true,
    });
    const c2 = await accountClient(h2);
    const o = await c2.newOrder([{ type: "ip", value: "127.0.0.1" }]);
    const ch = (await orderAuthz(c2, o.json)).challenges[0];
    expect(ch.type).toBe("http-01");
    served.set(ch.token, `${ch.token}.${await thumbprint(c2)}`);
    expect((await c2.post(ch.url, {})).json.status).toBe("valid");
  });
});

describe("dns-01", () => {
  it("validates a wildcard through the injected resolver", async () => {
    const h = await createHarness({ validators: validators() });
    const c = await accountClient(h);
    const o = await c.newOrder([{ type: "dns", value: "*.wild.example.test" }]);
    const a = await orderAuthz(c, o.json);
    expect(a.wildcard).toBe(true);
    const ch = a.challenges[0];
    expect(ch.type).toBe("dns-01");
    txt.set("_acme-challenge.wild.example.test", [["unrelated"], [dns01Digest(`${ch.token}.${await thumbprint(c)}`)]]);
    const r = await c.post(ch.url, {});
    expect(r.json.status).toBe("valid");
    expect((await c.postAsGet(o.headers.Location)).json.status).toBe("ready");
  });

  it("a wrong or missing TXT record invalidates", async () => {
    const h = await createHarness({ validators: validators() });
    const c = await accountClient(h);
    const o = await c.newOrder([{ type: "dns", value: "nx.example.test" }]);
    const ch = (await orderAuthz(c, o.json)).challenges.find((x: any) => x.type === "dns-01");
    const r = await c.post(ch.url, {});
    expect(r.json.status).toBe("invalid");
    expect(r.json.error.type).toBe(`${P}dns`);

    const o2 = await c.newOrder([{ type: "dns", value: "bad.example.test" }]);
    const ch2 = (await orderAuthz(c, o2.json)).challenges.find((x: any) => x.type === "dns-01");
    txt.set("_acme-challenge.bad.example.test", [[dns01Digest(`${ch2.token}.someone-else`)]]);
    const r2 = await c.post(ch2.url, {});
    expect(r2.json.error.type).toBe(`${P}incorrectResponse`);
  });
});

describe("device-attest-01", () => {
  let h: Harness;
  let c: TestClient;
  beforeEach(async () => {
    h = await createHarness();
    c = await accountClient(h);
  });

  async function attestedOrder(serial: string) {
    const o = await c.newOrder([{ type: "permanent-identifier", value: serial }]);
    expect(o.status).toBe(201);
    const a = await orderAuthz(c, o.json);
    expect(a.challenges).toHaveLength(1);
    expect(a.challenges[0].type).toBe("device-attest-01");
    return { o, a, ch: a.challenges[0] };
  }

  it("stores the attested key and attributes; finalize requires the attested key in the CSR", async () => {
    const { o, ch } = await attestedOrder("C02XYZ123");
    const device = await generateEcKeys();
    const spki = await spkiOf(device);
    const r = await c.post(ch.url, { attObj: fakeAttObj({ token: ch.token, serial: "C02XYZ123", spki }), extra: "ignored" });
    expect(r.status).toBe(200);
    expect(r.json.status).toBe("valid");
    const authz = await h.store.getAuthorization(o.json.authorizations[0].split("/").pop());
    expect(authz!.status).toBe("valid");
    expect(authz!.attestedKeySpki!.equals(spki)).toBe(true);
    expect(authz!.attestation).toEqual({ serialNumber: "C02XYZ123", osVersion: "17.0" });
    const ev = h.events.find((e) => e.type === "challenge-valid")!;
    expect(ev.details.attested).toEqual({ serialNumber: "C02XYZ123", osVersion: "17.0" });

    // badCSR (another key) leaves the order ready (RFC 8555 §7.4) ...
    const wrong = await c.post(o.json.finalize, { csr: b64u(await makeCsr(await generateEcKeys())) });
    expect(wrong.status).toBe(400);
    expect(wrong.json.type).toBe(`${P}badCSR`);
    expect((await c.postAsGet(o.headers.Location)).json.status).toBe("ready");
    expect(h.events.map((e) => e.type)).toContain("finalize-rejected");
    // ... so the device can finalize with its attested key.
    const fin = await c.post(o.json.finalize, { csr: b64u(await makeCsr(device)) });
    expect(fin.json.status).toBe("valid");
    const args = h.issueCalls.at(-1)!;
    expect(args.platformId).toBe(h.platform.id);
    expect(args.account.id).toBe(c.kid!.split("/").pop());
    expect(args.authorizations[0].attestation).toEqual({ serialNumber: "C02XYZ123", osVersion: "17.0" });
  });

  it("a payload with an error field means the device could not attest", async () => {
    const { o, ch } = await attestedOrder("SER-ERR");
    const r = await c.post(ch.url, { error: "SEP unavailable" });
    expect(r.json.status).toBe("invalid");
    expect(r.json.error.type).toBe(`${P}badAttestationStatement`);
    expect(r.json.error.detail).toContain("SEP unavailable");
    expect((await c.postAsGet(o.headers.Location)).json.status).toBe("invalid");
  });

  it("maps validator failures to badAttestationStatement with the reason", async () => {
    const { o, ch } = await attestedOrder("SER-A");
    const spki = await spkiOf(await generateEcKeys());
    const r = await c.post(ch.url, { attObj: fakeAttObj({ token: "other-token", serial: "SER-A", spki }) });
    expect(r.json.status).toBe("invalid");
    expect(r.json.error).toMatchObject({
      type: `${P}badAttestationStatement`,
      reason: "nonce-mismatch",
      detail: "nonce-mismatch: freshness code does not match the token",
    });
    const order = await c.postAsGet(o.headers.Location);
    expect(order.json.error.type).toBe(`${P}badAttestationStatement`);
    expect(h.events.find((e) => e.type === "challenge-invalid")!.details.identifier).toEqual({
      type: "permanent-identifier",
      value: "SER-A",
    });
  });

  it("an unexpected validator crash is a generic badAttestationStatement and is reported", async () => {
    const h2 = await createHarness({
      validators: {
        "device-attest-01": async () => {
          throw new TypeError("internal detail that must not leak");
        },
      },
    });
    const c2 = await accountClient(h2);
    const o = await c2.newOrder([{ type: "permanent-identifier", value: "X" }]);
    const ch = (await orderAuthz(c2, o.json)).challenges[0];
    const r = await c2.post(ch.url, { attObj: "AAAA" });
    expect(r.json.error.type).toBe(`${P}badAttestationStatement`);
    expect(r.text).not.toContain("internal detail");
    expect(h2.errors).toHaveLength(1);
  });

  it("garbled responses are refused without consuming the challenge", async () => {
    const { ch } = await attestedOrder("SER-G");
    expect((await c.post(ch.url, {})).json.detail).toMatch(/attObj/);
    expect((await c.post(ch.url, { attObj: "not base64!" })).json.type).toBe(`${P}malformed`);
    expect((await c.postAsGet(ch.url)).json.status).toBe("pending");
  });

  it("the download right after finalize is served from the chain just issued; later ones from the issuer", async () => {
    let now = Date.now();
    const h2 = await createHarness({ now: () => new Date(now) });
    const c2 = await accountClient(h2);
    const { o, device } = await readyOrder(c2, "SER-D");
    const fin = await c2.post(o.json.finalize, { csr: b64u(await makeCsr(device)) });
    const first = await c2.postAsGet(fin.json.certificate);
    expect(first.status).toBe(200);
    expect(h2.chainCalls).toEqual([]);
    now += 6 * 60_000;
    const later = await c2.postAsGet(fin.json.certificate);
    expect([later.status, later.text]).toEqual([200, first.text]);
    expect(h2.chainCalls).toHaveLength(1);
  });

  it("keeps a bounded number of recent chains", () => {
    const recent = new RecentChains(2, 1000);
    recent.set("a", "A", 0);
    recent.set("b", "B", 0);
    recent.set("c", "C", 0);
    expect([recent.get("a", 1), recent.get("b", 1), recent.get("c", 1)]).toEqual([null, "B", "C"]);
    expect(recent.get("c", 1001)).toBeNull();
  });

  it("concurrent answers to one device-attest-01 challenge settle it once", async () => {
    const { o, ch } = await attestedOrder("SER-R");
    const spki = await spkiOf(await generateEcKeys());
    const attObj = fakeAttObj({ token: ch.token, serial: "SER-R", spki });
    const nonces = await Promise.all(Array.from({ length: 6 }, () => c.freshNonce()));
    const results = await Promise.all(nonces.map((nonce) => c.post(ch.url, { attObj }, { nonce })));
    for (const r of results) expect([r.status, r.json.status]).toEqual([200, "valid"]);
    expect(h.events.filter((e) => e.type === "challenge-valid")).toHaveLength(1);
    expect((await c.postAsGet(o.headers.Location)).json.status).toBe("ready");
  });

  it("concurrent finalizes of one order issue exactly one certificate", async () => {
    const h2 = await createHarness({ issueDelayMs: 50 });
    const c2 = await accountClient(h2);
    const { o, device } = await readyOrder(c2, "SER-C");
    const csr = b64u(await makeCsr(device));
    const nonces = await Promise.all(Array.from({ length: 8 }, () => c2.freshNonce()));
    const results = await Promise.all(nonces.map((nonce) => c2.post(o.json.finalize, { csr }, { nonce })));
    expect(h2.issueCalls).toHaveLength(1);
    expect(h2.issued.size).toBe(1);
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(["processing", "valid"]).toContain(r.json.status);
      if (r.json.status === "processing") expect(r.headers["Retry-After"]).toBe("1");
    }
    const final = await c2.postAsGet(o.headers.Location);
    expect(final.json.status).toBe("valid");
    // A later retry returns the order, still without issuing again.
    expect((await c2.post(o.json.finalize, { csr })).json.status).toBe("valid");
    expect(h2.issueCalls).toHaveLength(1);
  });

  it("finalize checks: not ready, bad CSR encoding, bad CSR signature, issuer refusal", async () => {
    const { o, ch } = await attestedOrder("SER-F");
    const notReady = await c.post(o.json.finalize, { csr: b64u(await makeCsr(await generateEcKeys())) });
    expect(notReady.status).toBe(403);
    expect(notReady.json.type).toBe(`${P}orderNotReady`);

    const device = await generateEcKeys();
    await c.post(ch.url, { attObj: fakeAttObj({ token: ch.token, serial: "SER-F", spki: await spkiOf(device) }) });
    expect((await c.post(o.json.finalize, { csr: "%%%" })).json.type).toBe(`${P}malformed`);
    expect((await c.post(o.json.finalize, { csr: "AAAA" })).json.type).toBe(`${P}badCSR`);
    const csr = Buffer.from(await makeCsr(device));
    csr[csr.length - 5] ^= 0xff; // break the signature
    expect((await c.post(o.json.finalize, { csr: b64u(csr) })).json.type).toBe(`${P}badCSR`);
    expect((await c.postAsGet(o.headers.Location)).json.status).toBe("ready");
    expect(h.issueCalls).toHaveLength(0);
  });

  it("an issuer refusal other than badCSR makes the order invalid; a crash is serverInternal", async () => {
    const { problem } = await import("./problems");
    for (const [thrown, type, status] of [
      [problem.unauthorized("Enrollment denied: no matching policy"), "unauthorized", 403],
      [new Error("db exploded: password=hunter2"), "serverInternal", 500],
    ] as const) {
      const h2 = await createHarness({
        issue: async () => {
          throw thrown;
        },
      });
      const c2 = await accountClient(h2);
      const { o, device } = await readyOrder(c2, "SER-D");
      const r = await c2.post(o.json.finalize, { csr: b64u(await makeCsr(device)) });
      expect(r.status).toBe(status);
      expect(r.json.type).toBe(P + type);
      expect(r.text).not.toContain("hunter2");
      expect(r.headers["Replay-Nonce"]).toBeDefined();
      const order = await c2.postAsGet(o.headers.Location);
      expect(order.json.status).toBe("invalid");
      expect(order.json.error.type).toBe(P + type);
      expect(h2.events.at(-1)!.type).toBe("order-invalid");
    }
  });

  it("a hook failing after it recorded the certificate leaves the order valid, with no order-invalid event", async () => {
    const store = new MemoryStore();
    const h2 = await createHarness({
      store,
      issue: async ({ order }) => {
        await store.updateOrder(order.id, ["processing"], { status: "valid", certificateId: "recorded" });
        throw new Error("the notice could not be queued");
      },
    });
    const c2 = await accountClient(h2);
    const { o, device } = await readyOrder(c2, "SER-L");
    expect((await c2.post(o.json.finalize, { csr: b64u(await makeCsr(device)) })).status).toBe(500);
    const order = await c2.postAsGet(o.headers.Location);
    expect(order.json).toMatchObject({ status: "valid", certificate: expect.any(String) });
    expect(h2.events.map((e) => e.type)).not.toContain("order-invalid");
  });
});

describe("abandoned issuance", () => {
  it("a finalize stuck in processing past the timeout turns the order invalid, and the late result is discarded", async () => {
    let now = Date.now();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const store = new MemoryStore();
    const h = await createHarness({
      store,
      now: () => new Date(now),
      processingTimeoutMs: 60_000,
      issue: async ({ order }) => {
        await gate;
        // As the SQL statement does: the certificate is recorded only with the order's move to valid.
        if (!(await store.updateOrder(order.id, ["processing"], { status: "valid", certificateId: "late" }))) throw new Error("order left processing");
        return { certificateId: "late", chainPem: "" };
      },
    });
    const c = await accountClient(h);
    const { o, device } = await readyOrder(c, "SER-S");
    const pending = c.post(o.json.finalize, { csr: b64u(await makeCsr(device)) }, { nonce: await c.freshNonce() });
    await new Promise((r) => setTimeout(r, 20));
    const during = await c.postAsGet(o.headers.Location);
    expect(during.json.status).toBe("processing");
    expect(during.headers["Retry-After"]).toBe("1");
    now += 61_000;
    const after = await c.postAsGet(o.headers.Location);
    expect(after.json.status).toBe("invalid");
    expect(after.json.error.type).toBe(`${P}serverInternal`);
    release();
    const late = await pending;
    expect(late.status).toBe(500);
    const final = await c.postAsGet(o.headers.Location);
    expect(final.json.status).toBe("invalid");
    expect(final.json.certificate).toBeUndefined();
  });
});

describe("revocation", () => {
  async function issuedCert(h: Harness) {
    const c = await accountClient(h);
    const { o, device } = await readyOrder(c, "SER-R");
    const fin = await c.post(o.json.finalize, { csr: b64u(await makeCsr(device)) });
    const pem = (await c.postAsGet(fin.json.certificate)).text;
    const der = new X509Certificate(pem).raw;
    return { c, device, der };
  }

  it("by the ordering account, once", async () => {
    const h = await createHarness();
    const { c, der } = await issuedCert(h);
    const other = await accountClient(h);
    const foreign = await other.post(`${c.base}/revoke-cert`, { certificate: b64u(der) });
    expect(foreign.status).toBe(403);
    expect(foreign.json.type).toBe(`${P}unauthorized`);
    const badReason = await c.post(`${c.base}/revoke-cert`, { certificate: b64u(der), reason: 2 });
    expect(badReason.json.type).toBe(`${P}badRevocationReason`);
    const r = await c.post(`${c.base}/revoke-cert`, { certificate: b64u(der), reason: 4 });
    expect(r.status).toBe(200);
    expect(r.text).toBe("");
    expect([...h.issued.values()][0]).toMatchObject({ revoked: true, reason: 4 });
    const again = await c.post(`${c.base}/revoke-cert`, { certificate: b64u(der) });
    expect(again.json.type).toBe(`${P}alreadyRevoked`);
    const ev = h.events.find((e) => e.type === "certificate-revoked")!;
    expect(ev.details).toMatchObject({ reason: "superseded", by: "account" });
  });

  it("by another account holding valid authorizations for all its identifiers, not by one holding others", async () => {
    const h = await createHarness();
    const { c, der } = await issuedCert(h);
    const url = `${c.base}/revoke-cert`;
    const elsewhere = await accountClient(h);
    await readyOrder(elsewhere, "SER-OTHER");
    const pending = await accountClient(h);
    await pending.newOrder([{ type: "permanent-identifier", value: "SER-R" }]);
    for (const refused of [elsewhere, pending]) {
      const r = await refused.post(url, { certificate: b64u(der) });
      expect(r.json.type).toBe(`${P}unauthorized`);
    }
    expect([...h.issued.values()][0]).toMatchObject({ revoked: false });
    const holder = await accountClient(h);
    await readyOrder(holder, "SER-R");
    const r = await holder.post(url, { certificate: b64u(der), reason: 5 });
    expect(r.status).toBe(200);
    expect([...h.issued.values()][0]).toMatchObject({ revoked: true, reason: 5 });
    expect(h.events.at(-1)).toMatchObject({ type: "certificate-revoked", accountId: holder.kid!.split("/").pop(), details: { by: "authorizations" } });
  });

  it("by the certificate's key (jwk-signed), and not by another key", async () => {
    const h = await createHarness();
    const { c, device, der } = await issuedCert(h);
    const stranger = await generateClientKey();
    const url = `${c.base}/revoke-cert`;
    const byStranger = await c.post(url, { certificate: b64u(der) }, { key: stranger, useJwk: true });
    expect(byStranger.status).toBe(403);
    const { exportJWK } = await import("jose");
    const certKey = { alg: "ES256" as const, privateKey: device.privateKey, publicKey: device.publicKey, jwk: await exportJWK(device.publicKey) };
    const r = await c.post(url, { certificate: b64u(der), reason: 1 }, { key: certKey, useJwk: true });
    expect(r.status).toBe(200);
    expect([...h.issued.values()][0]).toMatchObject({ revoked: true, reason: 1 });
    expect(h.events.at(-1)).toMatchObject({ type: "certificate-revoked", details: { by: "certificate-key" } });
    expect(h.events.at(-1)!.accountId).toBeUndefined();
  });

  it("unknown and unparsable certificates", async () => {
    const h = await createHarness();
    const c = await accountClient(h);
    const url = `${c.base}/revoke-cert`;
    expect((await c.post(url, { certificate: "AAAA" })).json.type).toBe(`${P}malformed`);
    const foreignCa = h.ca.cert.rawData;
    const r = await c.post(url, { certificate: b64u(new Uint8Array(foreignCa)) });
    expect(r.status).toBe(404);
  });
});
