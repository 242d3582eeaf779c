import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDeviceFetch, type DeviceFetchOptions } from "./http";
import { crypto, x509 } from "./x509";

let server: http.Server;
let tlsServer: https.Server;
let base: string;
let tlsBase: string;
let caPem: string;

const handler: http.RequestListener = (req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    res.setHeader("replay-nonce", "n1");
    res.setHeader("x-port", String(req.socket.remotePort));
    res.setHeader("link", ["<a>;rel=up", "<b>;rel=index"]);
    if (req.method === "HEAD") return res.writeHead(204).end();
    const echo = JSON.stringify({
      method: req.method,
      url: req.url,
      type: req.headers["content-type"] ?? null,
      length: req.headers["content-length"] ?? null,
      body,
    });
    if (req.url === "/chunked") {
      res.writeHead(200, { "content-type": "application/pem-certificate-chain" });
      res.write("-----BEGIN CERTIFICATE-----\n");
      setTimeout(() => res.end(`${"x".repeat(70_000)}\n-----END CERTIFICATE-----\n`), 5);
      return;
    }
    if (req.url === "/close") {
      res.shouldKeepAlive = false;
      res.writeHead(200, { connection: "close" });
      res.write("until ");
      return res.end("close");
    }
    if (req.url === "/slow") return setTimeout(() => res.writeHead(200, { "content-type": "application/json" }).end(echo), 20);
    res.writeHead(req.url === "/missing" ? 404 : 201, { "content-type": "application/json", "content-length": Buffer.byteLength(echo) });
    res.end(echo);
  });
};

beforeAll(async () => {
  server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: "CN=localhost",
    keys,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3_600_000),
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    extensions: [
      new x509.SubjectAlternativeNameExtension([
        { type: "dns", value: "localhost" },
        { type: "ip", value: "127.0.0.1" },
      ]),
    ],
  });
  caPem = cert.toString("pem");
  const key = x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", keys.privateKey), "PRIVATE KEY");
  tlsServer = https.createServer({ key, cert: caPem }, handler);
  await new Promise<void>((r) => tlsServer.listen(0, "127.0.0.1", r));
  tlsBase = `https://localhost:${(tlsServer.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await new Promise<void>((r) => tlsServer.close(() => r()));
});

describe("createDeviceFetch", () => {
  const make = (o: DeviceFetchOptions = {}) => createDeviceFetch(o);

  it("sends method, headers and body; reads status, headers, JSON and text", async () => {
    const f = make();
    const res = await f(`${base}/x?y=1`, { method: "POST", headers: { "Content-Type": "application/jose+json" }, body: '{"a":"ü"}' });
    expect([res.status, res.ok]).toEqual([201, true]);
    expect(res.headers.get("Replay-Nonce")).toBe("n1");
    expect(res.headers.get("link")).toBe("<a>;rel=up, <b>;rel=index");
    expect(res.headers.get("location")).toBeNull();
    expect(await res.json()).toEqual({
      method: "POST",
      url: "/x?y=1",
      type: "application/jose+json",
      length: String(Buffer.byteLength('{"a":"ü"}')),
      body: '{"a":"ü"}',
    });
    await expect(res.text()).rejects.toThrow(TypeError); // a body is read once

    const head = await f(`${base}/nonce`, { method: "HEAD" });
    expect([head.status, head.ok, head.headers.get("replay-nonce")]).toEqual([204, true, "n1"]);
    const missing = await f(new URL(`${base}/missing`), { headers: new Headers({ accept: "application/json" }) });
    expect([missing.status, missing.ok]).toEqual([404, false]);
    expect(JSON.parse(await missing.text()).method).toBe("GET");
    await expect(f("http://127.0.0.1:1/", {})).rejects.toThrow();
  });

  it("reads chunked bodies and bodies that end with the connection, and keeps working after them", async () => {
    const f = make();
    const chain = await (await f(`${base}/chunked`, { method: "POST", body: "" })).text();
    expect(chain.startsWith("-----BEGIN CERTIFICATE-----\nxxx")).toBe(true);
    expect(chain.length).toBe(28 + 70_000 + 27);
    expect(await (await f(`${base}/close`)).text()).toBe("until close");
    expect((await f(`${base}/x`)).status).toBe(201);
  });

  it("keeps the connection after a HEAD, as a device does for the requests after newNonce", async () => {
    const f = make({ maxSockets: 1 });
    const ports = [];
    for (const method of ["HEAD", "POST", "HEAD", "GET"])
      ports.push((await f(`${base}/x`, { method, body: method === "POST" ? "" : undefined })).headers.get("x-port"));
    expect(new Set(ports).size).toBe(1);
  });

  it("queues beyond maxSockets and answers every request with its own response", async () => {
    const f = make({ maxSockets: 3 });
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => f(`${base}/slow`, { method: "POST", body: String(i) }).then((r) => r.json())));
    expect(replies.map((r) => (r as { body: string }).body)).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
  });

  it("speaks https with an extra trusted CA, and refuses an untrusted server", async () => {
    const f = make({ ca: caPem });
    const res = await f(`${tlsBase}/x`, { method: "POST", body: "tls" });
    expect(((await res.json()) as { body: string }).body).toBe("tls");
    expect(await (await f(`${tlsBase}/chunked`)).text()).toContain("-----END CERTIFICATE-----");
    await expect(make()(`${tlsBase}/x`)).rejects.toThrow();
  });
});
