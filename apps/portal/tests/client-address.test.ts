import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { clientAddressResolver } from "../server/client-address";

// What each TRUST_PROXY setting takes as the client's address; the left-most entries are the client's own claims.
const request = (peer: string, forwardedFor?: string) =>
  ({
    socket: { remoteAddress: peer },
    connection: { remoteAddress: peer },
    headers: forwardedFor ? { "x-forwarded-for": forwardedFor } : {},
  }) as unknown as IncomingMessage;

describe("TRUST_PROXY", () => {
  const chain = request("10.0.0.2", "6.6.6.6, 198.51.100.7, 10.0.0.9");
  it("unset, false or 0: the TCP peer, whatever X-Forwarded-For says", () => {
    for (const setting of ["", "false", "0"]) expect(clientAddressResolver(setting)(chain)).toBe("10.0.0.2");
  });
  it("a number: that many proxies, counted from the server", () => {
    expect(clientAddressResolver("1")(chain)).toBe("10.0.0.9");
    expect(clientAddressResolver("2")(chain)).toBe("198.51.100.7");
    expect(clientAddressResolver("1")(request("10.0.0.2"))).toBe("10.0.0.2");
  });
  it("true: the right-most address that is not loopback, link-local or private", () => {
    expect(clientAddressResolver("true")(chain)).toBe("198.51.100.7");
    // A client that connects directly is not a proxy: its X-Forwarded-For is ignored.
    expect(clientAddressResolver("true")(request("203.0.113.5", "6.6.6.6"))).toBe("203.0.113.5");
  });
  it("a list of addresses and ranges: those proxies", () => {
    expect(clientAddressResolver("10.0.0.2, 10.0.0.0/24")(chain)).toBe("198.51.100.7");
    expect(clientAddressResolver("10.0.0.2")(chain)).toBe("10.0.0.9");
    expect(() => clientAddressResolver("not-an-address")).toThrow();
  });
});
