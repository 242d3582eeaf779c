import type { ProblemDocument } from "./problems";
import type {
  AccountRecord,
  AcmeEvent,
  AccountStatus,
  AuthorizationRecord,
  AuthorizationStatus,
  AuthorizationWithChallenges,
  ChallengeRecord,
  ChallengeStatus,
  Identifier,
  OrderRecord,
  OrderStatus,
  PublicJwk,
} from "./types";

export interface NewAccount {
  id: string;
  platformId: string;
  jwkThumbprint: string;
  jwk: PublicJwk;
  contact: string[];
}

export interface NewOrder {
  id: string;
  accountId: string;
  identifiers: Identifier[];
  notBefore: Date | null;
  notAfter: Date | null;
  expires: Date;
}

export interface NewAuthorization {
  id: string;
  identifierType: Identifier["type"];
  identifierValue: string;
  wildcard: boolean;
  expires: Date;
  challenges: { id: string; type: ChallengeRecord["type"]; token: string }[];
}

/** An identifier as an authorization names it (a wildcard's base domain, with its flag). */
export type AuthorizedIdentifier = Pick<AuthorizationRecord, "identifierType" | "identifierValue" | "wildcard">;

export type OrderPatch = Partial<{ status: OrderStatus; error: ProblemDocument | null; certificateId: string | null }>;
export type AuthorizationPatch = Partial<{
  status: AuthorizationStatus;
  attestedKeySpki: Buffer | null;
  attestation: Record<string, unknown> | null;
}>;
export type ChallengePatch = Partial<{ status: ChallengeStatus; validated: Date | null; error: ProblemDocument | null }>;

export interface CreatedAccount {
  account: AccountRecord;
  created: boolean;
}

/** A signed nonce that passed its tag and age checks, to be recorded as used. */
export interface UsedNonce {
  value: string;
  issuedAt: Date;
}

/** The resource a request's URL names, read together with its account (see getAccountUsingNonce). */
export interface TargetRef {
  type: Target["type"];
  id: string;
}

/** A resource with the records its handler needs to answer (its parents, or its parts). */
export type Target =
  | { type: "order"; order: OrderRecord; authorizations: AuthorizationWithChallenges[] }
  | { type: "authorization"; authz: AuthorizationWithChallenges; order: OrderRecord }
  | { type: "challenge"; challenge: ChallengeRecord; authz: AuthorizationWithChallenges; order: OrderRecord };

export interface AccountWithNonce {
  account: AccountRecord | null;
  /** True only if the nonce was recorded as used by this call (its first use). */
  nonceFresh: boolean;
  /** The resource asked for: null when it does not exist; undefined when not asked or no nonce was given. */
  target?: Target | null;
}

/**
 * The end of a challenge's validation: the challenge (`from` → valid | invalid), its authorization
 * (pending → valid | invalid) and, when that settles the order, the order (pending → ready when every
 * authorization is now valid; → invalid with `orderError` when this one failed), all or nothing.
 */
export interface ChallengeCompletion {
  challengeId: string;
  /** The status the challenge must still have: "processing" once claimed, "pending" when answered unclaimed. */
  from: "pending" | "processing";
  authorizationId: string;
  orderId: string;
  now: Date;
  outcome:
    | { status: "valid"; attestedKeySpki?: Buffer; attestation?: Record<string, unknown> }
    | { status: "invalid"; error: ProblemDocument; orderError: ProblemDocument };
}

export type KeyChangeResult =
  | { ok: true; account: AccountRecord }
  | { ok: false; reason: "conflict"; conflictingAccountId: string }
  | { ok: false; reason: "stale" };

/**
 * Persistence for the ACME server. Every `update*` is a compare-and-set: it applies the patch only
 * while the record's status is one of `from`, and returns null otherwise. That is what makes
 * ready→processing (finalize) and pending→processing (challenge) safe across concurrent requests
 * and server instances.
 */
