import { describe, expect, it } from "vitest";
import { attestedPosture, compareVersions, evaluatePosture } from "./posture";
import { deviceRoleConditionsSchema, postureConditionSchema } from "./schemas";

// Posture conditions on what Apple attested: every condition, passing and failing, on a Mac's
// attestation and an iPhone's (the leaf of an iPhone has no SIP, Secure Boot or kext extensions).

const mac = {
  serialNumber: "TMWFWWWP67",
  osVersion: "14.6.1",
  sepOsVersion: "14.6.1",
  llbVersion: "14.6.1",
  softwareUpdateDeviceId: "J514sAP",
  secureBootLevel: "Full Security",
  sipStatus: 0,
  thirdPartyKexts: 0,
};
const iphone = { serialNumber: "F2LX0000", osVersion: "17.4", sepOsVersion: "17.4", llbVersion: "17.4", softwareUpdateDeviceId: "D83AP" };

const one = (check: string, value: string, attestation: Record<string, unknown>) =>
  evaluatePosture([postureConditionSchema.parse({ check, value })], attestation)[0]!;

describe("version comparison", () => {
  it("compares number by number, a missing part counting as 0", () => {
    expect(compareVersions("14.10", "14.9")).toBe(1);
    expect(compareVersions("17", "17.0")).toBe(0);
    expect(compareVersions("17.0.0", "17")).toBe(0);
    expect(compareVersions("13.6", "14.0")).toBe(-1);
    expect(compareVersions("14.6.1", "14.6")).toBe(1);
    expect(compareVersions("14.6 beta", "14.6")).toBeNull();
  });
});

describe("the attested posture", () => {
  it("tells a Mac from an iPhone by the Mac-only extensions", () => {
    expect(attestedPosture(mac)).toMatchObject({ platform: "macOS", sipEnabled: true, thirdPartyKextsAllowed: false, secureBootLevel: "Full Security" });
    expect(attestedPosture(iphone)).toMatchObject({ platform: "iOS", sipEnabled: null, thirdPartyKextsAllowed: null, secureBootLevel: null });
    expect(attestedPosture({ ...mac, sipStatus: 1, thirdPartyKexts: 1 })).toMatchObject({ sipEnabled: false, thirdPartyKextsAllowed: true });
  });
});

