import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

// Envelope encryption for secrets at rest (CA private keys, integration tokens, SMTP password).
// Each secret gets its own AES-256-GCM data key; the data key is wrapped by the master key, which
// comes from MASTER_KEY or a 0600 key file under the data folder, never from the database.
// This package knows no database: where the key comes from is a parameter (see docs/ARCHITECTURE.md).

const VERSION = 1;
const IV = 12;
const TAG = 16;

export class MasterKeyError extends Error {}

export function parseMasterKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, "hex") : Buffer.from(t, "base64");
  if (key.length !== 32) throw new MasterKeyError("MASTER_KEY must be 32 bytes, as 64 hex digits or base64");
  return key;
}

/** Where the master key comes from: its text (MASTER_KEY), else a key file (MASTER_KEY_FILE). */
export interface MasterKeySource {
  value?: string;
  file: string;
}

/** The source the environment names: MASTER_KEY, else MASTER_KEY_FILE, else `master.key` in `dataDir`. */
export function masterKeySource(dataDir: string, env: Readonly<Record<string, string | undefined>>): MasterKeySource {
  return { value: env.MASTER_KEY || undefined, file: env.MASTER_KEY_FILE ?? path.join(dataDir, "master.key") };
}

/**
 * Loads the master key: the given value, else the key file, created on first start with mode 0600 in
 * a folder made 0700.
 */
export function loadMasterKey(source: MasterKeySource): Buffer {
  if (source.value) return parseMasterKey(source.value);
  // A path chosen at run time (DATA_DIR): nothing for the bundler to trace.
  const file = source.file;
  if (!existsSync(/*turbopackIgnore: true*/ file)) {
    mkdirSync(/*turbopackIgnore: true*/ path.dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  }
  chmodSync(file, 0o600);
  return parseMasterKey(readFileSync(/*turbopackIgnore: true*/ file, "utf8"));
}

/** The nearest folder upward from `start` holding pnpm-workspace.yaml, else `start`. */
function workspaceRoot(start: string): string {
  let dir = path.resolve(/*turbopackIgnore: true*/ start);
  for (;;) {
    if (existsSync(path.join(dir, "pnpm-workspace.yaml"))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return path.resolve(/*turbopackIgnore: true*/ start);
    dir = up;
  }
}

/**
 * The data folder when nobody configured one (tests, scripts): `data` at the workspace root, the same
 * as @attested/db's dataDir() then (a test in @attested/ca holds them equal). Kept here so that this
 * package, and @attested/pki above it, do not depend on the database package. The server hands its
 * DATA_DIR and MASTER_KEY over through setMasterKey (services.ts).
 */
export function defaultDataDir(cwd = process.cwd()): string {
  return path.join(workspaceRoot(cwd), "data");
}

let current: Buffer | undefined;
let loader: (() => Buffer) | undefined;

/**
 * The master key used when a caller passes none. The server sets it once at start (services.ts, from
 * its config) in each copy of this module; without that (tests, scripts) the environment names it
 * (MASTER_KEY, MASTER_KEY_FILE, else master.key in DATA_DIR).
 */
export function setMasterKey(key: Buffer | (() => Buffer)): void {
  if (typeof key === "function") [current, loader] = [undefined, key];
  else [current, loader] = [key, undefined];
}

export function masterKey(): Buffer {
  return (current ??= loader ? loader() : loadMasterKey({ file: path.join(defaultDataDir(), "master.key") }));
}

/** The keys derived from the master key, each bound to its one use: one secret to keep and back up. */
export interface DerivedKeys {
  /** Signs portal sessions (Auth.js's AUTH_SECRET). */
  authSecret: string;
  /** Signs ACME nonces: the same on every instance, so a nonce issued by one is accepted by any other. */
  acmeNonceKey: Buffer;
}

export function deriveKeys(master: Buffer = masterKey()): DerivedKeys {
  const derive = (label: string) =>
    createHash("sha256")
      .update(Buffer.concat([Buffer.from(`attested-pki ${label}\0`), master]))
      .digest();
  return { authSecret: derive("auth secret").toString("base64url"), acmeNonceKey: derive("acme nonce key") };
}

function gcmSeal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const iv = randomBytes(IV);
  const c = createCipheriv("aes-256-gcm", key, iv);
  c.setAAD(aad);
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), ct]);
}

function gcmOpen(key: Buffer, blob: Buffer, aad: Buffer): Buffer {
  if (blob.length < IV + TAG) throw new MasterKeyError("sealed value is truncated");
  const d = createDecipheriv("aes-256-gcm", key, blob.subarray(0, IV));
  d.setAAD(aad);
  d.setAuthTag(blob.subarray(IV, IV + TAG));
  try {
    return Buffer.concat([d.update(blob.subarray(IV + TAG)), d.final()]);
  } catch {
    throw new MasterKeyError("cannot decrypt: wrong master key or tampered value");
  }
}

export interface Envelope {
  /** The data key, wrapped by the master key. */
  wrappedDek: Buffer;
  /** The secret, encrypted by the data key. */
  sealed: Buffer;
}

/** Encrypts `plaintext`; `context` binds the ciphertext to its use (e.g. "ca-key:<id>"). */
export function sealEnvelope(plaintext: Buffer, context: string, key = masterKey()): Envelope {
  const dek = randomBytes(32);
  const aad = Buffer.from(context);
  return { wrappedDek: gcmSeal(key, dek, aad), sealed: gcmSeal(dek, plaintext, aad) };
}

export function openEnvelope(env: Envelope, context: string, key = masterKey()): Buffer {
  const aad = Buffer.from(context);
  return gcmOpen(gcmOpen(key, env.wrappedDek, aad), env.sealed, aad);
}

/** One-blob form for secrets kept in a single column: version | len(wrappedDek) | wrappedDek | sealed. */
export function sealSecret(plaintext: string, context: string, key = masterKey()): Uint8Array<ArrayBuffer> {
  const { wrappedDek, sealed } = sealEnvelope(Buffer.from(plaintext, "utf8"), context, key);
  // A plain Uint8Array, as database drivers store bytes.
  return new Uint8Array(Buffer.concat([Buffer.from([VERSION, wrappedDek.length]), wrappedDek, sealed]));
}

export function openSecret(blob: Uint8Array, context: string, key = masterKey()): string {
  const b = Buffer.from(blob);
  if (b[0] !== VERSION) throw new MasterKeyError("unknown secret format");
  const n = b[1];
  return openEnvelope({ wrappedDek: b.subarray(2, 2 + n), sealed: b.subarray(2 + n) }, context, key).toString("utf8");
}
