import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { openEnvelope, openSecret, sealEnvelope, sealSecret, parseMasterKey, MasterKeyError } from "./index";

describe("envelope encryption", () => {
  const key = randomBytes(32);
  it("round-trips and binds the context", () => {
    const env = sealEnvelope(Buffer.from("pkcs8 bytes"), "ca-key:1", key);
    expect(openEnvelope(env, "ca-key:1", key).toString()).toBe("pkcs8 bytes");
    expect(() => openEnvelope(env, "ca-key:2", key)).toThrow(MasterKeyError);
  });
  it("is useless without the master key", () => {
    const blob = sealSecret("bearer-token-value", "core-platform:9", key);
    expect(Buffer.from(blob).includes(Buffer.from("bearer-token-value"))).toBe(false);
    expect(openSecret(blob, "core-platform:9", key)).toBe("bearer-token-value");
    expect(() => openSecret(blob, "core-platform:9", randomBytes(32))).toThrow(MasterKeyError);
  });
  it("accepts hex or base64 master keys of 32 bytes only", () => {
    expect(parseMasterKey("ab".repeat(32))).toHaveLength(32);
    expect(parseMasterKey(randomBytes(32).toString("base64"))).toHaveLength(32);
    expect(() => parseMasterKey("short")).toThrow(MasterKeyError);
  });
});
