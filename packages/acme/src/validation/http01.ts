import http from "node:http";
import { isIP } from "node:net";
import { AcmeProblem, problem } from "../problems";
import type { Identifier, KeyAuthorizationContext, KeyAuthorizationValidator } from "../types";
import { InternalAddressError, isInternalAddress, publicAddressLookup } from "./addresses";

// http-01 (RFC 8555 §8.3): GET http://<identifier>:<port>/.well-known/acme-challenge/<token> must
// answer 200 with the key authorization (trailing whitespace ignored). Redirects are not followed.
// Only global unicast addresses are connected to (see addresses.ts), and every failure to connect
// answers the client the same way: which internal host or port exists is not its business.

export interface Http01Options {
  /** Port to connect to; 80 in production, a loopback port in tests. */
  port?: number;
  timeoutMs?: number;
  /** Largest response body read. */
  maxBodyBytes?: number;
  /**
   * Where to connect for a given identifier (default: the identifier itself). Lets tests or a
   * deployment pin resolution, e.g. `() => "127.0.0.1"`.
   */
  resolveHost?: (identifier: string) => string;
  /** Connect to loopback, private and other internal addresses too (test networks only). */
  allowPrivateAddresses?: boolean;
  /** Where the reason a connection failed goes (the server log); the client only learns that it failed. */
  onConnectionError?: (err: unknown, identifier: Identifier) => void;
}

function fetchChallenge(host: string, hostHeader: string, port: number, path: string, timeoutMs: number, maxBytes: number, allowPrivate: boolean) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const fail = (e: unknown) => settle(() => reject(e));
    const req = http.request(
      {
        host,
        port,
        ...(allowPrivate ? {} : { lookup: publicAddressLookup }),
        path,
        method: "GET",
        headers: { Host: hostHeader, "User-Agent": "attested-pki-acme-validator", Accept: "*/*", Connection: "close" },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) {
            fail(problem.incorrectResponse(`Response body is larger than ${maxBytes} bytes`));
            req.destroy();
            return;
          }
          chunks.push(c);
        });
        res.on("end", () => settle(() => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") })));
        res.on("error", fail);
      },
    );
    // One deadline for connecting, waiting and reading.
    const timer = setTimeout(() => {
      fail(Object.assign(new Error(`Timed out after ${timeoutMs} ms`), { code: "ETIMEDOUT" }));
      req.destroy();
    }, timeoutMs);
    req.on("error", fail);
    req.end();
  });
}

export function createHttp01Validator(opts: Http01Options = {}): KeyAuthorizationValidator {
  const port = opts.port ?? 80;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const maxBytes = opts.maxBodyBytes ?? 8192;
  const allowPrivate = opts.allowPrivateAddresses ?? false;
  return async (ctx: KeyAuthorizationContext) => {
    if (ctx.type !== "http-01") throw problem.serverInternal("http-01 validator used for another challenge type");
    const name = ctx.identifier.value;
    const host = opts.resolveHost ? opts.resolveHost(name) : name;
    const hostName = ctx.identifier.type === "ip" && name.includes(":") ? `[${name}]` : name;
    const hostHeader = port === 80 ? hostName : `${hostName}:${port}`;
    const path = `/.well-known/acme-challenge/${ctx.token}`;
    let res: { status: number; body: string };
    try {
      // An address literal is connected to without a lookup, so it is checked here.
      if (!allowPrivate && isIP(host) && isInternalAddress(host)) throw new InternalAddressError(`${host} is an internal address`);
      res = await fetchChallenge(host, hostHeader, port, path, timeoutMs, maxBytes, allowPrivate);
    } catch (e) {
      if (e instanceof AcmeProblem) throw e;
      opts.onConnectionError?.(e, ctx.identifier);
      throw problem.connection(`Could not connect to ${hostName} to fetch http://${hostHeader}${path}`, { identifier: ctx.identifier });
    }
    if (res.status !== 200) {
      throw problem.incorrectResponse(`http://${hostHeader}${path} answered HTTP ${res.status}`, { identifier: ctx.identifier });
    }
    const got = res.body.replace(/[ \t\r\n]+$/, "");
    if (got !== ctx.keyAuthorization) {
      throw problem.incorrectResponse(`http://${hostHeader}${path} did not return the key authorization`, {
        identifier: ctx.identifier,
      });
    }
  };
}
