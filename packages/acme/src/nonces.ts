import { createHmac, randomBytes, randomFillSync, timingSafeEqual } from "node:crypto";
import type { AcmeStore, UsedNonce } from "./store";

// Replay protection (RFC 8555 §6.5): a nonce is accepted once, by any instance sharing the store.
//
// Nonces are self-authenticating: issue time + 96 random bits + an HMAC-SHA-256 tag over both, with a key
// shared by every instance (derived from the master key). Issuing needs no database at all; accepting
// checks the tag and the age, then records the nonce as used (one INSERT, the unique key deciding between
// concurrent or replayed uses; for kid-signed requests in the same statement that reads the account).
// Used nonces are pruned once older than the lifetime, when the age check alone refuses them.

const NONCE_SYNTAX = /^[A-Za-z0-9_-]{16,128}$/;
const SIGNED_BYTES = 6 + 12 + 16; // issued-at (ms, 48 bits) | random | tag
const FUTURE_SKEW_MS = 60_000;

// Random bytes drawn from a pool refilled 4 KiB at a time: one system call per ~340 nonces, not one each.
const pool = Buffer.alloc(4096);
let poolUsed = pool.length;
function nextRandom(n: number): Buffer {
  if (poolUsed + n > pool.length) {
    randomFillSync(pool);
    poolUsed = 0;
  }
  return pool.subarray(poolUsed, (poolUsed += n));
}

export class NonceService {
  private lastPrune = 0;

  constructor(
    private readonly store: AcmeStore,
    private readonly lifetimeMs: number,
    private readonly now: () => Date,
    private readonly onPruneError: (err: unknown) => void,
    private readonly pruneEveryMs = 60_000,
    /** HMAC key shared by all instances. */
    private readonly key: Buffer = randomBytes(32),
  ) {}

  issue(): string {
    const body = Buffer.alloc(18);
    body.writeUIntBE(this.now().getTime(), 0, 6);
    nextRandom(12).copy(body, 6);
    return Buffer.concat([body, this.tag(body)]).toString("base64url");
  }

  /** The nonce if it was issued with this key and is within its lifetime (no database); else null. */
  check(value: string | undefined): UsedNonce | null {
    if (!value || !NONCE_SYNTAX.test(value)) return null;
    const raw = Buffer.from(value, "base64url");
    if (raw.length !== SIGNED_BYTES || raw.toString("base64url") !== value) return null;
    const body = raw.subarray(0, 18);
    if (!timingSafeEqual(raw.subarray(18), this.tag(body))) return null;
    const issuedAt = body.readUIntBE(0, 6);
    const now = this.now();
    this.maybePrune(now);
    if (issuedAt < now.getTime() - this.lifetimeMs || issuedAt > now.getTime() + FUTURE_SKEW_MS) return null;
    return { value, issuedAt: new Date(issuedAt) };
  }

  /** True when the nonce passes check() and was not used before (recording its use). */
  async consume(value: string): Promise<boolean> {
    const nonce = this.check(value);
    return nonce ? this.store.useNonce(nonce.value, nonce.issuedAt) : false;
  }

  private tag(body: Buffer): Buffer {
    return createHmac("sha256", this.key).update("acme-nonce\0").update(body).digest().subarray(0, 16);
  }

  private maybePrune(at: Date) {
    if (at.getTime() - this.lastPrune < this.pruneEveryMs) return;
    this.lastPrune = at.getTime();
    this.store.pruneNonces(new Date(at.getTime() - this.lifetimeMs)).catch(this.onPruneError);
  }
}
