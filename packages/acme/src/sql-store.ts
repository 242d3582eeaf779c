import type { ProblemDocument } from "./problems";
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
  ChallengeType,
  Identifier,
  IdentifierType,
  OrderRecord,
  OrderStatus,
  PublicJwk,
} from "./types";

// PostgreSQL (or PGlite) persistence in plain SQL: one statement per call, prepared once per connection.
// Every ACME request runs a few of these, and an ORM's per-query CPU was most of their cost.
//
// Compare-and-set updates are single `UPDATE ... WHERE id = $1 AND status = ANY($2) RETURNING *`
// statements: under READ COMMITTED a concurrent writer of the same row waits, re-checks the WHERE clause
// and updates nothing. What must be atomic (an order with its authorizations and challenges) is one
// statement with CTEs.

type Row = Record<string, unknown>;

/**
 * The one thing this store needs from a database: parameterized statements. Defined here so that the
 * ACME core does not depend on @attested/db, whose `Sql` (PostgreSQL or PGlite) satisfies it as is.
 */
export interface Sql {
  /**
   * The rows of one parameterized statement ($1, $2, ...). Parameters of json/jsonb columns are JSON
   * text; Date parameters are UTC timestamps. `name` says the text is constant, so it may be prepared once per
   * connection.
   */
  query<T = Record<string, unknown>>(text: string, params?: unknown[], name?: string): Promise<T[]>;
}

const toAccount = (r: Row): AccountRecord => ({
  id: r.id as string,
  platformId: r.platformId as string,
  jwkThumbprint: r.jwkThumbprint as string,
  jwk: r.jwk as PublicJwk,
  status: r.status as AccountStatus,
  contact: r.contact as string[],
  createdAt: r.createdAt as Date,
});

const toOrder = (r: Row): OrderRecord => ({
  id: r.id as string,
  accountId: r.accountId as string,
  status: r.status as OrderStatus,
  identifiers: r.identifiers as Identifier[],
  notBefore: (r.notBefore as Date | null) ?? null,
  notAfter: (r.notAfter as Date | null) ?? null,
  expires: r.expires as Date,
  error: (r.error as ProblemDocument | null) ?? null,
  certificateId: (r.certificateId as string | null) ?? null,
  createdAt: r.createdAt as Date,
  updatedAt: r.updatedAt as Date,
});

const toAuthz = (r: Row): AuthorizationRecord => ({
  id: r.id as string,
  orderId: r.orderId as string,
  identifierType: r.identifierType as IdentifierType,
  identifierValue: r.identifierValue as string,
  status: r.status as AuthorizationStatus,
  expires: r.expires as Date,
  wildcard: r.wildcard as boolean,
  attestedKeySpki: r.attestedKeySpki == null ? null : Buffer.from(r.attestedKeySpki as string, "base64"),
  attestation: (r.attestation as Record<string, unknown> | null) ?? null,
});

