import type {
  AccountWithNonce,
  AcmeStore,
  ChallengeCompletion,
  CreatedAccount,
  AuthorizationPatch,
  AuthorizedIdentifier,
  ChallengePatch,
  KeyChangeResult,
  NewAccount,
  NewAuthorization,
  NewOrder,
  OrderPatch,
  Target,
  TargetRef,
  UsedNonce,
} from "./store";
import type {
  AccountRecord,
  AccountStatus,
  AcmeEvent,
  AuthorizationRecord,
  AuthorizationStatus,
  AuthorizationWithChallenges,
  ChallengeRecord,
  ChallengeStatus,
  OrderRecord,
  OrderStatus,
  PublicJwk,
} from "./types";

// In-process store for unit tests and single-instance demos. Each method runs without awaiting in
// between reads and writes, so compare-and-set updates are atomic on the event loop.

const json = <T>(v: T): T => (v === null || v === undefined ? v : JSON.parse(JSON.stringify(v)));

const cloneAccount = (a: AccountRecord): AccountRecord => ({
  ...a,
  jwk: { ...a.jwk },
  contact: [...a.contact],
  createdAt: new Date(a.createdAt),
});
const cloneOrder = (o: OrderRecord): OrderRecord => ({
  ...o,
  identifiers: o.identifiers.map((i) => ({ ...i })),
  notBefore: o.notBefore && new Date(o.notBefore),
  notAfter: o.notAfter && new Date(o.notAfter),
  expires: new Date(o.expires),
  error: json(o.error),
  createdAt: new Date(o.createdAt),
  updatedAt: new Date(o.updatedAt),
});
const cloneAuthz = (a: AuthorizationRecord): AuthorizationRecord => ({
  ...a,
  expires: new Date(a.expires),
  attestedKeySpki: a.attestedKeySpki && Buffer.from(a.attestedKeySpki),
  attestation: json(a.attestation),
});
const cloneChallenge = (c: ChallengeRecord): ChallengeRecord => ({
  ...c,
  validated: c.validated && new Date(c.validated),
  error: json(c.error),
});

export class MemoryStore implements AcmeStore {
  readonly recordsEvents = false;
  private nonces = new Map<string, Date>();
  private accounts = new Map<string, AccountRecord>();
  private orders = new Map<string, OrderRecord>();
  private authzs = new Map<string, AuthorizationRecord>();
  private challenges = new Map<string, ChallengeRecord>();

  async useNonce(value: string, issuedAt: Date): Promise<boolean> {
    if (this.nonces.has(value)) return false;
    this.nonces.set(value, new Date(issuedAt));
    return true;
  }

  async releaseNonce(value: string): Promise<void> {
    this.nonces.delete(value);
  }

  async getAccountUsingNonce(id: string, nonce: UsedNonce | null, target?: TargetRef): Promise<AccountWithNonce> {
    if (!nonce) return { account: await this.getAccount(id), nonceFresh: false };
    const nonceFresh = await this.useNonce(nonce.value, nonce.issuedAt);
    return { account: await this.getAccount(id), nonceFresh, ...(target ? { target: await this.getTarget(target) } : {}) };
  }

  private async getTarget({ type, id }: TargetRef): Promise<Target | null> {
    if (type === "order") {
      const found = await this.getOrderWithAuthorizations(id);
      return found && { type, ...found };
    }
    if (type === "authorization") {
      const found = await this.getAuthorizationWithOrder(id);
      return found && { type, ...found };
    }
    const found = await this.getChallengeWithAuthorization(id);
    return found && { type, ...found };
  }

  async pruneNonces(issuedBefore: Date): Promise<number> {
    let n = 0;
    for (const [v, at] of this.nonces) if (at < issuedBefore && this.nonces.delete(v)) n++;
    return n;
  }

  /** Number of live nonces (tests). */
  get nonceCount(): number {
    return this.nonces.size;
  }