describe("posture conditions", () => {
  it("OS version at least / below, per platform, with the fact, the rule and the value", () => {
    expect(one("macosVersionAtLeast", "14.0", { ...mac, osVersion: "13.6" })).toMatchObject({
      passed: false,
      actual: "13.6",
      message: "attested macOS 13.6 is below the required 14.0",
    });
    expect(one("macosVersionAtLeast", "14.6", mac).passed).toBe(true);
    expect(one("macosVersionAtLeast", "14.10", { ...mac, osVersion: "14.9" }).passed).toBe(false);
    expect(one("macosVersionBelow", "15", mac).passed).toBe(true);
    expect(one("macosVersionBelow", "14.6", mac)).toMatchObject({ passed: false, message: "attested macOS 14.6.1 is not below the limit 14.6" });
    expect(one("iosVersionAtLeast", "17", iphone).passed).toBe(true);
    expect(one("iosVersionAtLeast", "17.5", iphone)).toMatchObject({ passed: false, message: "attested iOS/iPadOS 17.4 is below the required 17.5" });
    expect(one("iosVersionBelow", "18", iphone).passed).toBe(true);
    expect(one("iosVersionBelow", "17.4", iphone).passed).toBe(false);
  });

  it("a rule for the other platform does not apply; a missing or odd fact fails closed", () => {
    expect(one("macosVersionAtLeast", "99", iphone)).toMatchObject({ passed: true, notApplicable: true });
    expect(one("iosVersionAtLeast", "99", mac)).toMatchObject({ passed: true, notApplicable: true });
    expect(one("secureBootAtLeast", "Full Security", iphone)).toMatchObject({ passed: true, notApplicable: true });
    const { osVersion: _, ...noOs } = mac;
    expect(one("macosVersionAtLeast", "14", noOs)).toMatchObject({
      passed: false,
      message: "the attestation carries no OS version (required: macOS version at least 14)",
    });
    expect(one("macosVersionAtLeast", "14", { ...mac, osVersion: "14.6 (23G)" }).passed).toBe(false);
    // A Mac whose leaf has SIP but not the Secure Boot level: the rule cannot be shown to hold.
    const { secureBootLevel: __, ...noBoot } = mac;
    expect(one("secureBootAtLeast", "Full Security", noBoot).passed).toBe(false);
  });

  it("Secure Boot level at least (Full, Reduced or Medium, Permissive)", () => {
    expect(one("secureBootAtLeast", "Full Security", mac).passed).toBe(true);
    expect(one("secureBootAtLeast", "Full Security", { ...mac, secureBootLevel: "Reduced Security" })).toMatchObject({
      passed: false,
      message: "attested Secure Boot level Reduced Security is below the required Full Security",
    });
    expect(one("secureBootAtLeast", "Reduced Security", { ...mac, secureBootLevel: "Medium Security" }).passed).toBe(true);
    expect(one("secureBootAtLeast", "Reduced Security", { ...mac, secureBootLevel: "Permissive Security" }).passed).toBe(false);
    expect(one("secureBootAtLeast", "Permissive Security", { ...mac, secureBootLevel: "Permissive Security" }).passed).toBe(true);
    expect(one("secureBootAtLeast", "Permissive Security", { ...mac, secureBootLevel: "Unknown" }).passed).toBe(false);
  });

  it("SIP enabled or disabled", () => {
    expect(one("sip", "enabled", mac).passed).toBe(true);
    expect(one("sip", "enabled", { ...mac, sipStatus: 1 })).toMatchObject({ passed: false, message: "attested SIP is disabled, the rule requires it enabled" });
    expect(one("sip", "disabled", { ...mac, sipStatus: 1 }).passed).toBe(true);
  });

  it("third-party kernel extensions allowed or not", () => {
    expect(one("thirdPartyKexts", "notAllowed", mac).passed).toBe(true);
    expect(one("thirdPartyKexts", "notAllowed", { ...mac, thirdPartyKexts: 1 }).passed).toBe(false);
    expect(one("thirdPartyKexts", "allowed", { ...mac, thirdPartyKexts: 1 }).passed).toBe(true);
  });

  it("platform, and the Software Update Device ID (the attested hardware model)", () => {
    expect(one("platform", "macOS", mac).passed).toBe(true);
    expect(one("platform", "macOS", iphone)).toMatchObject({ passed: false, message: "attested platform is iOS/iPadOS, the rule requires macOS" });
    expect(one("platform", "iOS", iphone).passed).toBe(true);
    expect(one("softwareUpdateDeviceIdIn", "J514sAP, J516sAP", mac).passed).toBe(true);
    expect(one("softwareUpdateDeviceIdIn", "J516sAP", mac).passed).toBe(false);
    expect(one("softwareUpdateDeviceIdNotIn", "j514sap", mac).passed).toBe(false);
    expect(one("softwareUpdateDeviceIdNotIn", "J516sAP", mac).passed).toBe(true);
  });
});

describe("the Conditions tab's posture fields", () => {
  const kap = "0e6c1d84-3f4f-4bb5-9a43-0f1f7c5f9d11";
  const issues = (postureConditions: unknown) => {
    const r = deviceRoleConditionsSchema.safeParse({ keyAttestationPlatformId: kap, postureConditions });
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  };
  it("name the field and the reason for bad input", () => {
    expect(issues([{ check: "macosVersionAtLeast", value: "fourteen" }])).toEqual(["postureConditions.0.value: Write a version such as 14, 14.6 or 17.4.1"]);
    expect(issues([{ check: "secureBootAtLeast", value: "Max" }])[0]).toMatch(/^postureConditions\.0\.value: Choose Full Security/);
    expect(issues([{ check: "sip", value: "on" }])[0]).toMatch(/^postureConditions\.0\.value: Choose enabled, disabled/);
    expect(issues([{ check: "osVersion", value: "14" }])[0]).toMatch(/^postureConditions\.0\.check: /);
    expect(issues([{ check: "softwareUpdateDeviceIdIn", value: "J514sAP, <script>" }])[0]).toMatch(
      /^postureConditions\.0\.value: Write Software Update Device IDs/,
    );
    expect(issues(Array.from({ length: 21 }, () => ({ check: "sip", value: "enabled" }))).length).toBe(1);
    expect(issues([{ check: "iosVersionBelow", value: " 18.0 " }])).toEqual([]);
  });
});