// Inside json_build_object timestamps become text without a zone (they hold UTC).
const utc = (s: string | null) => (s === null ? null : new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s}Z`));

const toChallenge = (r: Row, fromJson = false): ChallengeRecord => ({
  id: r.id as string,
  authorizationId: r.authorizationId as string,
  type: r.type as ChallengeType,
  token: r.token as string,
  status: r.status as ChallengeStatus,
  validated: fromJson ? utc(r.validated as string | null) : ((r.validated as Date | null) ?? null),
  error: (r.error as ProblemDocument | null) ?? null,
});

const withChallenges = (r: Row): AuthorizationWithChallenges => ({
  ...toAuthz(r),
  challenges: ((r.challenges as Row[] | null) ?? []).map((c) => toChallenge(c, true)),
});

// Prefixed columns of a joined row, back to a plain row.
const unprefix = (r: Row, prefix: string): Row => {
  const out: Row = {};
  for (const k in r) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = r[k];
  return out;
};

const ORDER_COLS = `o."id" AS "o_id", o."accountId" AS "o_accountId", o."status" AS "o_status", o."identifiers" AS "o_identifiers",
  o."notBefore" AS "o_notBefore", o."notAfter" AS "o_notAfter", o."expires" AS "o_expires", o."error" AS "o_error",
  o."certificateId" AS "o_certificateId", o."createdAt" AS "o_createdAt", o."updatedAt" AS "o_updatedAt"`;

const CHALLENGES_OF_A = `COALESCE((SELECT json_agg(json_build_object('id', c."id", 'authorizationId', c."authorizationId", 'type', c."type",
    'token', c."token", 'status', c."status", 'validated', c."validated", 'error', c."error") ORDER BY c."id")
  FROM "AcmeChallenge" c WHERE c."authorizationId" = a."id"), '[]'::json) AS "challenges"`;

const AUTHZ_COLS = `a."id", a."orderId", a."identifierType", a."identifierValue", a."status", a."expires", a."wildcard",
  a."attestedKeySpki", a."attestation", ${CHALLENGES_OF_A}`;

const CHALLENGE_COLS = `h."id" AS "h_id", h."authorizationId" AS "h_authorizationId", h."type" AS "h_type", h."token" AS "h_token",
  h."status" AS "h_status", h."validated" AS "h_validated", h."error" AS "h_error"`;

const AUTHZS_OF_O = `COALESCE((SELECT json_agg(row_to_json(x) ORDER BY x."id") FROM (SELECT ${AUTHZ_COLS} FROM "AcmeAuthorization" a
  WHERE a."orderId" = o."id") x), '[]'::json) AS "authorizations"`;

const ACCOUNT_COLS = `k."id" AS "k_id", k."platformId" AS "k_platformId", k."jwkThumbprint" AS "k_jwkThumbprint", k."jwk" AS "k_jwk",
  k."status" AS "k_status", k."contact" AS "k_contact", k."createdAt" AS "k_createdAt"`;

/** Each kind of target: its columns and joins (its id is `$id`), and how its row reads back. */
const TARGETS: { [T in Target["type"]]: { cols: string; from: (id: string) => string; read: (r: Row) => Extract<Target, { type: T }> } } = {
  order: {
    cols: `${ORDER_COLS}, ${AUTHZS_OF_O}`,
    from: (id) => `"AcmeOrder" o WHERE o."id" = ${id}`,
    read: (r) => ({
      type: "order",
      order: toOrder(unprefix(r, "o_")),
      authorizations: (r.authorizations as Row[]).map((a) => withChallenges({ ...a, expires: utc(a.expires as string) })),
    }),
  },
  authorization: {
    cols: `${AUTHZ_COLS}, ${ORDER_COLS}`,
    from: (id) => `"AcmeAuthorization" a JOIN "AcmeOrder" o ON o."id" = a."orderId" WHERE a."id" = ${id}`,
    read: (r) => ({ type: "authorization", authz: withChallenges(r), order: toOrder(unprefix(r, "o_")) }),
  },
  challenge: {
    cols: `${AUTHZ_COLS}, ${ORDER_COLS}, ${CHALLENGE_COLS}`,
    from: (id) =>
      `"AcmeChallenge" h JOIN "AcmeAuthorization" a ON a."id" = h."authorizationId" JOIN "AcmeOrder" o ON o."id" = a."orderId" WHERE h."id" = ${id}`,
    read: (r) => ({ type: "challenge", challenge: toChallenge(unprefix(r, "h_")), authz: withChallenges(r), order: toOrder(unprefix(r, "o_")) }),
  },
};

const isUniqueViolation = (e: unknown) => (e as { code?: string } | null)?.code === "23505";

// Problem details can quote what a device sent; jsonb refuses NUL and lone surrogates, which become
// U+FFFD (the rule of @attested/db's storableText). JSON.stringify writes both as \u escapes, so text
// without one needs no second, slower pass.
const UNSTORABLE = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const storableText = (s: string): string => s.replace(UNSTORABLE, "\ufffd");
const UNSTORABLE_ESCAPE = /\\u(?:0000|d[89a-f])/i;
const json = (v: unknown) => {
  if (v === null || v === undefined) return null;
  const text = JSON.stringify(v);
  return UNSTORABLE_ESCAPE.test(text) ? JSON.stringify(v, (_, x) => (typeof x === "string" ? storableText(x) : x)) : text;
};

/**
 * How the store records an ACME event with the change it describes: an INSERT whose parameters start
 * at `$first`, written as `INSERT ... SELECT $first, ...` so that a WHERE clause can be appended; null
 * when the event is not recorded.
 */
export type EventStatement = (e: AcmeEvent, first: number) => { text: string; values: unknown[] } | null;

export class SqlAcmeStore implements AcmeStore {
  readonly recordsEvents: boolean;

  constructor(
    private readonly sql: Sql,
    private readonly eventStatement?: EventStatement,
  ) {
    this.recordsEvents = !!eventStatement;
  }

  /** The event as a CTE recorded only if `when` (a CTE name) has a row; "" when not recorded. */
  private eventCte(event: AcmeEvent | undefined, first: number, when: string): { cte: string; values: unknown[] } {
    const stmt = event && this.eventStatement?.(event, first);
    return stmt ? { cte: `, ev AS (${stmt.text} WHERE EXISTS (SELECT 1 FROM ${when}))`, values: stmt.values } : { cte: "", values: [] };
  }

  private async one(text: string, params: unknown[], name?: string): Promise<Row | null> {
    const rows = await this.sql.query<Row>(text, params, name);
    return rows[0] ?? null;
  }

  // ------------------------------------------------------------------ nonces

  async useNonce(value: string, issuedAt: Date): Promise<boolean> {
    // INSERT ... ON CONFLICT DO NOTHING: of two uses of the same nonce only one inserts the row.
    const rows = await this.sql.query(
      `INSERT INTO "AcmeNonce" ("value", "createdAt") VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1 AS "used"`,
      [value, issuedAt],
      "acme_use_nonce",
    );
    return rows.length === 1;
  }

  async releaseNonce(value: string): Promise<void> {
    await this.sql.query(`DELETE FROM "AcmeNonce" WHERE "value" = $1`, [value]);
  }

  async pruneNonces(issuedBefore: Date): Promise<number> {
    // Counted in the database: the rows themselves need not travel back.
    const [r] = await this.sql.query<{ n: number }>(`WITH d AS (DELETE FROM "AcmeNonce" WHERE "createdAt" < $1 RETURNING 1) SELECT count(*)::int AS n FROM d`, [
      issuedBefore,
    ]);
    return r?.n ?? 0;
  }

  async getAccountUsingNonce(id: string, nonce: UsedNonce | null, target?: TargetRef): Promise<AccountWithNonce> {
    if (!nonce) return { account: await this.getAccount(id), nonceFresh: false };
    // One round trip for what every kid-signed request needs before its handler: the nonce's use, the
    // account, and the resource the URL names (a lateral join, so a missing one still gives the row).
    const t = target && TARGETS[target.type];
    const r = await this.one(
      `WITH used AS (INSERT INTO "AcmeNonce" ("value", "createdAt") VALUES ($2, $3) ON CONFLICT DO NOTHING RETURNING 1)
       SELECT (SELECT count(*) FROM used)::int AS "nonceFresh", ${ACCOUNT_COLS}${t ? `, t.*` : ""}
       FROM (SELECT 1) one LEFT JOIN "AcmeAccount" k ON k."id" = $1${t ? ` LEFT JOIN LATERAL (SELECT ${t.cols} FROM ${t.from("$4")}) t ON true` : ""}`,
      target ? [id, nonce.value, nonce.issuedAt, target.id] : [id, nonce.value, nonce.issuedAt],
      `acme_account_nonce${target ? `_${target.type}` : ""}`,
    );
    const account = r?.k_id ? toAccount(unprefix(r, "k_")) : null;
    const nonceFresh = r?.nonceFresh === 1;
    if (!t) return { account, nonceFresh };
    const found = r && (target.type === "challenge" ? r.h_id : r.o_id) ? t.read(r) : null;
    return { account, nonceFresh, target: found };
  }

  // ------------------------------------------------------------------ accounts

  async createAccount(a: NewAccount, event?: AcmeEvent): Promise<CreatedAccount>;
  async createAccount(a: NewAccount, event: AcmeEvent | undefined, nonce: UsedNonce): Promise<CreatedAccount | null>;
  async createAccount(a: NewAccount, event?: AcmeEvent, nonce?: UsedNonce): Promise<CreatedAccount | null> {
    // The unique (platformId, jwkThumbprint) index decides between concurrent registrations of one key.
    // With a nonce, the account is inserted only if this statement is the nonce's first use.
    const values = [a.id, a.platformId, a.jwkThumbprint, json(a.jwk), a.contact, new Date()];
    const used = nonce
      ? { cte: `used AS (INSERT INTO "AcmeNonce" ("value", "createdAt") VALUES ($7, $8) ON CONFLICT DO NOTHING RETURNING 1), `, from: " FROM used" }
      : { cte: "", from: "" };
    if (nonce) values.push(nonce.value, nonce.issuedAt);
    const ev = this.eventCte(event, values.length + 1, "acct");
    const row = await this.one(
      `WITH ${used.cte}acct AS (INSERT INTO "AcmeAccount" ("id", "platformId", "jwkThumbprint", "jwk", "status", "contact", "createdAt")
         SELECT $1, $2, $3, $4::jsonb, 'valid', $5::text[], $6::timestamp(3)${used.from}
         ON CONFLICT ("platformId", "jwkThumbprint") DO NOTHING RETURNING *)${ev.cte}
       SELECT ${nonce ? `(SELECT count(*) FROM used)::int AS "nonceFresh", ` : ""}acct.* FROM (SELECT 1) one LEFT JOIN acct ON true`,
      [...values, ...ev.values],
      `acme_create_account${nonce ? "_nonce" : ""}${ev.cte ? "_ev" : ""}`,
    );
    if (nonce && row?.nonceFresh !== 1) return null;
    if (row?.id) return { account: toAccount(row), created: true };
    const existing = await this.findAccountByThumbprint(a.platformId, a.jwkThumbprint);
    if (!existing) throw new Error("account vanished after a conflicting insert");
    return { account: existing, created: false };
  }

  async getAccount(id: string): Promise<AccountRecord | null> {
    const r = await this.one(`SELECT * FROM "AcmeAccount" WHERE "id" = $1`, [id], "acme_get_account");
    return r ? toAccount(r) : null;
  }

  async findAccountByThumbprint(platformId: string, jwkThumbprint: string): Promise<AccountRecord | null> {
    const r = await this.one(
      `SELECT * FROM "AcmeAccount" WHERE "platformId" = $1 AND "jwkThumbprint" = $2`,
      [platformId, jwkThumbprint],
      "acme_account_by_key",
    );
    return r ? toAccount(r) : null;
  }

  async updateAccount(
    id: string,
    from: AccountStatus[],
    patch: Partial<{ contact: string[]; status: AccountStatus }>,
    event?: AcmeEvent,
  ): Promise<AccountRecord | null> {
    const ev = this.eventCte(event, 5, "u");
    const r = await this.one(
      `WITH u AS (UPDATE "AcmeAccount" SET "contact" = COALESCE($3, "contact"), "status" = COALESCE($4, "status")
       WHERE "id" = $1 AND "status" = ANY($2) RETURNING *)${ev.cte}
       SELECT * FROM u`,
      [id, from, patch.contact ?? null, patch.status ?? null, ...ev.values],
    );
    return r ? toAccount(r) : null;
  }

  async changeAccountKey(id: string, oldThumbprint: string, jwk: PublicJwk, jwkThumbprint: string, event?: AcmeEvent): Promise<KeyChangeResult> {
    const account = await this.getAccount(id);
    if (!account) return { ok: false, reason: "stale" };
    const other = await this.findAccountByThumbprint(account.platformId, jwkThumbprint);
    if (other && other.id !== id) return { ok: false, reason: "conflict", conflictingAccountId: other.id };
    let row: Row | null;
    const ev = this.eventCte(event, 5, "u");
    try {
      row = await this.one(
        `WITH u AS (UPDATE "AcmeAccount" SET "jwk" = $3, "jwkThumbprint" = $4 WHERE "id" = $1 AND "jwkThumbprint" = $2 AND "status" = 'valid' RETURNING *)${ev.cte}
         SELECT * FROM u`,
        [id, oldThumbprint, json(jwk), jwkThumbprint, ...ev.values],
      );
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      const winner = await this.findAccountByThumbprint(account.platformId, jwkThumbprint);
      if (!winner) throw e;
      return { ok: false, reason: "conflict", conflictingAccountId: winner.id };
    }
    return row ? { ok: true, account: toAccount(row) } : { ok: false, reason: "stale" };
  }

  // ------------------------------------------------------------------ orders

  async createOrder(order: NewOrder, authorizations: NewAuthorization[], event?: AcmeEvent): Promise<OrderRecord> {
    const now = new Date();
    const ev = this.eventCte(event, 10, "o");
    const challenges = authorizations.flatMap((az) => az.challenges.map((c) => ({ ...c, authorizationId: az.id })));
    // All or nothing, in one statement.
    const r = await this.one(
      `WITH o AS (
         INSERT INTO "AcmeOrder" ("id", "accountId", "status", "identifiers", "notBefore", "notAfter", "expires", "createdAt", "updatedAt")
         VALUES ($1, $2, 'pending', $3, $4, $5, $6, $7, $7) RETURNING *),
       a AS (
         INSERT INTO "AcmeAuthorization" ("id", "orderId", "identifierType", "identifierValue", "status", "expires", "wildcard")
         SELECT x."id", (SELECT "id" FROM o), x."identifierType", x."identifierValue", 'pending', x."expires"::timestamp(3), x."wildcard"
         FROM json_to_recordset($8::json) AS x("id" text, "identifierType" text, "identifierValue" text, "expires" text, "wildcard" boolean)
         RETURNING "id"),
       c AS (
         INSERT INTO "AcmeChallenge" ("id", "authorizationId", "type", "token", "status")
         SELECT x."id", x."authorizationId", x."type", x."token", 'pending'
         FROM json_to_recordset($9::json) AS x("id" text, "authorizationId" text, "type" text, "token" text)
         RETURNING "id")${ev.cte}
       SELECT o.*, (SELECT count(*) FROM a)::int AS "authorizationCount", (SELECT count(*) FROM c)::int AS "challengeCount" FROM o`,
      [
        order.id,
        order.accountId,
        json(order.identifiers),
        order.notBefore,
        order.notAfter,
        order.expires,
        now,
        JSON.stringify(
          authorizations.map((az) => ({
            id: az.id,
            identifierType: az.identifierType,
            identifierValue: az.identifierValue,
            expires: az.expires.toISOString(),
            wildcard: az.wildcard,
          })),
        ),
        JSON.stringify(challenges.map((c) => ({ id: c.id, authorizationId: c.authorizationId, type: c.type, token: c.token }))),
        ...ev.values,
      ],
      `acme_create_order${ev.cte ? "_ev" : ""}`,
    );
    return toOrder(r!);
  }

  async getOrder(id: string): Promise<OrderRecord | null> {
    const r = await this.one(`SELECT * FROM "AcmeOrder" WHERE "id" = $1`, [id], "acme_get_order");
    return r ? toOrder(r) : null;
  }

  async getOrderWithAuthorizations(id: string): Promise<{ order: OrderRecord; authorizations: AuthorizationWithChallenges[] } | null> {
    const r = await this.one(`SELECT ${TARGETS.order.cols} FROM ${TARGETS.order.from("$1")}`, [id], "acme_get_order_authzs");
    if (!r) return null;
    const { order, authorizations } = TARGETS.order.read(r);
    return { order, authorizations };
  }

  async listOrderIds(accountId: string, limit: number): Promise<string[]> {
    const rows = await this.sql.query<{ id: string }>(`SELECT "id" FROM "AcmeOrder" WHERE "accountId" = $1 ORDER BY "createdAt" DESC, "id" DESC LIMIT $2`, [
      accountId,
      limit,
    ]);
    return rows.map((r) => r.id);
  }

  async updateOrder(id: string, from: OrderStatus[], patch: OrderPatch): Promise<OrderRecord | null> {
    // $4/$5 say whether error / certificateId are part of the patch (null is a value to write).
    const r = await this.one(
      `UPDATE "AcmeOrder" SET "status" = COALESCE($3, "status"),
         "error" = CASE WHEN $4::boolean THEN $5::jsonb ELSE "error" END,
         "certificateId" = CASE WHEN $6::boolean THEN $7 ELSE "certificateId" END,
         "updatedAt" = $8
       WHERE "id" = $1 AND "status" = ANY($2) RETURNING *`,
      [
        id,
        from,
        patch.status ?? null,
        patch.error !== undefined,
        json(patch.error),
        patch.certificateId !== undefined,
        patch.certificateId ?? null,
        new Date(),
      ],
      "acme_update_order",
    );
    return r ? toOrder(r) : null;
  }

  // ------------------------------------------------------------------ authorizations and challenges

  async getAuthorization(id: string): Promise<AuthorizationWithChallenges | null> {
    const r = await this.one(`SELECT ${AUTHZ_COLS} FROM "AcmeAuthorization" a WHERE a."id" = $1`, [id], "acme_get_authz");
    return r ? withChallenges(r) : null;
  }

  async getAuthorizationWithOrder(id: string): Promise<{ authz: AuthorizationWithChallenges; order: OrderRecord } | null> {
    const r = await this.one(`SELECT ${TARGETS.authorization.cols} FROM ${TARGETS.authorization.from("$1")}`, [id], "acme_get_authz_order");
    if (!r) return null;
    const { authz, order } = TARGETS.authorization.read(r);
    return { authz, order };
  }

  async listAuthorizations(orderId: string): Promise<AuthorizationWithChallenges[]> {
    const rows = await this.sql.query<Row>(
      `SELECT ${AUTHZ_COLS} FROM "AcmeAuthorization" a WHERE a."orderId" = $1 ORDER BY a."id"`,
      [orderId],
      "acme_list_authzs",
    );
    return rows.map(withChallenges);
  }

  async holdsAuthorizations(accountId: string, identifiers: AuthorizedIdentifier[], now: Date): Promise<boolean> {
    const wanted = new Map(identifiers.map((i) => [`${i.identifierType}\u0000${i.identifierValue}\u0000${i.wildcard}`, i]));
    const list = [...wanted.values()];
    const r = await this.one(
      `SELECT count(DISTINCT (a."identifierType", a."identifierValue", a."wildcard"))::int AS "n"
       FROM "AcmeAuthorization" a JOIN "AcmeOrder" o ON o."id" = a."orderId"
       JOIN unnest($2::text[], $3::text[], $4::text[]::boolean[]) AS w("type", "value", "wildcard")
         ON a."identifierType" = w."type" AND a."identifierValue" = w."value" AND a."wildcard" = w."wildcard"
       WHERE o."accountId" = $1 AND a."status" = 'valid' AND a."expires" > $5`,
      [accountId, list.map((i) => i.identifierType), list.map((i) => i.identifierValue), list.map((i) => String(i.wildcard)), now],
      "acme_holds_authorizations",
    );
    return list.length > 0 && r?.n === list.length;
  }

  async updateAuthorization(id: string, from: AuthorizationStatus[], patch: AuthorizationPatch): Promise<AuthorizationRecord | null> {
    const spki =
      patch.attestedKeySpki === undefined ? undefined : patch.attestedKeySpki === null ? null : Buffer.from(patch.attestedKeySpki).toString("base64");
    const r = await this.one(
      `UPDATE "AcmeAuthorization" SET "status" = COALESCE($3, "status"),
         "attestedKeySpki" = CASE WHEN $4::boolean THEN $5 ELSE "attestedKeySpki" END,
         "attestation" = CASE WHEN $6::boolean THEN $7::jsonb ELSE "attestation" END
       WHERE "id" = $1 AND "status" = ANY($2) RETURNING *`,
      [id, from, patch.status ?? null, spki !== undefined, spki ?? null, patch.attestation !== undefined, json(patch.attestation)],
      "acme_update_authz",
    );
    return r ? toAuthz(r) : null;
  }

  async getChallenge(id: string): Promise<ChallengeRecord | null> {
    const r = await this.one(`SELECT * FROM "AcmeChallenge" WHERE "id" = $1`, [id], "acme_get_challenge");
    return r ? toChallenge(r) : null;
  }

  async completeChallenge(
    { challengeId, from, authorizationId, orderId, now, outcome }: ChallengeCompletion,
    event?: AcmeEvent,
  ): Promise<ChallengeRecord | null> {
    const ev = this.eventCte(event, 11, "ch");
    const valid = outcome.status === "valid";
    const spki = valid && outcome.attestedKeySpki ? Buffer.from(outcome.attestedKeySpki).toString("base64") : null;
    // One statement; each step only if the one before it changed something. The order's other
    // authorizations are read as they were when the statement started, which is what refreshOrder would
    // also see; an order left pending here is brought up to date by its next read.
    const r = await this.one(
      `WITH ch AS (
         UPDATE "AcmeChallenge" SET "status" = $4, "validated" = CASE WHEN $4 = 'valid' THEN $5::timestamp(3) END, "error" = $6::jsonb
         WHERE "id" = $1 AND "status" = $10 RETURNING *),
       az AS (
         UPDATE "AcmeAuthorization" SET "status" = $4,
           "attestedKeySpki" = CASE WHEN $7::text IS NOT NULL THEN $7 ELSE "attestedKeySpki" END,
           "attestation" = CASE WHEN $7::text IS NOT NULL THEN $8::jsonb ELSE "attestation" END
         WHERE "id" = $2 AND "status" = 'pending' AND EXISTS (SELECT 1 FROM ch) RETURNING "id"),
       o AS (
         UPDATE "AcmeOrder" SET "status" = CASE WHEN $4 = 'valid' THEN 'ready' ELSE 'invalid' END, "error" = $9::jsonb, "updatedAt" = $5
         WHERE "id" = $3 AND "status" = 'pending' AND "expires" > $5 AND EXISTS (SELECT 1 FROM az)
           AND ($4 <> 'valid' OR NOT EXISTS (SELECT 1 FROM "AcmeAuthorization" x WHERE x."orderId" = $3 AND x."id" <> $2 AND (x."status" <> 'valid' OR x."expires" <= $5)))
         RETURNING "id")${ev.cte}
       SELECT ch.*, (SELECT count(*) FROM o)::int AS "orderUpdated" FROM ch`,
      [
        challengeId,
        authorizationId,
        orderId,
        outcome.status,
        now,
        valid ? null : json(outcome.error),
        spki,
        valid ? json(outcome.attestation ?? null) : null,
        valid ? null : json(outcome.orderError),
        from,
        ...ev.values,
      ],
      `acme_complete_challenge${ev.cte ? "_ev" : ""}`,
    );
    return r ? toChallenge(r) : null;
  }

  async getChallengeWithAuthorization(id: string): Promise<{ challenge: ChallengeRecord; authz: AuthorizationWithChallenges; order: OrderRecord } | null> {
    const r = await this.one(`SELECT ${TARGETS.challenge.cols} FROM ${TARGETS.challenge.from("$1")}`, [id], "acme_get_challenge_authz");
    if (!r) return null;
    const { challenge, authz, order } = TARGETS.challenge.read(r);
    return { challenge, authz, order };
  }

  async updateChallenge(id: string, from: ChallengeStatus[], patch: ChallengePatch): Promise<ChallengeRecord | null> {
    const r = await this.one(
      `UPDATE "AcmeChallenge" SET "status" = COALESCE($3, "status"),
         "validated" = CASE WHEN $4::boolean THEN $5::timestamp(3) ELSE "validated" END,
         "error" = CASE WHEN $6::boolean THEN $7::jsonb ELSE "error" END
       WHERE "id" = $1 AND "status" = ANY($2) RETURNING *`,
      [id, from, patch.status ?? null, patch.validated !== undefined, patch.validated ?? null, patch.error !== undefined, json(patch.error)],
      "acme_update_challenge",
    );
    return r ? toChallenge(r) : null;
  }
}
