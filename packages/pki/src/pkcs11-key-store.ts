import { PkiError } from "@attested/errors";
import * as graphene from "graphene-pk11";
import { Crypto as Pkcs11Crypto } from "node-webcrypto-p11";
import { bytes } from "./encoding";
import type { KeyStore } from "./key-store";
import { assertKeyAlgorithm, keyAlgorithmOf, keyGenParams, keyImportParams, type KeyAlgorithm, type SignatureAlgorithm } from "./keys";
import { crypto, registerKeyProvider } from "./provider";

// CA keys inside a hardware security module, through PKCS#11 (graphene-pk11 for the token, node-webcrypto-p11
// for signing through WebCrypto so @peculiar/x509 can use the keys). The key never leaves the token: it is
// generated there (CKA_SENSITIVE true, CKA_EXTRACTABLE false, CKA_TOKEN true) and every signature is made there.

export interface Pkcs11Options {
  /** Path of the vendor's PKCS#11 library (.so). */
  module: string;
  /** The token, by label (CKA_LABEL of the token) or by slot index. */
  tokenLabel?: string;
  slot?: number;
  /** The user PIN, read each time the store logs in (so a PIN file can change). Never stored. */
  pin: () => string;
}

/** The key id a CA row keeps for a key in the token: an RFC 7512 PKCS#11 URI naming the key by label. */
export const pkcs11KeyId = (label: string) => `pkcs11:object=${encodeURIComponent(label)};type=private`;
export const isPkcs11KeyId = (keyId: string) => keyId.startsWith("pkcs11:");
export function pkcs11KeyLabel(keyId: string): string | undefined {
  const m = /^pkcs11:object=([^;]*);type=private$/.exec(keyId);
  return m ? decodeURIComponent(m[1]) : undefined;
}

/** Labels the portal accepts for a key in the token: printable, no path-like surprises. */
export const KEY_LABEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 ._:-]{0,63}$/;

/** Errors from the token that mean the connection is gone: the next call opens a new session. */
const LOST = new Set([
  "CKR_SESSION_HANDLE_INVALID",
  "CKR_SESSION_CLOSED",
  "CKR_DEVICE_REMOVED",
  "CKR_DEVICE_ERROR",
  "CKR_TOKEN_NOT_PRESENT",
  "CKR_TOKEN_NOT_RECOGNIZED",
  "CKR_USER_NOT_LOGGED_IN",
  "CKR_KEY_HANDLE_INVALID",
  "CKR_OBJECT_HANDLE_INVALID",
  "CKR_CRYPTOKI_NOT_INITIALIZED",
]);

const ckr = (e: unknown) => /CKR_[A-Z_]+/.exec(e instanceof Error ? e.message : String(e))?.[0];

/** The one error the store throws when the token cannot do what was asked: the edges answer 503 / a form error. */
function unavailable(message: string, cause?: unknown, field?: string): PkiError {
  const code = cause === undefined ? undefined : ckr(cause);
  return new PkiError("keyStoreUnavailable", code ? `${message} (${code})` : message, field, undefined, { cause });
}

interface Connection {
  module: graphene.Module;
  session: graphene.Session;
  p11: Pkcs11Crypto;
  /** p11 as @peculiar/x509 uses it, with signatures serialized (one PKCS#11 operation per session at a time). */
  signing: Crypto;
}

