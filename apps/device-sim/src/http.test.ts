import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDeviceFetch } from "./http";

let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      res.setHeader("replay-nonce", "n1");
      res.setHeader("link", ["<a>;rel=up", "<b>;rel=index"]);
      if (req.method === "HEAD") return res.writeHead(204).end();
      res.writeHead(req.url === "/missing" ? 404 : 201, { "content-type": "application/json" });
      res.end(JSON.stringify({ method: req.method, url: req.url, type: req.headers["content-type"] ?? null, length: req.headers["content-length"] ?? null, body }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("createDeviceFetch", () => {
  it("sends method, headers and body; reads status, headers, JSON and text", async () => {
    const f = createDeviceFetch();
    const res = await f(`${base}/x`, { method: "POST", headers: { "Content-Type": "application/jose+json" }, body: '{"a":"ü"}' });
    expect([res.status, res.ok]).toEqual([201, true]);
    expect(res.headers.get("Replay-Nonce")).toBe("n1");
    expect(res.headers.get("link")).toBe("<a>;rel=up, <b>;rel=index");
    expect(res.headers.get("location")).toBeNull();
    expect(await res.json()).toEqual({ method: "POST", url: "/x", type: "application/jose+json", length: String(Buffer.byteLength('{"a":"ü"}')), body: '{"a":"ü"}' });
    await expect(res.text()).rejects.toThrow(TypeError); // a body is read once

    const head = await f(`${base}/nonce`, { method: "HEAD" });
    expect([head.status, head.ok, head.headers.get("replay-nonce")]).toEqual([204, true, "n1"]);
    const missing = await f(new URL(`${base}/missing`), { headers: new Headers({ accept: "application/json" }) });
    expect([missing.status, missing.ok]).toEqual([404, false]);
    expect(JSON.parse(await missing.text()).method).toBe("GET");
    await expect(f("http://127.0.0.1:1/", {})).rejects.toThrow();
  });
});
