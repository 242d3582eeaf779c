import { promises as dns } from "node:dns";
import { encodeBase64url, sha256 } from "../encoding";
import { problem } from "../problems";
import type { KeyAuthorizationContext, KeyAuthorizationValidator } from "../types";

// dns-01 (RFC 8555 §8.4): a TXT record at _acme-challenge.<domain> (the base domain for a wildcard)
// must hold base64url(SHA-256(key authorization)).

/** What the validator needs from a resolver; node:dns `Resolver` (with setServers) fits. */
export interface TxtResolver {
  resolveTxt(name: string): Promise<string[][]>;
}

export interface Dns01Options {
  resolver?: TxtResolver;
  timeoutMs?: number;
}

export function dns01Digest(keyAuthorization: string): string {
  return encodeBase64url(sha256(keyAuthorization));
}

const NOT_FOUND = new Set(["ENODATA", "ENOTFOUND", "NXDOMAIN"]);

export function createDns01Validator(opts: Dns01Options = {}): KeyAuthorizationValidator {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const resolver: TxtResolver = opts.resolver ?? new dns.Resolver({ timeout: timeoutMs, tries: 2 });
  return async (ctx: KeyAuthorizationContext) => {
    if (ctx.type !== "dns-01") throw problem.serverInternal("dns-01 validator used for another challenge type");
    if (ctx.identifier.type !== "dns") throw problem.rejectedIdentifier("dns-01 only applies to DNS identifiers");
    const name = `_acme-challenge.${ctx.identifier.value}`;
    let records: string[][];
    let timer: NodeJS.Timeout | undefined;
    try {
      records = await Promise.race([
        resolver.resolveTxt(name),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(Object.assign(new Error("timeout"), { code: "ETIMEOUT" })), timeoutMs);
        }),
      ]);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException)?.code ?? "lookup failed";
      if (NOT_FOUND.has(code)) throw problem.dns(`No TXT record found at ${name}`, { identifier: ctx.identifier });
      throw problem.dns(`DNS lookup of TXT ${name} failed: ${code}`, { identifier: ctx.identifier });
    } finally {
      clearTimeout(timer);
    }
    const expected = dns01Digest(ctx.keyAuthorization);
    // A TXT record may come in several character-strings; they form one value.
    const values = records.map((chunks) => chunks.join(""));
    if (values.length === 0) throw problem.dns(`No TXT record found at ${name}`, { identifier: ctx.identifier });
    if (!values.includes(expected)) {
      throw problem.incorrectResponse(`No TXT record at ${name} matches the expected value`, { identifier: ctx.identifier });
    }
  };
}