/** A KeyStore whose keys live in a PKCS#11 token. Key ids are pkcs11KeyId(label). */
export class Pkcs11KeyStore implements KeyStore {
  private connection: Promise<Connection> | undefined;
  private readonly keys = new Map<string, Promise<CryptoKey>>();
  // One PKCS#11 operation at a time on the session (C_SignInit..C_Sign must not interleave).
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly options: Pkcs11Options) {}

  /** Where keys live, as the CA page says it. */
  get tokenDescription(): string {
    return this.options.tokenLabel !== undefined ? `token "${this.options.tokenLabel}"` : `slot ${this.options.slot ?? 0}`;
  }

  private serial<T>(op: () => Promise<T> | T): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private connect(): Promise<Connection> {
    if (!this.connection) {
      const pending = this.serial(() => this.open());
      this.connection = pending;
      pending.catch(() => this.connection === pending && (this.connection = undefined));
    }
    return this.connection;
  }

  private open(): Connection {
    const { module: path, tokenLabel, slot } = this.options;
    let mod: graphene.Module;
    try {
      mod = graphene.Module.load(path, "attested");
    } catch (e) {
      throw unavailable(`The PKCS#11 module ${path} cannot be loaded`, e);
    }
    try {
      try {
        mod.initialize();
      } catch (e) {
        if (ckr(e) !== "CKR_CRYPTOKI_ALREADY_INITIALIZED") throw e;
      }
      const slots = mod.getSlots(true);
      let found: graphene.Slot | undefined;
      for (let i = 0; i < slots.length; i++) {
        const s = slots.items(i);
        if (tokenLabel !== undefined ? s.getToken().label.trim() === tokenLabel : i === (slot ?? 0)) found = s;
      }
      if (!found) throw unavailable(`The hardware security module has no ${this.tokenDescription}: is it connected and initialized?`);
      const session = found.open(graphene.SessionFlag.SERIAL_SESSION | graphene.SessionFlag.RW_SESSION);
      try {
        session.login(this.options.pin(), graphene.UserType.USER);
      } catch (e) {
        const code = ckr(e);
        if (code !== "CKR_USER_ALREADY_LOGGED_IN") {
          session.close();
          throw unavailable(
            code === "CKR_PIN_LOCKED"
              ? `The ${this.tokenDescription} is locked (too many wrong PINs): unlock it with the security officer PIN`
              : code === "CKR_PIN_INCORRECT" || code === "CKR_PIN_INVALID" || code === "CKR_PIN_LEN_RANGE"
                ? `The ${this.tokenDescription} refused the PIN: check PKCS11_PIN or PKCS11_PIN_FILE`
                : `Cannot log in to the ${this.tokenDescription}`,
            e,
          );
        }
      }
      const p11 = new Pkcs11Crypto({ session });
      return { module: mod, session, p11, signing: this.serializedCrypto(p11) };
    } catch (e) {
      // Not finalized: the library is process-wide and other sessions may use it.
      throw e instanceof PkiError ? e : unavailable(`The hardware security module at ${path} cannot be opened`, e);
    }
  }

  /** The token's WebCrypto, its sign() taking its turn in the queue and failing with a PkiError. */
  private serializedCrypto(p11: Pkcs11Crypto): Crypto {
    const subtle = p11.subtle;
    const sign = (algorithm: AlgorithmIdentifier, key: CryptoKey, data: BufferSource) =>
      this.serial(() => subtle.sign(algorithm as Algorithm, key, data)).catch((e) => {
        this.lost(e);
        throw unavailable(`The ${this.tokenDescription} refused the signature`, e);
      });
    const wrapped = new Proxy(subtle, {
      get: (target, prop) => (prop === "sign" ? sign : Reflect.get(target, prop, target).bind?.(target)),
    });
    return { subtle: wrapped, getRandomValues: (a: never) => p11.getRandomValues(a), randomUUID: () => globalThis.crypto.randomUUID() } as unknown as Crypto;
  }

  /** After an error that means the session is gone: drop it and every key handle, so the next call reconnects. */
  private lost(e: unknown): void {
    const code = ckr(e);
    if (!code || !LOST.has(code)) return;
    const old = this.connection;
    this.connection = undefined;
    this.keys.clear();
    old?.then(
      (c) => {
        try {
          c.session.close();
        } catch {}
      },
      () => undefined,
    );
  }

  private findPrivate(session: graphene.Session, label: string): graphene.PrivateKey[] {
    return list<graphene.PrivateKey>(session.find({ class: graphene.ObjectClass.PRIVATE_KEY, token: true, label }));
  }

  /** Generates a key pair in the token under `label` (a fresh label: an existing one is refused). */
  async create(algorithm: KeyAlgorithm, options: { label?: string } = {}): Promise<{ keyId: string; publicKey: CryptoKey }> {
    assertKeyAlgorithm(algorithm);
    const label = options.label ?? `attested-ca-${globalThis.crypto.randomUUID()}`;
    if (!KEY_LABEL_PATTERN.test(label)) throw new PkiError("invalidInput", "Key label: letters, digits, space and . _ : - (up to 64)", "keyLabel");
    const c = await this.connect();
    const pair = await this.serial(async () => {
      if (this.findPrivate(c.session, label).length) {
        throw new PkiError("invalidInput", `The ${this.tokenDescription} already holds a key labelled "${label}"`, "keyLabel");
      }
      // Token objects, private key sensitive and never extractable: the PKCS#11 attributes the tests read back.
      const params = { ...keyGenParams(algorithm), label, token: true, sensitive: true };
      try {
        return (await c.p11.subtle.generateKey(params as RsaHashedKeyGenParams, false, ["sign", "verify"])) as CryptoKeyPair;
      } catch (e) {
        this.lost(e);
        throw unavailable(`The ${this.tokenDescription} could not generate a ${algorithm} key`, e);
      }
    });
    const publicKey = await this.exportPublic(c, pair.publicKey, algorithm);
    return { keyId: pkcs11KeyId(label), publicKey };
  }

  /** A key made in the token beforehand (a key ceremony), by label: its id, public key and algorithm. */
  async existing(label: string): Promise<{ keyId: string; publicKey: CryptoKey; algorithm: KeyAlgorithm }> {
    if (!KEY_LABEL_PATTERN.test(label)) throw new PkiError("invalidInput", "Key label: letters, digits, space and . _ : - (up to 64)", "keyLabel");
    const c = await this.connect();
    const pub = await this.serial(async () => {
      const found = this.findPrivate(c.session, label);
      if (found.length === 0) throw new PkiError("keyNotFound", `The ${this.tokenDescription} holds no private key labelled "${label}"`, "keyLabel");
      if (found.length > 1)
        throw new PkiError("invalidInput", `The ${this.tokenDescription} holds ${found.length} private keys labelled "${label}"`, "keyLabel");
      const priv = found[0];
      if (!priv.sign) throw new PkiError("invalidInput", `The key "${label}" may not sign (CKA_SIGN false)`, "keyLabel");
      if (priv.extractable || !priv.sensitive) {
        throw new PkiError("invalidInput", `The key "${label}" can be read out of the token (CKA_EXTRACTABLE true or CKA_SENSITIVE false)`, "keyLabel");
      }
      // Its public half: the public key object with the same CKA_ID, else the same label.
      const pubs = list(c.session.find({ class: graphene.ObjectClass.PUBLIC_KEY, id: priv.id }));
      const pubObj = pubs[0] ?? list(c.session.find({ class: graphene.ObjectClass.PUBLIC_KEY, label }))[0];
      if (!pubObj) throw new PkiError("keyNotFound", `The ${this.tokenDescription} holds no public key for "${label}"`, "keyLabel");
      const alg = pubObj.toType<graphene.PublicKey>().type === graphene.KeyType.EC ? { name: "ECDSA" } : { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
      return c.p11.keyStorage.getItem(keyIndex(pubObj, "public"), alg as Algorithm, true, ["verify"]);
    });
    const algorithm = keyAlgorithmOf(pub as unknown as CryptoKey);
    if (!algorithm) throw new PkiError("unsupportedAlgorithm", `The key "${label}" is not RSA 2048/3072/4096 or EC P-256/P-384`, "keyLabel");
    const publicKey = await this.exportPublic(c, pub as unknown as CryptoKey, algorithm);
    return { keyId: pkcs11KeyId(label), publicKey, algorithm };
  }

  /** The public key as a key of this process's WebCrypto (what certificates and checks use). */
  private async exportPublic(c: Connection, key: CryptoKey, algorithm: KeyAlgorithm): Promise<CryptoKey> {
    const spki = await this.serial(() => c.p11.subtle.exportKey("spki", key as never));
    return crypto.subtle.importKey("spki", bytes(Buffer.from(spki as ArrayBuffer)), keyImportParams(algorithm), true, ["verify"]);
  }

  async privateKey(keyId: string, hash: SignatureAlgorithm = "SHA-256"): Promise<CryptoKey> {
    const cacheKey = `${keyId}/${hash}`;
    let pending = this.keys.get(cacheKey);
    if (!pending) {
      pending = this.loadPrivate(keyId, hash);
      this.keys.set(cacheKey, pending);
      pending.catch(() => this.keys.get(cacheKey) === pending && this.keys.delete(cacheKey));
    }
    return pending;
  }

  private async loadPrivate(keyId: string, hash: SignatureAlgorithm): Promise<CryptoKey> {
    const label = pkcs11KeyLabel(keyId);
    if (label === undefined) throw new PkiError("keyNotFound", `${keyId} is not a PKCS#11 key id`);
    const c = await this.connect();
    const key = await this.serial(async () => {
      let found: graphene.PrivateKey[];
      try {
        found = this.findPrivate(c.session, label);
      } catch (e) {
        this.lost(e);
        throw unavailable(`The ${this.tokenDescription} cannot be searched for the CA key "${label}"`, e);
      }
      if (found.length !== 1) {
        throw unavailable(
          found.length ? `The ${this.tokenDescription} holds several keys labelled "${label}"` : `The CA key "${label}" is not in the ${this.tokenDescription}`,
        );
      }
      const alg = found[0].type === graphene.KeyType.EC ? { name: "ECDSA" } : { name: "RSASSA-PKCS1-v1_5", hash };
      return c.p11.keyStorage.getItem(keyIndex(found[0], "private"), alg as Algorithm, false, ["sign"]);
    });
    const k = key as unknown as CryptoKey;
    registerKeyProvider(k, c.signing);
    return k;
  }

  /** Destroys a key pair this store generated (a CA whose creation failed after the key was made). */
  async destroy(keyId: string): Promise<void> {
    const label = pkcs11KeyLabel(keyId);
    if (label === undefined) return;
    const c = await this.connect();
    await this.serial(() => {
      for (const cls of [graphene.ObjectClass.PRIVATE_KEY, graphene.ObjectClass.PUBLIC_KEY]) {
        for (const o of list(c.session.find({ class: cls, token: true, label }))) o.destroy();
      }
    });
    for (const k of this.keys.keys()) if (k.startsWith(`${keyId}/`)) this.keys.delete(k);
  }

  /** Logs out and closes the session (the module stays loaded: a later call opens a new session). */
  async close(): Promise<void> {
    const c = await this.connection?.catch(() => undefined);
    this.connection = undefined;
    this.keys.clear();
    if (!c) return;
    await this.serial(() => {
      try {
        c.session.logout();
      } catch {}
      try {
        c.session.close();
      } catch {}
    });
  }
}

