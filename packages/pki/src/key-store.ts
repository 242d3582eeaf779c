import { createHash, randomUUID } from "node:crypto";
import { masterKey as defaultMasterKey, openEnvelope, sealEnvelope } from "@attested/secrets";
import { bytes } from "./encoding";
import { SIGNATURE_ALGORITHMS, assertKeyAlgorithm, generateKeyPair, keyImportParams, type KeyAlgorithm, type SignatureAlgorithm } from "./keys";
import { PkiError } from "@attested/errors";
import { crypto } from "./provider";

/**
 * Where CA private keys live. An interface so that an HSM (PKCS#11) can back it later: the PKI only
 * ever asks for a signing handle, never for key bytes.
 */
export interface KeyStore {
  create(algorithm: KeyAlgorithm): Promise<{ keyId: string; publicKey: CryptoKey }>;
  /**
   * A non-extractable signing key. WebCrypto binds the hash to an RSA key at import, so RSA callers
   * say which signature hash they will use (default SHA-256); EC keys ignore it.
   */
  privateKey(keyId: string, hash?: SignatureAlgorithm): Promise<CryptoKey>;
}

/** One sealed key as the caller stores it (e.g. a CaKey row): never the plaintext. */
export interface SealedKeyRecord {
  id: string;
  algorithm: KeyAlgorithm;
  /** The PKCS#8 private key, AES-256-GCM encrypted under its own data key. */
  sealedKey: Buffer;
  /** That data key, wrapped by the master key (which is not in the database). */
  wrappedDek: Buffer;
}

export interface SealedKeyPersistence {
  save(rec: SealedKeyRecord): Promise<void>;
  load(id: string): Promise<SealedKeyRecord | null>;
}

export interface SealedKeyStoreOptions {
  /** The master key, or a function returning it; defaults to @attested/secrets' MASTER_KEY / key file. */
  masterKey?: Buffer | (() => Buffer);
}

type Unsealed = Record<SignatureAlgorithm, CryptoKey>;

// Process-wide cache of unsealed keys: each key is decrypted once per process, not per signature.
// Keyed by a digest of the master key too, so a store holding a different master key cannot reuse
// (and thereby bypass) another store's unsealing.
const unsealed = new Map<string, Promise<Unsealed>>();

const context = (id: string) => `ca-key:${id}`;

/** Imports the PKCS#8 as non-extractable signing keys, one per hash for RSA (the hash is bound at import). */
async function importSigningKeys(pkcs8: Buffer, alg: KeyAlgorithm): Promise<Unsealed> {
  if (alg.startsWith("EC-")) {
    const key = await crypto.subtle.importKey("pkcs8", bytes(pkcs8), keyImportParams(alg), false, ["sign"]);
    return { "SHA-256": key, "SHA-384": key, "SHA-512": key };
  }
  const keys = await Promise.all(SIGNATURE_ALGORITHMS.map((h) => crypto.subtle.importKey("pkcs8", bytes(pkcs8), keyImportParams(alg, h), false, ["sign"])));
  return Object.fromEntries(SIGNATURE_ALGORITHMS.map((h, i) => [h, keys[i]])) as Unsealed;
}

/** A KeyStore that seals each PKCS#8 key with envelope encryption and hands back non-extractable keys. */
export class SealedKeyStore implements KeyStore {
  constructor(
    private readonly persistence: SealedKeyPersistence,
    private readonly options: SealedKeyStoreOptions = {},
  ) {}

  private masterKey(): Buffer {
    const mk = this.options.masterKey;
    return typeof mk === "function" ? mk() : (mk ?? defaultMasterKey());
  }

  private cacheKey(id: string, mk: Buffer): string {
    return `${createHash("sha256").update(mk).digest("hex")}:${id}`;
  }

  async create(algorithm: KeyAlgorithm): Promise<{ keyId: string; publicKey: CryptoKey }> {
    assertKeyAlgorithm(algorithm);
    const mk = this.masterKey();
    const id = randomUUID();
    const pair = await generateKeyPair(algorithm, true);
    const pkcs8 = Buffer.from(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
    try {
      const env = sealEnvelope(pkcs8, context(id), mk);
      await this.persistence.save({ id, algorithm, sealedKey: env.sealed, wrappedDek: env.wrappedDek });
      unsealed.set(this.cacheKey(id, mk), importSigningKeys(pkcs8, algorithm));
      await unsealed.get(this.cacheKey(id, mk));
    } finally {
      pkcs8.fill(0);
    }
    return { keyId: id, publicKey: pair.publicKey };
  }

  async privateKey(keyId: string, hash: SignatureAlgorithm = "SHA-256"): Promise<CryptoKey> {
    const mk = this.masterKey();
    const k = this.cacheKey(keyId, mk);
    let pending = unsealed.get(k);
    if (!pending) {
      pending = this.unseal(keyId, mk);
      unsealed.set(k, pending);
      // A failed unseal (missing row, wrong master key) must not poison the cache.
      pending.catch(() => unsealed.get(k) === pending && unsealed.delete(k));
    }
    const keys = await pending;
    const key = keys[hash];
    if (!key) throw new PkiError("unsupportedAlgorithm", `Unknown signature algorithm ${String(hash)}`, "signatureAlgorithm");
    return key;
  }

  /** Drops a key from the process cache (after its CA is deleted, or to force re-reading the store). */
  forget(keyId: string): void {
    for (const k of unsealed.keys()) if (k.endsWith(`:${keyId}`)) unsealed.delete(k);
  }

  private async unseal(keyId: string, mk: Buffer): Promise<Unsealed> {
    const rec = await this.persistence.load(keyId);
    if (!rec) throw new PkiError("keyNotFound", `CA key ${keyId} not found`);
    const algorithm = assertKeyAlgorithm(rec.algorithm);
    let pkcs8: Buffer;
    try {
      pkcs8 = openEnvelope({ sealed: rec.sealedKey, wrappedDek: rec.wrappedDek }, context(keyId), mk);
    } catch (cause) {
      throw new PkiError("keyUnavailable", `CA key ${keyId} cannot be unsealed: wrong master key or tampered value`, undefined, undefined, { cause });
    }
    try {
      return await importSigningKeys(pkcs8, algorithm);
    } catch (cause) {
      throw new PkiError("keyUnavailable", `CA key ${keyId} does not match its algorithm ${algorithm}`, undefined, undefined, { cause });
    } finally {
      pkcs8.fill(0);
    }
  }
}

/** In-memory persistence, for tests and throwaway setups (keys vanish with the process). */
export function memoryKeyPersistence(): SealedKeyPersistence & { records: Map<string, SealedKeyRecord> } {
  const records = new Map<string, SealedKeyRecord>();
  return {
    records,
    async save(rec) {
      records.set(rec.id, { ...rec, sealedKey: Buffer.from(rec.sealedKey), wrappedDek: Buffer.from(rec.wrappedDek) });
    },
    async load(id) {
      return records.get(id) ?? null;
    },
  };
}