  async createAccount(a: NewAccount, _event?: AcmeEvent): Promise<CreatedAccount>;
  async createAccount(a: NewAccount, event: AcmeEvent | undefined, nonce: UsedNonce): Promise<CreatedAccount | null>;
  async createAccount(a: NewAccount, _event?: AcmeEvent, nonce?: UsedNonce): Promise<CreatedAccount | null> {
    if (nonce && !(await this.useNonce(nonce.value, nonce.issuedAt))) return null;
    const existing = this.byThumbprint(a.platformId, a.jwkThumbprint);
    if (existing) return { account: cloneAccount(existing), created: false };
    const rec: AccountRecord = { ...a, jwk: { ...a.jwk }, contact: [...a.contact], status: "valid", createdAt: new Date() };
    this.accounts.set(rec.id, rec);
    return { account: cloneAccount(rec), created: true };
  }

  async getAccount(id: string): Promise<AccountRecord | null> {
    const a = this.accounts.get(id);
    return a ? cloneAccount(a) : null;
  }

  async findAccountByThumbprint(platformId: string, jwkThumbprint: string): Promise<AccountRecord | null> {
    const a = this.byThumbprint(platformId, jwkThumbprint);
    return a ? cloneAccount(a) : null;
  }

  private byThumbprint(platformId: string, t: string): AccountRecord | undefined {
    for (const a of this.accounts.values()) if (a.platformId === platformId && a.jwkThumbprint === t) return a;
    return undefined;
  }

  async updateAccount(id: string, from: AccountStatus[], patch: Partial<{ contact: string[]; status: AccountStatus }>): Promise<AccountRecord | null> {
    const a = this.accounts.get(id);
    if (!a || !from.includes(a.status)) return null;
    if (patch.contact) a.contact = [...patch.contact];
    if (patch.status) a.status = patch.status;
    return cloneAccount(a);
  }

  async changeAccountKey(id: string, oldThumbprint: string, jwk: PublicJwk, jwkThumbprint: string): Promise<KeyChangeResult> {
    const a = this.accounts.get(id);
    if (!a || a.jwkThumbprint !== oldThumbprint || a.status !== "valid") return { ok: false, reason: "stale" };
    const other = this.byThumbprint(a.platformId, jwkThumbprint);
    if (other && other.id !== id) return { ok: false, reason: "conflict", conflictingAccountId: other.id };
    a.jwk = { ...jwk };
    a.jwkThumbprint = jwkThumbprint;
    return { ok: true, account: cloneAccount(a) };
  }

  async createOrder(order: NewOrder, authorizations: NewAuthorization[]): Promise<OrderRecord> {
    const now = new Date();
    const rec: OrderRecord = {
      ...order,
      identifiers: order.identifiers.map((i) => ({ ...i })),
      status: "pending",
      error: null,
      certificateId: null,
      createdAt: now,
      updatedAt: now,
    };
    this.orders.set(rec.id, rec);
    for (const az of authorizations) {
      this.authzs.set(az.id, {
        id: az.id,
        orderId: rec.id,
        identifierType: az.identifierType,
        identifierValue: az.identifierValue,
        wildcard: az.wildcard,
        expires: new Date(az.expires),
        status: "pending",
        attestedKeySpki: null,
        attestation: null,
      });
      for (const c of az.challenges) {
        this.challenges.set(c.id, { ...c, authorizationId: az.id, status: "pending", validated: null, error: null });
      }
    }
    return cloneOrder(rec);
  }

  async getOrder(id: string): Promise<OrderRecord | null> {
    const o = this.orders.get(id);
    return o ? cloneOrder(o) : null;
  }

  async getOrderWithAuthorizations(id: string): Promise<{ order: OrderRecord; authorizations: AuthorizationWithChallenges[] } | null> {
    const order = await this.getOrder(id);
    return order ? { order, authorizations: await this.listAuthorizations(id) } : null;
  }

  async listOrderIds(accountId: string, limit: number): Promise<string[]> {
    return [...this.orders.values()]
      .filter((o) => o.accountId === accountId)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
      .slice(0, limit)
      .map((o) => o.id);
  }

  async updateOrder(id: string, from: OrderStatus[], patch: OrderPatch): Promise<OrderRecord | null> {
    const o = this.orders.get(id);
    if (!o || !from.includes(o.status)) return null;
    if (patch.status !== undefined) o.status = patch.status;
    if (patch.error !== undefined) o.error = json(patch.error);
    if (patch.certificateId !== undefined) o.certificateId = patch.certificateId;
    o.updatedAt = new Date();
    return cloneOrder(o);
  }