function list<T extends graphene.SessionObject = graphene.SessionObject>(c: graphene.SessionObjectCollection): T[] {
  const out: T[] = [];
  for (let i = 0; i < c.length; i++) out.push(c.items(i).toType<T>());
  return out;
}

/** node-webcrypto-p11's key storage index of a token object ("private-<handle>-<id>"). */
function keyIndex(obj: graphene.SessionObject, kind: "private" | "public"): string {
  const key = obj.toType<graphene.Key>();
  return `${kind}-${obj.handle.toString("hex")}-${key.id.toString("hex")}`;
}

/** The CAs' key store: keys named by a PKCS#11 URI are in the HSM (when one is configured), every other key is sealed. */
export class RoutedKeyStore implements KeyStore {
  constructor(
    readonly sealed: KeyStore,
    readonly hsm?: Pkcs11KeyStore,
  ) {}

  /** New keys of this store are sealed ones; an HSM key is made with hsm.create. */
  create(algorithm: KeyAlgorithm) {
    return this.sealed.create(algorithm);
  }

  privateKey(keyId: string, hash?: SignatureAlgorithm): Promise<CryptoKey> {
    if (!isPkcs11KeyId(keyId)) return this.sealed.privateKey(keyId, hash);
    if (!this.hsm) return Promise.reject(unavailable("This CA's key is in a hardware security module, and none is configured (PKCS11_MODULE)"));
    return this.hsm.privateKey(keyId, hash);
  }
}
