import { Prisma, type Db } from "@attested/db";
import type { ProblemDocument } from "./problems";
import type {
  AcmeStore,
  AuthorizationPatch,
  ChallengePatch,
  KeyChangeResult,
  NewAccount,
  NewAuthorization,
  NewOrder,
  OrderPatch,
} from "./store";
import type {
  AccountRecord,
  AccountStatus,
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

// PostgreSQL (or PGlite) persistence through the shared Prisma client. Compare-and-set updates are
// single `UPDATE ... WHERE id = $1 AND status IN (...)` statements: under READ COMMITTED a concurrent
// writer of the same row waits, re-checks the WHERE clause and updates nothing.

type AccountRow = Prisma.AcmeAccountGetPayload<object>;
type OrderRow = Prisma.AcmeOrderGetPayload<object>;
type AuthzRow = Prisma.AcmeAuthorizationGetPayload<object>;
type ChallengeRow = Prisma.AcmeChallengeGetPayload<object>;

const toAccount = (r: AccountRow): AccountRecord => ({
  id: r.id,
  platformId: r.platformId,
  jwkThumbprint: r.jwkThumbprint,
  jwk: r.jwk as PublicJwk,
  status: r.status as AccountStatus,
  contact: r.contact,
  createdAt: r.createdAt,
});

const toOrder = (r: OrderRow): OrderRecord => ({
  id: r.id,
  accountId: r.accountId,
  status: r.status as OrderStatus,
  identifiers: r.identifiers as unknown as Identifier[],
  notBefore: r.notBefore,
  notAfter: r.notAfter,
  expires: r.expires,
  error: (r.error as ProblemDocument | null) ?? null,
  certificateId: r.certificateId,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

const toAuthz = (r: AuthzRow): AuthorizationRecord => ({
  id: r.id,
  orderId: r.orderId,
  identifierType: r.identifierType as IdentifierType,
  identifierValue: r.identifierValue,
  status: r.status as AuthorizationStatus,
  expires: r.expires,
  wildcard: r.wildcard,
  attestedKeySpki: r.attestedKeySpki === null ? null : Buffer.from(r.attestedKeySpki, "base64"),
  attestation: (r.attestation as Record<string, unknown> | null) ?? null,
});

const toChallenge = (r: ChallengeRow): ChallengeRecord => ({
  id: r.id,
  authorizationId: r.authorizationId,
  type: r.type as ChallengeType,
  token: r.token,
  status: r.status as ChallengeStatus,
  validated: r.validated,
  error: (r.error as ProblemDocument | null) ?? null,
});

const jsonOrDbNull = (v: unknown) =>
  v === null ? Prisma.DbNull : (v as Prisma.InputJsonValue);

const isUniqueViolation = (e: unknown) =>
  e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002";

interface AuthzWithChallengesRow {
  id: string;
  orderId: string;
  identifierType: string;
  identifierValue: string;
  status: string;
  expires: string;
  wildcard: boolean;
  attestedKeySpki: string | null;
  attestation: unknown;
  challenges: { id: string; authorizationId: string; type: string; token: string; status: string; validated: string | null; error: unknown }[];
}

// Timestamps go through JSON as text: `timestamp(3)` columns hold UTC without a zone (Prisma's DateTime).
const AUTHZ_WITH_CHALLENGES = Prisma.sql`
  SELECT a."id", a."orderId", a."identifierType", a."identifierValue", a."status", to_json(a."expires") #>> '{}' AS "expires",
    a."wildcard", a."attestedKeySpki", a."attestation",
    COALESCE((SELECT json_agg(json_build_object('id', c."id", 'authorizationId', c."authorizationId", 'type', c."type", 'token', c."token",
      'status', c."status", 'validated', c."validated", 'error', c."error") ORDER BY c."id" ASC)
      FROM "AcmeChallenge" c WHERE c."authorizationId" = a."id"), '[]'::json) AS "challenges"
  FROM "AcmeAuthorization" a`;

const utc = (s: string) => new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s}Z`);

const fromAuthzRow = (r: AuthzWithChallengesRow): AuthorizationWithChallenges => ({
  ...toAuthz({ ...r, expires: utc(r.expires), attestation: (r.attestation ?? null) as Prisma.JsonValue }),
  challenges: (typeof r.challenges === "string" ? (JSON.parse(r.challenges) as AuthzWithChallengesRow["challenges"]) : r.challenges).map((c) =>
    toChallenge({ ...c, validated: c.validated === null ? null : utc(c.validated), error: (c.error ?? null) as Prisma.JsonValue }),
  ),
});

export class PrismaAcmeStore implements AcmeStore {
  constructor(private readonly db: Db) {}

  async addNonce(value: string, createdAt: Date): Promise<void> {
    await this.db.acmeNonce.create({ data: { value, createdAt } });
  }

  async consumeNonce(value: string, issuedAfter: Date): Promise<boolean> {
    // One DELETE: of two concurrent uses only one can remove the row. A stale nonce stays until pruned
    // and keeps failing this check.
    const { count } = await this.db.acmeNonce.deleteMany({ where: { value, createdAt: { gt: issuedAfter } } });
    return count === 1;
  }

  async useNonce(value: string, issuedAt: Date): Promise<boolean> {
    // INSERT ... ON CONFLICT DO NOTHING: of two uses of the same nonce only one inserts the row.
    const { count } = await this.db.acmeNonce.createMany({ data: [{ value, createdAt: issuedAt }], skipDuplicates: true });
    return count === 1;
  }

  async pruneNonces(issuedBefore: Date): Promise<number> {
    const { count } = await this.db.acmeNonce.deleteMany({ where: { createdAt: { lt: issuedBefore } } });
    return count;
  }

  async createAccount(a: NewAccount): Promise<{ account: AccountRecord; created: boolean }> {
    const existing = await this.findAccountByThumbprint(a.platformId, a.jwkThumbprint);
    if (existing) return { account: existing, created: false };
    try {
      const row = await this.db.acmeAccount.create({
        data: { id: a.id, platformId: a.platformId, jwkThumbprint: a.jwkThumbprint, jwk: a.jwk, contact: a.contact },
      });
      return { account: toAccount(row), created: true };
    } catch (e) {
      // Lost a race with the same key: the unique (platformId, jwkThumbprint) index decides.
      if (!isUniqueViolation(e)) throw e;
      const winner = await this.findAccountByThumbprint(a.platformId, a.jwkThumbprint);
      if (!winner) throw e;
      return { account: winner, created: false };
    }
  }

  async getAccount(id: string): Promise<AccountRecord | null> {
    const r = await this.db.acmeAccount.findUnique({ where: { id } });
    return r ? toAccount(r) : null;
  }

  async findAccountByThumbprint(platformId: string, jwkThumbprint: string): Promise<AccountRecord | null> {
    const r = await this.db.acmeAccount.findUnique({ where: { platformId_jwkThumbprint: { platformId, jwkThumbprint } } });
    return r ? toAccount(r) : null;
  }

  async updateAccount(
    id: string,
    from: AccountStatus[],
    patch: Partial<{ contact: string[]; status: AccountStatus }>,
  ): Promise<AccountRecord | null> {
    // UPDATE ... RETURNING: the compare-and-set and the new row in one statement.
    const [row] = await this.db.acmeAccount.updateManyAndReturn({
      where: { id, status: { in: from } },
      data: { ...(patch.contact ? { contact: patch.contact } : {}), ...(patch.status ? { status: patch.status } : {}) },
    });
    return row ? toAccount(row) : null;
  }

  async changeAccountKey(id: string, oldThumbprint: string, jwk: PublicJwk, jwkThumbprint: string): Promise<KeyChangeResult> {
    const account = await this.getAccount(id);
    if (!account) return { ok: false, reason: "stale" };
    const other = await this.findAccountByThumbprint(account.platformId, jwkThumbprint);
    if (other && other.id !== id) return { ok: false, reason: "conflict", conflictingAccountId: other.id };
    try {
      const { count } = await this.db.acmeAccount.updateMany({
        where: { id, jwkThumbprint: oldThumbprint, status: "valid" },
        data: { jwk, jwkThumbprint },
      });
      if (count !== 1) return { ok: false, reason: "stale" };
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      const winner = await this.findAccountByThumbprint(account.platformId, jwkThumbprint);
      if (!winner) throw e;
      return { ok: false, reason: "conflict", conflictingAccountId: winner.id };
    }
    const updated = await this.getAccount(id);
    return updated ? { ok: true, account: updated } : { ok: false, reason: "stale" };
  }

  async createOrder(order: NewOrder, authorizations: NewAuthorization[]): Promise<OrderRecord> {
    const row = await this.db.acmeOrder.create({
      data: {
        id: order.id,
        accountId: order.accountId,
        identifiers: order.identifiers as unknown as Prisma.InputJsonValue,
        notBefore: order.notBefore,
        notAfter: order.notAfter,
        expires: order.expires,
        authorizations: {
          create: authorizations.map((az) => ({
            id: az.id,
            identifierType: az.identifierType,
            identifierValue: az.identifierValue,
            wildcard: az.wildcard,
            expires: az.expires,
            challenges: { create: az.challenges.map((c) => ({ id: c.id, type: c.type, token: c.token })) },
          })),
        },
      },
    });
    return toOrder(row);
  }

  async getOrder(id: string): Promise<OrderRecord | null> {
    const r = await this.db.acmeOrder.findUnique({ where: { id } });
    return r ? toOrder(r) : null;
  }

  async listOrderIds(accountId: string, limit: number): Promise<string[]> {
    const rows = await this.db.acmeOrder.findMany({
      where: { accountId },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: limit,
      select: { id: true },
    });
    return rows.map((r) => r.id);
  }

  async updateOrder(id: string, from: OrderStatus[], patch: OrderPatch): Promise<OrderRecord | null> {
    const data: Prisma.AcmeOrderUpdateManyMutationInput = {};
    if (patch.status !== undefined) data.status = patch.status;
    if (patch.error !== undefined) data.error = jsonOrDbNull(patch.error);
    if (patch.certificateId !== undefined) data.certificateId = patch.certificateId;
    const [row] = await this.db.acmeOrder.updateManyAndReturn({ where: { id, status: { in: from } }, data });
    return row ? toOrder(row) : null;
  }

  // Authorizations with their challenges in one statement (an include would be two round trips, and
  // these are read on most ACME requests).
  async getAuthorization(id: string): Promise<AuthorizationWithChallenges | null> {
    const rows = await this.db.$queryRaw<AuthzWithChallengesRow[]>`${AUTHZ_WITH_CHALLENGES} WHERE a."id" = ${id}`;
    return rows[0] ? fromAuthzRow(rows[0]) : null;
  }

  async listAuthorizations(orderId: string): Promise<AuthorizationWithChallenges[]> {
    const rows = await this.db.$queryRaw<AuthzWithChallengesRow[]>`${AUTHZ_WITH_CHALLENGES} WHERE a."orderId" = ${orderId} ORDER BY a."id" ASC`;
    return rows.map(fromAuthzRow);
  }

  async updateAuthorization(id: string, from: AuthorizationStatus[], patch: AuthorizationPatch): Promise<AuthorizationRecord | null> {
    const data: Prisma.AcmeAuthorizationUpdateManyMutationInput = {};
    if (patch.status !== undefined) data.status = patch.status;
    if (patch.attestedKeySpki !== undefined) {
      data.attestedKeySpki = patch.attestedKeySpki === null ? null : Buffer.from(patch.attestedKeySpki).toString("base64");
    }
    if (patch.attestation !== undefined) data.attestation = jsonOrDbNull(patch.attestation);
    const [row] = await this.db.acmeAuthorization.updateManyAndReturn({ where: { id, status: { in: from } }, data });
    return row ? toAuthz(row) : null;
  }

  async getChallenge(id: string): Promise<ChallengeRecord | null> {
    const r = await this.db.acmeChallenge.findUnique({ where: { id } });
    return r ? toChallenge(r) : null;
  }

  async updateChallenge(id: string, from: ChallengeStatus[], patch: ChallengePatch): Promise<ChallengeRecord | null> {
    const data: Prisma.AcmeChallengeUpdateManyMutationInput = {};
    if (patch.status !== undefined) data.status = patch.status;
    if (patch.validated !== undefined) data.validated = patch.validated;
    if (patch.error !== undefined) data.error = jsonOrDbNull(patch.error);
    const [row] = await this.db.acmeChallenge.updateManyAndReturn({ where: { id, status: { in: from } }, data });
    return row ? toChallenge(row) : null;
  }
}