  private withChallenges(a: AuthorizationRecord): AuthorizationWithChallenges {
    const challenges = [...this.challenges.values()].filter((c) => c.authorizationId === a.id).map(cloneChallenge);
    return { ...cloneAuthz(a), challenges };
  }

  async getAuthorization(id: string): Promise<AuthorizationWithChallenges | null> {
    const a = this.authzs.get(id);
    return a ? this.withChallenges(a) : null;
  }

  async getAuthorizationWithOrder(id: string): Promise<{ authz: AuthorizationWithChallenges; order: OrderRecord } | null> {
    const a = this.authzs.get(id);
    const o = a && this.orders.get(a.orderId);
    return a && o ? { authz: this.withChallenges(a), order: cloneOrder(o) } : null;
  }

  async listAuthorizations(orderId: string): Promise<AuthorizationWithChallenges[]> {
    return [...this.authzs.values()].filter((a) => a.orderId === orderId).map((a) => this.withChallenges(a));
  }

  async holdsAuthorizations(accountId: string, identifiers: AuthorizedIdentifier[], now: Date): Promise<boolean> {
    const held = [...this.authzs.values()].filter((a) => a.status === "valid" && a.expires > now && this.orders.get(a.orderId)?.accountId === accountId);
    return (
      identifiers.length > 0 &&
      identifiers.every((i) => held.some((a) => a.identifierType === i.identifierType && a.identifierValue === i.identifierValue && a.wildcard === i.wildcard))
    );
  }

  async updateAuthorization(id: string, from: AuthorizationStatus[], patch: AuthorizationPatch): Promise<AuthorizationRecord | null> {
    const a = this.authzs.get(id);
    if (!a || !from.includes(a.status)) return null;
    if (patch.status !== undefined) a.status = patch.status;
    if (patch.attestedKeySpki !== undefined) a.attestedKeySpki = patch.attestedKeySpki && Buffer.from(patch.attestedKeySpki);
    if (patch.attestation !== undefined) a.attestation = json(patch.attestation);
    return cloneAuthz(a);
  }

  async getChallenge(id: string): Promise<ChallengeRecord | null> {
    const c = this.challenges.get(id);
    return c ? cloneChallenge(c) : null;
  }

  async completeChallenge({ challengeId, from, authorizationId, orderId, now, outcome }: ChallengeCompletion): Promise<ChallengeRecord | null> {
    const valid = outcome.status === "valid";
    const c = await this.updateChallenge(
      challengeId,
      [from],
      valid ? { status: "valid", validated: now, error: null } : { status: "invalid", error: outcome.error },
    );
    if (!c) return null;
    const a = await this.updateAuthorization(
      authorizationId,
      ["pending"],
      valid
        ? { status: "valid", ...(outcome.attestedKeySpki ? { attestedKeySpki: outcome.attestedKeySpki, attestation: outcome.attestation ?? null } : {}) }
        : { status: "invalid" },
    );
    const o = this.orders.get(orderId);
    if (a && o && o.status === "pending" && o.expires > now) {
      const others = [...this.authzs.values()].filter((x) => x.orderId === orderId && x.id !== authorizationId);
      if (!valid) await this.updateOrder(orderId, ["pending"], { status: "invalid", error: outcome.orderError });
      else if (others.every((x) => x.status === "valid" && x.expires > now)) await this.updateOrder(orderId, ["pending"], { status: "ready", error: null });
    }
    return c;
  }

  async getChallengeWithAuthorization(id: string): Promise<{ challenge: ChallengeRecord; authz: AuthorizationWithChallenges; order: OrderRecord } | null> {
    const c = this.challenges.get(id);
    const found = c && (await this.getAuthorizationWithOrder(c.authorizationId));
    return c && found ? { challenge: cloneChallenge(c), ...found } : null;
  }

  async updateChallenge(id: string, from: ChallengeStatus[], patch: ChallengePatch): Promise<ChallengeRecord | null> {
    const c = this.challenges.get(id);
    if (!c || !from.includes(c.status)) return null;
    if (patch.status !== undefined) c.status = patch.status;
    if (patch.validated !== undefined) c.validated = patch.validated && new Date(patch.validated);
    if (patch.error !== undefined) c.error = json(patch.error);
    return cloneChallenge(c);
  }
}
