import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { randomToken } from "./encoding";
import type { AcmeStore } from "./store";

// Replay protection (RFC 8555 §6.5): a nonce is accepted once, by any instance sharing the store.
//
// Two modes. Without a key, every nonce is stored when issued and deleted when used (two writes per
// request). With a key shared by every instance (derived from the master key), a nonce is
// self-authenticating: issue time + 96 random bits + an HMAC-SHA-256 tag over both. Issuing then needs no
// database at all; accepting checks the tag and the age, then records the nonce as used (one INSERT, the
// unique key deciding between concurrent or replayed uses). Used nonces are pruned once older than the
// lifetime, when the age check alone refuses them.

const NONCE_SYNTAX = /^[A-Za-z0-9_-]{16,128}$/;
const SIGNED_BYTES = 6 + 12 + 16; // issued-at (ms, 48 bits) | random | tag
const FUTURE_SKEW_MS = 60_000;

export class NonceService {
  private lastPrune = 0;

  constructor(
    private readonly store: AcmeStore,
    private readonly lifetimeMs: number,
    private readonly now: () => Date,
    private readonly onPruneError: (err: unknown) => void,
    private readonly pruneEveryMs = 60_000,
    /** HMAC key shared by all instances: enables signed nonces (needs AcmeStore.useNonce). */
    private readonly key?: Buffer,
  ) {
    if (key && !store.useNonce) throw new TypeError("signed nonces need a store with useNonce()");
  }

  async issue(): Promise<string> {
    const at = this.now();
    if (this.key) {
      const body = Buffer.alloc(18);
      body.writeUIntBE(at.getTime(), 0, 6);
      randomBytes(12).copy(body, 6);
      return Buffer.concat([body, this.tag(body)]).toString("base64url");
    }
    const value = randomToken(16); // 128 bits
    await this.store.addNonce(value, at);
    this.maybePrune(at);
    return value;
  }

  /** True when the nonce was issued here, is not older than the lifetime and was not used before. */
  async consume(value: string): Promise<boolean> {
    if (!NONCE_SYNTAX.test(value)) return false;
    if (this.key) {
      const raw = Buffer.from(value, "base64url");
      if (raw.length !== SIGNED_BYTES || raw.toString("base64url") !== value) return false;
      const body = raw.subarray(0, 18);
      if (!timingSafeEqual(raw.subarray(18), this.tag(body))) return false;
      const issuedAt = body.readUIntBE(0, 6);
      const now = this.now();
      if (issuedAt < now.getTime() - this.lifetimeMs || issuedAt > now.getTime() + FUTURE_SKEW_MS) return false;
      const fresh = await this.store.useNonce!(value, new Date(issuedAt));
      this.maybePrune(now);
      return fresh;
    }
    return this.store.consumeNonce(value, new Date(this.now().getTime() - this.lifetimeMs));
  }

  private tag(body: Buffer): Buffer {
    return createHmac("sha256", this.key!).update("acme-nonce\0").update(body).digest().subarray(0, 16);
  }

  private maybePrune(at: Date) {
    if (at.getTime() - this.lastPrune < this.pruneEveryMs) return;
    this.lastPrune = at.getTime();
    this.store.pruneNonces(new Date(at.getTime() - this.lifetimeMs)).catch(this.onPruneError);
  }
}