export interface AcmeStore {
  /**
   * True when the store records the events passed to the changes that take one (createAccount,
   * updateAccount, changeAccountKey, createOrder, completeChallenge) itself, in the same statement as
   * the change: both are written or neither (the server then does not emit them).
   */
  readonly recordsEvents: boolean;

  // Used nonces (RFC 8555 §6.5, see NonceService): single use, shared by all instances.
  /**
   * Records `value` as used; true only for its first use. Stored with its issue time, so that
   * pruneNonces drops it once the age check refuses it anyway.
   */
  useNonce(value: string, issuedAt: Date): Promise<boolean>;
  /** Takes back a use recorded by getAccountUsingNonce for a request that then failed authentication. */
  releaseNonce(value: string): Promise<void>;
  pruneNonces(issuedBefore: Date): Promise<number>;
  /**
   * The account of a kid-signed request, the use of its nonce and the resource its URL names, together
   * (one round trip). Without a nonce only the account is read.
   */
  getAccountUsingNonce(id: string, nonce: UsedNonce | null, target?: TargetRef): Promise<AccountWithNonce>;

  /**
   * Creates the account, or returns the existing one with the same key on the same platform. With a
   * nonce, records its use in the same statement (see useNonce): null when it was used already, and
   * then nothing is created.
   */
  createAccount(a: NewAccount, event?: AcmeEvent): Promise<CreatedAccount>;
  createAccount(a: NewAccount, event: AcmeEvent | undefined, nonce: UsedNonce): Promise<CreatedAccount | null>;
  getAccount(id: string): Promise<AccountRecord | null>;
  findAccountByThumbprint(platformId: string, jwkThumbprint: string): Promise<AccountRecord | null>;
  updateAccount(
    id: string,
    from: AccountStatus[],
    patch: Partial<{ contact: string[]; status: AccountStatus }>,
    event?: AcmeEvent,
  ): Promise<AccountRecord | null>;
  /** RFC 8555 §7.3.5: swaps the key if the account still has `oldThumbprint` and no other account has the new one. */
  changeAccountKey(id: string, oldThumbprint: string, jwk: PublicJwk, jwkThumbprint: string, event?: AcmeEvent): Promise<KeyChangeResult>;

  /** Creates the order with its authorizations and challenges, all or nothing. */
  createOrder(order: NewOrder, authorizations: NewAuthorization[], event?: AcmeEvent): Promise<OrderRecord>;
  getOrder(id: string): Promise<OrderRecord | null>;
  getOrderWithAuthorizations(id: string): Promise<{ order: OrderRecord; authorizations: AuthorizationWithChallenges[] } | null>;
  /** Newest first. */
  listOrderIds(accountId: string, limit: number): Promise<string[]>;
  updateOrder(id: string, from: OrderStatus[], patch: OrderPatch): Promise<OrderRecord | null>;

  getAuthorization(id: string): Promise<AuthorizationWithChallenges | null>;
  getAuthorizationWithOrder(id: string): Promise<{ authz: AuthorizationWithChallenges; order: OrderRecord } | null>;
  listAuthorizations(orderId: string): Promise<AuthorizationWithChallenges[]>;
  updateAuthorization(id: string, from: AuthorizationStatus[], patch: AuthorizationPatch): Promise<AuthorizationRecord | null>;
  /** True when the account holds a valid, unexpired authorization for every one of `identifiers` (RFC 8555 §7.6). */
  holdsAuthorizations(accountId: string, identifiers: AuthorizedIdentifier[], now: Date): Promise<boolean>;

  getChallenge(id: string): Promise<ChallengeRecord | null>;
  /** See ChallengeCompletion; the challenge as it is now, or null if it no longer had the `from` status. */
  completeChallenge(c: ChallengeCompletion, event?: AcmeEvent): Promise<ChallengeRecord | null>;
  getChallengeWithAuthorization(id: string): Promise<{ challenge: ChallengeRecord; authz: AuthorizationWithChallenges; order: OrderRecord } | null>;
  updateChallenge(id: string, from: ChallengeStatus[], patch: ChallengePatch): Promise<ChallengeRecord | null>;
}
