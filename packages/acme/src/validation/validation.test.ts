import dgram from "node:dgram";
import { promises as dns } from "node:dns";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AcmeProblem } from "../problems";
import type { KeyAuthorizationContext } from "../types";
import { createDns01Validator, dns01Digest } from "./dns01";
import { isInternalAddress } from "./addresses";
import { createHttp01Validator } from "./http01";

const token = `tok_${"A".repeat(40)}`;
const keyAuthorization = `${token}.thumb`;

function ctx(type: "http-01" | "dns-01", value: string, over: Partial<KeyAuthorizationContext> = {}): KeyAuthorizationContext {
  return {
    type,
    identifier: { type: "dns", value },
    wildcard: false,
    token,
    keyAuthorization,
    platformId: "p",
    accountId: "a",
    ...over,
  };
}

async function problemOf(p: Promise<unknown>): Promise<AcmeProblem> {
  const e = await p.then(
    () => null,
    (err) => err,
  );
  expect(e).toBeInstanceOf(AcmeProblem);
  return e as AcmeProblem;
}

describe("http-01 validator", () => {
  let server: http.Server;
  let port: number;
  const routes: Record<string, (res: http.ServerResponse) => void> = {};
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const host = (req.headers.host ?? "").split(":")[0];
      const route = routes[host];
      if (!route || req.url !== `/.well-known/acme-challenge/${token}`) return void res.writeHead(404).end();
      route(res);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });

  const validator = (timeoutMs = 1000, maxBodyBytes = 1024) =>
    createHttp01Validator({ port, timeoutMs, maxBodyBytes, resolveHost: () => "127.0.0.1", allowPrivateAddresses: true });

  it("accepts the key authorization, with trailing whitespace", async () => {
    routes["ok.test"] = (res) => res.end(`${keyAuthorization} \r\n`);
    await expect(validator()(ctx("http-01", "ok.test"))).resolves.toBeUndefined();
  });

  it("refuses a different body, a non-200 status, and leading junk", async () => {
    routes["wrong.test"] = (res) => res.end("nope");
    expect((await problemOf(validator()(ctx("http-01", "wrong.test")))).type).toBe("incorrectResponse");
    routes["status.test"] = (res) => res.writeHead(302, { Location: "http://elsewhere/" }).end(keyAuthorization);
    const p = await problemOf(validator()(ctx("http-01", "status.test")));
    expect(p.type).toBe("incorrectResponse");
    expect(p.detail).toMatch(/HTTP 302/);
    routes["lead.test"] = (res) => res.end(` ${keyAuthorization}`);
    expect((await problemOf(validator()(ctx("http-01", "lead.test")))).type).toBe("incorrectResponse");
  });

  it("stops reading at the size limit", async () => {
    routes["big.test"] = (res) => res.end("x".repeat(5000));
    const p = await problemOf(validator(1000, 1024)(ctx("http-01", "big.test")));
    expect(p.type).toBe("incorrectResponse");
    expect(p.detail).toMatch(/larger than 1024/);
  });

  it("times out on a server that never answers", async () => {
    routes["slow.test"] = () => {};
    const started = Date.now();
    const p = await problemOf(validator(300)(ctx("http-01", "slow.test")));
    expect(p.type).toBe("connection");
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("reports refused connections as connection problems with the identifier", async () => {
    const v = createHttp01Validator({ port: 1, timeoutMs: 1000, resolveHost: () => "127.0.0.1", allowPrivateAddresses: true });
    const p = await problemOf(v(ctx("http-01", "closed.test")));
    expect(p.type).toBe("connection");
    expect(p.identifier).toEqual({ type: "dns", value: "closed.test" });
  });

  it("never connects to an internal address unless allowed, and answers every connection failure alike", async () => {
    let hits = 0;
    routes.localhost = (res) => {
      hits++;
      res.end(keyAuthorization);
    };
    const logged: unknown[] = [];
    const guarded = (over: { port?: number; resolveHost?: () => string; timeoutMs?: number } = {}) =>
      createHttp01Validator({ port, timeoutMs: 1000, onConnectionError: (e) => logged.push(e), ...over });
    const ip = (value: string) => ({ identifier: { type: "ip" as const, value } });
    // A name resolving to loopback, loopback and metadata literals, a pinned internal address: refused, nothing fetched.
    const refused = [
      await problemOf(guarded()(ctx("http-01", "localhost"))),
      await problemOf(guarded()(ctx("http-01", "127.0.0.1", ip("127.0.0.1")))),
      await problemOf(guarded()(ctx("http-01", "::1", ip("::1")))),
      await problemOf(guarded()(ctx("http-01", "169.254.169.254", ip("169.254.169.254")))),
      await problemOf(guarded({ resolveHost: () => "127.0.0.1" })(ctx("http-01", "localhost"))),
    ];
    expect(hits).toBe(0);
    // With the test setting, the same name validates.
    await expect(createHttp01Validator({ port, allowPrivateAddresses: true })(ctx("http-01", "localhost"))).resolves.toBeUndefined();
    expect(hits).toBe(1);
    // A closed port, a port that never answers, a name that does not resolve: the same answer as a refused address.
    routes["slow.test"] = () => {};
    const failures = [
      await problemOf(createHttp01Validator({ port: 1, allowPrivateAddresses: true, resolveHost: () => "127.0.0.1" })(ctx("http-01", "localhost"))),
      await problemOf(
        createHttp01Validator({ port, timeoutMs: 300, allowPrivateAddresses: true, resolveHost: () => "127.0.0.1" })(ctx("http-01", "slow.test")),
      ),
      await problemOf(guarded()(ctx("http-01", "localhost.invalid"))),
    ];
    for (const p of [...refused, ...failures]) {
      expect(p.type).toBe("connection");
      expect(p.detail).toMatch(/^Could not connect to \S+ to fetch http:\/\/\S+$/);
      expect(p.detail).not.toMatch(/ECONN|ETIMEDOUT|ENOTFOUND|EINTERNAL|internal|resolves|Timed out/);
    }
    // The same words whatever happened, but for the client's own name and the port the validator was set to use.
    const words = (p: AcmeProblem) => p.detail.replaceAll(String(p.identifier?.value), "NAME").replace(/:\d+\//, ":PORT/");
    expect(new Set([refused[0], refused[4], ...failures].map(words)).size).toBe(1);
    // The reason goes to the server log.
    expect(logged.map((e) => (e as NodeJS.ErrnoException).code)).toContain("EINTERNALADDRESS");
  });
});

describe("isInternalAddress", () => {
  it.each([
    "127.0.0.1",
    "127.255.255.254",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "169.254.0.1",
    "100.64.0.1",
    "100.127.255.255",
    "100.100.100.200",
    "0.0.0.0",
    "0.1.2.3",
    "255.255.255.255",
    "224.0.0.1",
    "239.1.1.1",
    "240.0.0.1",
    "192.0.2.1",
    "198.18.0.1",
    "198.51.100.7",
    "203.0.113.9",
    "192.0.0.1",
    "168.63.129.16",
    "::1",
    "::",
    "fc00::1",
    "fd00:ec2::254",
    "fd12:3456::1",
    "fe80::1",
    "fe80::1%eth0",
    "ff02::1",
    "fec0::1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::7f00:1",
    "::127.0.0.1",
    "64:ff9b::7f00:1",
    "2002:7f00:1::",
    "2001:db8::1",
    "100::1",
    // Shorthand IPv4 forms some resolvers accept (inet_aton): loopback all the same.
    "127.1",
    "0x7f.1",
    "0177.0.0.1",
    "2130706433",
    "not an address",
    "",
    "1.2.3.4.5",
  ])("%s is internal", (a) => expect(isInternalAddress(a)).toBe(true));

  it.each([
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "100.63.255.255",
    "100.128.0.1",
    "172.32.0.1",
    "169.255.0.1",
    "2606:4700:4700::1111",
    "2a00:1450:4001::200e",
    "::ffff:8.8.8.8",
  ])("%s is public", (a) => expect(isInternalAddress(a)).toBe(false));
});

/** A minimal authoritative DNS server over UDP answering TXT queries from a table. */
function startDnsServer(table: Record<string, string[][]>) {
  const sock = dgram.createSocket("udp4");
  sock.on("message", (msg, rinfo) => {
    let off = 12;
    const labels: string[] = [];
    while (msg[off] !== 0) {
      labels.push(msg.subarray(off + 1, off + 1 + msg[off]).toString("ascii"));
      off += msg[off] + 1;
    }
    const question = msg.subarray(12, off + 5);
    const qtype = msg.readUInt16BE(off + 1);
    const records = table[labels.join(".").toLowerCase()];
    const answers = qtype === 16 && records ? records : [];
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0);
    header.writeUInt16BE(records ? 0x8180 : 0x8183, 2); // NOERROR or NXDOMAIN
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const rrs = answers.map((strings) => {
      const rdata = Buffer.concat(strings.map((s) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s, "ascii")])));
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0);
      rr.writeUInt16BE(16, 2);
      rr.writeUInt16BE(1, 4);
      rr.writeUInt32BE(60, 6);
      rr.writeUInt16BE(rdata.length, 10);
      return Buffer.concat([rr, rdata]);
    });
    sock.send(Buffer.concat([header, question, ...rrs]), rinfo.port, rinfo.address);
  });
  return new Promise<{ port: number; close: () => void }>((resolve) =>
    sock.bind(0, "127.0.0.1", () => resolve({ port: sock.address().port, close: () => sock.close() })),
  );
}

