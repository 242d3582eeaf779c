import { isIP } from "node:net";
import { AcmeProblem, problem } from "./problems";
import { isInternalAddress } from "./validation/addresses";
import type { AcmePlatform, ChallengeType, Identifier, IdentifierType } from "./types";
import { IDENTIFIER_TYPES } from "./types";

// Identifier checks for newOrder (RFC 8555 §7.4), per platform.

export const MAX_IDENTIFIERS = 100;
const MAX_PERMANENT_ID = 128;

export interface PlannedAuthorization {
  /** As it appears in the order. */
  identifier: Identifier;
  /** As it appears in the authorization: wildcard orders drop the "*." (RFC 8555 §7.1.4). */
  authzValue: string;
  wildcard: boolean;
  challengeTypes: ChallengeType[];
}

/** Which challenge types can prove control of an identifier. */
function applicableChallenges(type: IdentifierType, wildcard: boolean): ChallengeType[] {
  switch (type) {
    case "permanent-identifier":
      return ["device-attest-01"]; // draft-ietf-acme-device-attest
    case "dns":
      return wildcard ? ["dns-01"] : ["http-01", "dns-01"]; // RFC 8555 §7.1.3: no http-01 for wildcards
    case "ip":
      return ["http-01"]; // RFC 8738 §7
  }
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function normalizeDns(value: string): { value: string; base: string; wildcard: boolean } | string {
  const v = value.toLowerCase();
  if (v.length > 253) return "DNS name is too long";
  const wildcard = v.startsWith("*.");
  const base = wildcard ? v.slice(2) : v;
  const labels = base.split(".");
  if (labels.some((l) => !LABEL.test(l))) return "DNS name contains an invalid label";
  if (wildcard && labels.length < 2) return "Wildcard must cover a name with at least two labels";
  if (/^[0-9]+$/.test(labels[labels.length - 1])) return 'DNS name looks like an IP address; use type "ip"';
  return { value: v, base, wildcard };
}

/** An IP address in the form identifiers carry (RFC 8738 §3), or null. */
export function normalizeIp(value: string): string | null {
  const version = isIP(value);
  if (version === 4) return value.split(".").map(Number).join(".") === value ? value : null;
  if (version === 6) {
    // RFC 8738 §3: the textual form of RFC 5952 (canonical, lowercase, compressed).
    try {
      return new URL(`http://[${value}]/`).hostname.slice(1, -1);
    } catch {
      return null;
    }
  }
  return null;
}

function planOne(raw: { type: string; value: string }, platform: AcmePlatform, available: Set<ChallengeType>, allowPrivate: boolean): PlannedAuthorization {
  const asIdentifier = { type: raw.type, value: raw.value };
  if (!(IDENTIFIER_TYPES as readonly string[]).includes(raw.type)) {
    throw problem.unsupportedIdentifier(`Identifier type "${raw.type}" is not supported`, { identifier: asIdentifier });
  }
  const type = raw.type as IdentifierType;
  if (!platform.allowedIdentifierTypes.includes(type)) {
    throw problem.unsupportedIdentifier(`Identifier type "${type}" is not accepted here`, { identifier: asIdentifier });
  }
  let value = raw.value;
  let authzValue = raw.value;
  let wildcard = false;
  if (type === "dns") {
    const r = normalizeDns(raw.value);
    if (typeof r === "string") throw problem.rejectedIdentifier(r, { identifier: asIdentifier });
    ({ value, base: authzValue, wildcard } = r);
  } else if (type === "ip") {
    const ip = normalizeIp(raw.value);
    if (!ip) throw problem.rejectedIdentifier("Not a valid IP address", { identifier: asIdentifier });
    if (!allowPrivate && isInternalAddress(ip)) {
      throw problem.rejectedIdentifier("Only public IP addresses can be validated", { identifier: asIdentifier });
    }
    value = authzValue = ip;
  } else {
    if (value.length === 0 || value.length > MAX_PERMANENT_ID || !/^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(value)) {
      throw problem.rejectedIdentifier(`Permanent identifier must be 1-${MAX_PERMANENT_ID} printable ASCII characters`, { identifier: asIdentifier });
    }
  }
  const challengeTypes = applicableChallenges(type, wildcard).filter((t) => platform.allowedChallenges.includes(t) && available.has(t));
  if (challengeTypes.length === 0) {
    throw problem.rejectedIdentifier("No challenge type is available for this identifier", {
      identifier: { type, value },
    });
  }
  return { identifier: { type, value }, authzValue, wildcard, challengeTypes };
}

/**
 * Validates and normalizes the identifiers of a new order; duplicates are merged. Several bad
 * identifiers are reported together as subproblems (RFC 8555 §6.7.1).
 */
export function planAuthorizations(
  identifiers: { type: string; value: string }[],
  platform: AcmePlatform,
  available: Set<ChallengeType>,
  /** Accept internal IP addresses (test networks only, see validation/addresses.ts). */
  allowPrivateAddresses = false,
): PlannedAuthorization[] {
  if (identifiers.length === 0) throw problem.malformed("Order must have at least one identifier");
  if (identifiers.length > MAX_IDENTIFIERS) throw problem.rejectedIdentifier(`At most ${MAX_IDENTIFIERS} identifiers per order`);
  const out = new Map<string, PlannedAuthorization>();
  const failures: AcmeProblem[] = [];
  for (const raw of identifiers) {
    try {
      const p = planOne(raw, platform, available, allowPrivateAddresses);
      out.set(`${p.identifier.type}\u0000${p.identifier.value}`, p);
    } catch (e) {
      if (!(e instanceof AcmeProblem)) throw e;
      failures.push(e);
    }
  }
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) {
    throw new AcmeProblem("compound", "Several identifiers were refused; see subproblems", {
      status: 400,
      subproblems: failures,
    });
  }
  return [...out.values()];
}
