import { lookup, type LookupAddress, type LookupAllOptions } from "node:dns";
import type { LookupFunction } from "node:net";
import ipaddr from "ipaddr.js";

// Where challenge validation may connect: only global unicast addresses, never this host, the
// organization's networks or a cloud's metadata service, whatever name a client puts in its order.

const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR("2000::/3");
/** Metadata services on public addresses (the others are link-local, ULA or CGNAT, refused anyway). */
const METADATA = ["168.63.129.16"]; // Azure WireServer

/**
 * True for any address that is not global unicast: loopback, private (RFC 1918, ULA fc00::/7),
 * link-local, CGNAT, unspecified, broadcast, multicast, reserved and documentation ranges, NAT64 and
 * other IPv4-embedding prefixes, cloud metadata addresses; IPv4-mapped IPv6 is judged as its IPv4
 * address. Anything that does not parse counts as internal.
 */
export function isInternalAddress(address: string): boolean {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.process(address);
  } catch {
    return true;
  }
  if (ip.range() !== "unicast") return true;
  if (ip.kind() === "ipv6" && !ip.match(GLOBAL_UNICAST_V6)) return true;
  return METADATA.includes(ip.toString());
}

export class InternalAddressError extends Error {
  readonly code = "EINTERNALADDRESS";
}

/**
 * dns.lookup for net.connect that refuses a name when any of its addresses is internal. The addresses
 * checked are the ones connected to, so a DNS answer that changes between a check and the connection
 * (rebinding) cannot slip through.
 */
export const publicAddressLookup: LookupFunction = (hostname, options, callback) => {
  lookup(hostname, { ...options, all: true } as LookupAllOptions, (err, addresses: LookupAddress[]) => {
    const internal = err ? undefined : addresses.find((a) => isInternalAddress(a.address));
    const failure =
      err ??
      (internal ? new InternalAddressError(`${hostname} resolves to the internal address ${internal.address}`) : null) ??
      (addresses.length === 0 ? new InternalAddressError(`${hostname} has no address`) : null);
    const done = callback as (e: Error | null, address: string | LookupAddress[], family?: number) => void;
    if (failure) done(failure, "", 0);
    else if ((options as { all?: boolean }).all) done(null, addresses);
    else done(null, addresses[0]!.address, addresses[0]!.family);
  });
};
