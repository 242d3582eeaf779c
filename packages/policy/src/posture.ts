import { POSTURE_CHECKS, SECURE_BOOT_LEVELS, type AttestedPlatform, type PostureCheck } from "./options";
import type { PostureCondition } from "./schemas";

// A Device Role's posture conditions (Conditions tab): tests on what Apple attested in the device's
// leaf (docs/protocol.md#attested-posture), evaluated at finalize before any device lookup. Every
// condition must pass. A fact the condition needs and the attestation lacks fails closed, except
// that a condition for one platform does not apply to a device of the other (a "macOS version at
// least" rule lets an iPhone through; "Platform is macOS" is the rule that keeps it out).

/** The posture an attestation proves, as recorded on the certificate and answered to RADIUS. */
export interface AttestedPosture {
  platform: AttestedPlatform;
  osVersion: string | null;
  sepOsVersion: string | null;
  llbVersion: string | null;
  softwareUpdateDeviceId: string | null;
  /** macOS only: the Secure Boot level as attested ("Full Security", ...). */
  secureBootLevel: string | null;
  /** macOS only: System Integrity Protection enabled (attested status 0). */
  sipEnabled: boolean | null;
  /** macOS only: third-party kernel extensions allowed (attested value other than 0). */
  thirdPartyKextsAllowed: boolean | null;
}

export interface PostureResult {
  condition: PostureCondition;
  /** The rule in words, e.g. "macOS version at least 14.0". */
  rule: string;
  passed: boolean;
  /** Passed because the rule is for the other platform. */
  notApplicable: boolean;
  /** The attested fact tested, as text (null when the attestation lacks it). */
  actual: string | null;
  /** The fact, the rule and the value: "attested macOS 13.6 is below the required 14.0". */
  message: string;
}

const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : null);
const int = (v: unknown) => (typeof v === "number" && Number.isInteger(v) ? v : null);

/**
 * The platform is not an attested field: Apple adds SIP, Secure Boot and kernel-extension status
 * only to a Mac's leaf (macOS 14 and later on Apple silicon, the only Macs that attest), so a leaf
 * with any of them is a Mac's and one without is an iPhone's or iPad's.
 */
export function attestedPosture(attestation: Record<string, unknown>): AttestedPosture {
  const sip = int(attestation.sipStatus);
  const kexts = int(attestation.thirdPartyKexts);
  const secureBootLevel = str(attestation.secureBootLevel);
  const mac = sip !== null || kexts !== null || secureBootLevel !== null;
  return {
    platform: mac ? "macOS" : "iOS",
    osVersion: str(attestation.osVersion),
    sepOsVersion: str(attestation.sepOsVersion),
    llbVersion: str(attestation.llbVersion),
    softwareUpdateDeviceId: str(attestation.softwareUpdateDeviceId),
    secureBootLevel,
    sipEnabled: sip === null ? null : sip === 0,
    thirdPartyKextsAllowed: kexts === null ? null : kexts !== 0,
  };
}

const VERSION = /^\d{1,6}(\.\d{1,6}){0,3}$/;

/** True for a dotted numeric version such as 14, 14.6 or 17.4.1. */
export const isVersion = (v: string) => VERSION.test(v);

/**
 * Compares dotted versions number by number, a missing part counting as 0: 14.10 > 14.9 and
 * 17 = 17.0. Null when either is not a version (the attested text is Apple's, but fail closed).
 */
