import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadMasterKey, masterKeySource, openEnvelope, openSecret, sealEnvelope, sealSecret, parseMasterKey, MasterKeyError } from "./index";

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

describe("loadMasterKey", () => {
  const withTemp = (fn: (dir: string) => void) => {
    const root = mkdtempSync(path.join(os.tmpdir(), "master-key-"));
    try {
      fn(root);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  };

  it("creates <data folder>/master.key once, 0600 in a 0700 folder, and reads the same key afterwards", () =>
    withTemp((root) => {
      const dataDir = path.join(root, "data");
      const source = masterKeySource(dataDir, {});
      expect(source).toEqual({ value: undefined, file: path.join(dataDir, "master.key") });
      const key = loadMasterKey(source);
      expect(key).toHaveLength(32);
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
      expect(statSync(source.file).mode & 0o777).toBe(0o600);
      expect(loadMasterKey(source).equals(key)).toBe(true);
      expect(parseMasterKey(readFileSync(source.file, "utf8")).equals(key)).toBe(true);
    }));

  it("takes MASTER_KEY first, then MASTER_KEY_FILE, and only then the data folder", () =>
    withTemp((root) => {
      const value = randomBytes(32);
      const dataDir = path.join(root, "data");
      expect(loadMasterKey(masterKeySource(dataDir, { MASTER_KEY: value.toString("hex") })).equals(value)).toBe(true);
      const file = path.join(root, "keys", "the.key");
      expect(masterKeySource(dataDir, { MASTER_KEY_FILE: file }).file).toBe(file);
      const fromFile = loadMasterKey(masterKeySource(dataDir, { MASTER_KEY_FILE: file }));
      expect(parseMasterKey(readFileSync(file, "utf8")).equals(fromFile)).toBe(true);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    }));
});
