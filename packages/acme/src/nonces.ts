import { randomToken } from "./encoding";
import type { AcmeStore } from "./store";

// Replay protection (RFC 8555 §6.5): every nonce is stored when issued and deleted when used, so
// any instance sharing the store can accept it exactly once.

const NONCE_SYNTAX = /^[A-Za-z0-9_-]{16,128}$/;

export class NonceService {
  private lastPrune = 0;

  constructor(
    private readonly store: AcmeStore,
    private readonly lifetimeMs: number,
    private readonly now: () => Date,
    private readonly onPruneError: (err: unknown) => void,
    private readonly pruneEveryMs = 60_000,
  ) {}

  async issue(): Promise<string> {
    const value = randomToken(16); // 128 bits
    const at = this.now();
    await this.store.addNonce(value, at);
    this.maybePrune(at);
    return value;
  }

  /** True when the nonce was issued here, is not older than the lifetime and was not used before. */
  async consume(value: string): Promise<boolean> {
    if (!NONCE_SYNTAX.test(value)) return false;
    return this.store.consumeNonce(value, new Date(this.now().getTime() - this.lifetimeMs));
  }

  private maybePrune(at: Date) {
    if (at.getTime() - this.lastPrune < this.pruneEveryMs) return;
    this.lastPrune = at.getTime();
    this.store.pruneNonces(new Date(at.getTime() - this.lifetimeMs)).catch(this.onPruneError);
  }
}