describe("dns-01 validator", () => {
  const digest = dns01Digest(keyAuthorization);
  let dnsServer: { port: number; close: () => void };
  let resolver: dns.Resolver;
  beforeAll(async () => {
    dnsServer = await startDnsServer({
      "_acme-challenge.ok.test": [["other"], [digest.slice(0, 20), digest.slice(20)]],
      "_acme-challenge.wrong.test": [["nope"]],
    });
    resolver = new dns.Resolver({ timeout: 1000, tries: 1 });
    resolver.setServers([`127.0.0.1:${dnsServer.port}`]);
  });
  afterAll(() => dnsServer.close());

  it("digest is base64url(SHA-256(key authorization))", () => {
    // RFC 8555 §8.4 example shape: 43 characters, no padding
    expect(digest).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(dns01Digest("a.b")).toBe("LnM23I66h-9HLfVow1SCq_JXXcPl6sDFxiuP-urCyTQ");
  });

  it("finds the digest through a real resolver (split character-strings joined)", async () => {
    await expect(createDns01Validator({ resolver })(ctx("dns-01", "ok.test"))).resolves.toBeUndefined();
  });

  it("uses the base domain for a wildcard authorization", async () => {
    await expect(createDns01Validator({ resolver })(ctx("dns-01", "ok.test", { wildcard: true }))).resolves.toBeUndefined();
  });

  it("wrong value → incorrectResponse, no record → dns", async () => {
    expect((await problemOf(createDns01Validator({ resolver })(ctx("dns-01", "wrong.test")))).type).toBe("incorrectResponse");
    const p = await problemOf(createDns01Validator({ resolver })(ctx("dns-01", "missing.test")));
    expect(p.type).toBe("dns");
    expect(p.detail).toContain("_acme-challenge.missing.test");
  });

  it("times out a hanging resolver", async () => {
    const hanging = { resolveTxt: () => new Promise<string[][]>(() => {}) };
    const p = await problemOf(createDns01Validator({ resolver: hanging, timeoutMs: 100 })(ctx("dns-01", "x.test")));
    expect(p.type).toBe("dns");
    expect(p.detail).toMatch(/ETIMEOUT/);
  });
});
