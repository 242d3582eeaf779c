import type { IncomingMessage } from "node:http";
import proxyAddr from "proxy-addr";

/**
 * Which proxies may tell the client's address in X-Forwarded-For (`TRUST_PROXY`):
 * - unset, `false` or `0`: none; the socket's peer is the client.
 * - a number N: the N proxies nearest to this server; the client is the N-th address from the right
 *   (the socket's peer counts as the first hop).
 * - `true`: proxies on loopback, link-local and private addresses; the client is the right-most
 *   address that is not one of those.
 * - a comma-separated list of addresses or CIDR ranges: those proxies, likewise.
 * Addresses left of the client's are whatever the client sent, and are never used.
 */
export function clientAddressResolver(setting = ""): (req: IncomingMessage) => string {
  setting = setting.trim();
  if (!setting || setting === "false" || setting === "0") return (req) => req.socket.remoteAddress ?? "";
  const trust = /^\d+$/.test(setting)
    ? hops(Number(setting))
    : proxyAddr.compile(setting === "true" ? ["loopback", "linklocal", "uniquelocal"] : setting.split(",").map((s) => s.trim()));
  return (req) => proxyAddr(req, trust);
}

// proxy-addr's hop count: trust the first `n` hops, counted from the socket's peer.
const hops = (n: number) => (_addr: string, i: number) => i < n;