export function compareVersions(a: string, b: string): -1 | 0 | 1 | null {
  if (!isVersion(a) || !isVersion(b)) return null;
  const x = a.split(".").map(Number);
  const y = b.split(".").map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** Secure Boot levels from most to least secure; "Medium" is the Intel T2 word for Reduced. */
function secureBootRank(level: string): number | null {
  const word = level.trim().split(/\s+/)[0]?.toLowerCase();
  const i = SECURE_BOOT_LEVELS.findIndex((l) => l.value.split(" ")[0]!.toLowerCase() === (word === "medium" ? "reduced" : word));
  return i < 0 ? null : SECURE_BOOT_LEVELS.length - i;
}

const check = (c: PostureCheck) => POSTURE_CHECKS.find((p) => p.value === c)!;
const platformName = (p: AttestedPlatform) => (p === "macOS" ? "macOS" : "iOS/iPadOS");

/** The value list of a "Software Update Device ID is (not) one of" condition. */
export const listValues = (v: string) =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

export function describePostureCondition(c: PostureCondition): string {
  const def = check(c.check);
  const shown = "choices" in def ? (def.choices.find((x) => x.value === c.value)?.label ?? c.value) : c.value;
  return `${def.label} ${shown}`;
}

export function evaluatePostureCondition(c: PostureCondition, posture: AttestedPosture): PostureResult {
  const def = check(c.check);
  const rule = describePostureCondition(c);
  const result = (passed: boolean, actual: string | null, message: string, notApplicable = false): PostureResult => ({
    condition: c,
    rule,
    passed,
    notApplicable,
    actual,
    message,
  });
  if (def.platform && def.platform !== posture.platform)
    return result(true, null, `${rule}: not applicable, the device attested as ${platformName(posture.platform)}`, true);
  const missing = (fact: string) => result(false, null, `the attestation carries no ${fact} (required: ${rule})`);

  switch (c.check) {
    case "macosVersionAtLeast":
    case "iosVersionAtLeast":
    case "macosVersionBelow":
    case "iosVersionBelow": {
      const os = platformName(posture.platform);
      const v = posture.osVersion;
      if (!v) return missing("OS version");
      const cmp = compareVersions(v, c.value);
      if (cmp === null) return result(false, v, `attested ${os} version "${v}" is not a version number (required: ${rule})`);
      if (c.check.endsWith("AtLeast"))
        return cmp >= 0
          ? result(true, v, `attested ${os} ${v} is at least ${c.value}`)
          : result(false, v, `attested ${os} ${v} is below the required ${c.value}`);
      return cmp < 0 ? result(true, v, `attested ${os} ${v} is below ${c.value}`) : result(false, v, `attested ${os} ${v} is not below the limit ${c.value}`);
    }
    case "secureBootAtLeast": {
      const v = posture.secureBootLevel;
      if (!v) return missing("Secure Boot level");
      const have = secureBootRank(v);
      const want = secureBootRank(c.value)!;
      if (have === null) return result(false, v, `attested Secure Boot level "${v}" is not one this rule knows (required: ${rule})`);
      return have >= want
        ? result(true, v, `attested Secure Boot level ${v} meets ${c.value}`)
        : result(false, v, `attested Secure Boot level ${v} is below the required ${c.value}`);
    }
    case "sip": {
      if (posture.sipEnabled === null) return missing("System Integrity Protection status");
      const v = posture.sipEnabled ? "enabled" : "disabled";
      return v === c.value ? result(true, v, `attested SIP is ${v}`) : result(false, v, `attested SIP is ${v}, the rule requires it ${c.value}`);
    }
    case "thirdPartyKexts": {
      if (posture.thirdPartyKextsAllowed === null) return missing("third-party kernel extension status");
      const v = posture.thirdPartyKextsAllowed ? "allowed" : "notAllowed";
      const words = (x: string) => (x === "allowed" ? "allowed" : "not allowed");
      return v === c.value
        ? result(true, v, `attested third-party kernel extensions are ${words(v)}`)
        : result(false, v, `attested third-party kernel extensions are ${words(v)}, the rule requires ${words(c.value)}`);
    }
    case "platform": {
      const v = posture.platform;
      return v === c.value
        ? result(true, v, `attested platform is ${platformName(v)}`)
        : result(false, v, `attested platform is ${platformName(v)}, the rule requires ${platformName(c.value as AttestedPlatform)}`);
    }
    case "softwareUpdateDeviceIdIn":
    case "softwareUpdateDeviceIdNotIn": {
      const v = posture.softwareUpdateDeviceId;
      if (!v) return missing("Software Update Device ID");
      const listed = listValues(c.value).some((x) => x.toLowerCase() === v.toLowerCase());
      const wanted = c.check === "softwareUpdateDeviceIdIn";
      return listed === wanted
        ? result(true, v, `attested Software Update Device ID ${v} is ${listed ? "" : "not "}in ${c.value}`)
        : result(false, v, `attested Software Update Device ID ${v} is ${listed ? "" : "not "}in the list ${c.value} (required: ${rule})`);
    }
  }
}

export function evaluatePosture(conditions: readonly PostureCondition[], attestation: Record<string, unknown>): PostureResult[] {
  const posture = attestedPosture(attestation);
  return conditions.map((c) => evaluatePostureCondition(c, posture));
}
