import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AttestationError } from "@attested/errors";
import { parseAppleLeaf } from "./index";
import { REAL_LEAF_PEM } from "./testing/fixtures";

describe("parseAppleLeaf on the real Apple attestation leaf (2025-07)", () => {
  const props = parseAppleLeaf(REAL_LEAF_PEM);

  it("reads every Apple property", () => {
    expect(props.serialNumber).toBe("TMWFWWWP67");
    expect(props.udid).toBe("00006030-000651690A84001C");
    expect(props.osVersion).toBe("15.5");
    expect(props.sepOsVersion).toBe("15.5");
    expect(props.llbVersion).toBe("15.5");
    expect(props.softwareUpdateDeviceId).toBe("J514sAP");
    expect(props.secureBootLevel).toBe("Full Security");
    expect(props.sipStatus).toBe(0);
    expect(props.thirdPartyKexts).toBe(0);
    expect(props.freshnessCode?.toString("hex")).toBe("9ff219c2831313c8190b63e9dd8f80aa0a4a9737a58daa931da8abde2f2d5d62");
  });

  it("returns the leaf's SubjectPublicKeyInfo as the attested key", () => {
    const spki = new X509Certificate(REAL_LEAF_PEM).publicKey.export({ format: "der", type: "spki" });
    expect(props.publicKeySpki.equals(spki)).toBe(true);
  });

  it("accepts DER bytes as well as PEM", () => {
    const der = new X509Certificate(REAL_LEAF_PEM).raw;
    expect(parseAppleLeaf(der)).toEqual(props);
  });

  it("rejects what is not a certificate", () => {
    expect(() => parseAppleLeaf(Buffer.from("not a certificate"))).toThrow(AttestationError);
  });

  it("the fixture is the published reference file (docs/reference)", () => {
    const ref = new URL("../../../docs/reference/apple/real-attestation-leaf-2025-07.pem", import.meta.url);
    expect(new X509Certificate(readFileSync(ref, "utf8")).raw.equals(new X509Certificate(REAL_LEAF_PEM).raw)).toBe(true);
  });
});
