import { randomUUID } from "node:crypto";
import type { CertificateAuthority } from "@attested/db";
import { EventType, inTransaction, recordEvent, systemActor, type Actor } from "@attested/events";
import { assertCanWrite } from "@attested/identity";
import { createIntermediateCa, createRootCa, type ExistingCaKey, type KeyAlgorithm, type SignatureAlgorithm } from "@attested/pki";
import { caUrls, type CaContext } from "./context";
import { isKeyStoreUnavailable, keyLocation, recordKeyFailure } from "./keys";
import { caInputSchema, caSettingsSchema, type CaInput } from "./schemas";
import { DomainError, NotFoundError } from "@attested/errors";

export type CaRecord = Omit<CertificateAuthority, "crlDer">;

const omitCrl = { crlDer: false } as const;

export async function listCas(ctx: CaContext): Promise<(CaRecord & { parentName: string | null; issued: number; revoked: number })[]> {
  const cas = await ctx.db.certificateAuthority.findMany({
    omit: omitCrl,
    orderBy: [{ isDefault: "desc" }, { createdAt: "asc" }],
    include: { parent: { select: { commonName: true } } },
  });
  const counts = await ctx.db.certificate.groupBy({ by: ["caId", "status"], _count: { _all: true } });
  return cas.map(({ parent, ...ca }) => ({
    ...ca,
    parentName: parent?.commonName ?? null,
    issued: counts.filter((c) => c.caId === ca.id).reduce((n, c) => n + c._count._all, 0),
    revoked: counts.filter((c) => c.caId === ca.id && c.status !== "ACTIVE").reduce((n, c) => n + c._count._all, 0),
  }));
}

export async function getCa(ctx: CaContext, id: string): Promise<CaRecord> {
  const ca = /^[0-9a-f-]{36}$/.test(id) ? await ctx.db.certificateAuthority.findUnique({ where: { id }, omit: omitCrl }) : null;
  if (!ca) throw new NotFoundError("Certificate Authority");
  return ca;
}

/** The CA's chain up to its root, leaf-most first (the CA itself first). */
export async function caChain(ctx: CaContext, id: string): Promise<CaRecord[]> {
  const chain: CaRecord[] = [];
  let next: string | null = id;
  while (next && chain.length < 10) {
    const ca = await getCa(ctx, next);
    chain.push(ca);
    next = ca.parentId;
  }
  return chain;
}

/** What issuing needs of a CA: fields that never change once the CA exists. */
export type IssuingCa = Pick<CaRecord, "id" | "parentId" | "type" | "commonName" | "certificatePem" | "keyId" | "signatureAlgorithm">;

// Per process, by CA id. Only immutable columns are cached (certificate, key id, parent, name, type,
// signature algorithm: "Update" changes notification and revocation settings only, and a CA is never
// deleted while certificates reference it), so every instance's cache agrees with the database.
const issuingChains = new Map<string, Promise<IssuingCa[]>>();

/** caChain for issuing and serving chains, without a database round trip after the first call. */
export function issuingChain(ctx: CaContext, id: string): Promise<IssuingCa[]> {
  let chain = issuingChains.get(id);
  if (!chain) {
    chain = caChain(ctx, id).then((cas) =>
      cas.map(({ id, parentId, type, commonName, certificatePem, keyId, signatureAlgorithm }) => ({
        id,
        parentId,
        type,
        commonName,
        certificatePem,
        keyId,
        signatureAlgorithm,
      })),
    );
    chain.catch(() => issuingChains.get(id) === chain && issuingChains.delete(id));
    if (issuingChains.size > 1000) issuingChains.clear();
    issuingChains.set(id, chain);
  }
  return chain;
}

/**
 * "Add Certificate Authority": generates the key inside the key store and the certificate. `input` is
 * a CaInput or what a form or the API submitted: caInputSchema checks it here.
 */
export async function createCa(ctx: CaContext, actor: Actor, input: CaInput | unknown, opts: { isDefault?: boolean } = {}): Promise<CaRecord> {
  if (actor.type !== "system") await assertCanWrite(ctx.db, actor, "create certificate authorities");
  const data = caInputSchema.parse(input);
  const id = randomUUID();
  let parent: CaRecord | null = null;
  if (data.type === "INTERMEDIATE") {
    parent = await ctx.db.certificateAuthority.findUnique({
      where: { id: /^[0-9a-f-]{36}$/.test(data.parentId!) ? data.parentId! : "00000000-0000-0000-0000-000000000000" },
      omit: omitCrl,
    });
    if (!parent) throw new DomainError("Choose an existing parent Certificate Authority", 400, "parentId");
    if (parent.notAfter <= (ctx.now?.() ?? new Date())) throw new DomainError("The parent Certificate Authority has expired", 400, "parentId");
  }
  // "Generate via: Hardware security module": the key pair is made in the token (or found there by
  // label, for a key from a ceremony) before the certificate; a failure after that destroys a key made here.
  let key: (ExistingCaKey & { algorithm?: KeyAlgorithm }) | undefined;
  let keyAlgorithm = data.keyAlgorithm as KeyAlgorithm;
  if (data.generatedVia === "pkcs11") {
    const hsm = ctx.hsm;
    if (!hsm) throw new DomainError("No hardware security module is configured (set PKCS11_MODULE and restart)", 400, "generatedVia");
    const label = data.keyLabel ?? `attested-ca-${id}`;
    const location = { storage: "pkcs11" as const, hsm: hsm.tokenDescription, label };
    try {
      key = data.useExistingKey ? await hsm.existing(label) : await hsm.create(keyAlgorithm, { label });
    } catch (e) {
      await recordEvent(ctx.db, {
        type: EventType.CaKeyGenerated,
        outcome: "failure",
        actor,
        object: { type: "certificate-authority", name: data.commonName },
        summary: `${data.useExistingKey ? "Key" : `${keyAlgorithm} key`} "${label}" for "${data.commonName}" not ${data.useExistingKey ? "found usable" : "generated"} in the ${hsm.tokenDescription}: ${(e as Error).message}`,
        details: { ...location, keyAlgorithm, existing: data.useExistingKey, error: (e as Error).message },
      });
      throw e;
    }
    if (key.algorithm) keyAlgorithm = key.algorithm;
  }
  const common = {
    commonName: data.commonName,
    keyAlgorithm,
    signatureAlgorithm: data.signatureAlgorithm,
    validityYears: data.validityYears,
    keyStore: ctx.keyStore,
    key,
    now: ctx.now?.(),
  };
  try {
    return await recordCa(ctx, actor, data, id, parent, keyAlgorithm, opts, async () =>
      // A PkiError (refused parameters) reaches the edge as it is: REST and forms turn it into a field error.
      parent
        ? await createIntermediateCa({
            ...common,
            parent: { certificatePem: parent.certificatePem, keyId: parent.keyId, signatureAlgorithm: parent.signatureAlgorithm as SignatureAlgorithm },
            ...caUrls(ctx.publicUrl, parent.id),
          })
        : await createRootCa(common),
    );
  } catch (e) {
    // Nothing half-made: a key generated for this CA goes with it (a ceremony's key stays in the token).
    if (key && !data.useExistingKey) await ctx.hsm?.destroy(key.keyId).catch(() => {});
    if (isKeyStoreUnavailable(e))
      await recordKeyFailure(
        ctx,
        { commonName: parent?.commonName ?? data.commonName, id: parent?.id, keyId: parent?.keyId ?? key?.keyId ?? "" },
        "create",
        e,
        actor,
      );
    throw e;
  }
}

async function recordCa(
  ctx: CaContext,
  actor: Actor,
  data: ReturnType<typeof caInputSchema.parse>,
  id: string,
  parent: CaRecord | null,
  keyAlgorithm: KeyAlgorithm,
  opts: { isDefault?: boolean },
  make: () => ReturnType<typeof createRootCa>,
): Promise<CaRecord> {
  const made = await make();
  if (await ctx.db.certificateAuthority.findUnique({ where: { keyId: made.keyId }, select: { id: true } })) {
    throw new DomainError("Another Certificate Authority already uses this key", 409, "keyLabel");
  }
  return inTransaction(ctx.db, async (tx) => {
    const ca = await tx.certificateAuthority.create({
      data: {
        id,
        purpose: data.purpose,
        type: data.type,
        parentId: parent?.id ?? null,
        generatedVia: data.generatedVia,
        commonName: data.commonName,
        keyAlgorithm,
        signatureAlgorithm: data.signatureAlgorithm,
        validityYears: data.validityYears,
        isDefault: opts.isDefault ?? false,
        keyId: made.keyId,
        certificatePem: made.certificatePem,
        subjectDn: made.subjectDn,
        serialNumber: made.serialNumber,
        notBefore: made.notBefore,
        notAfter: made.notAfter,
        sha256Fingerprint: made.sha256Fingerprint,
        expiryNotificationDays: data.expiryNotificationDays ?? null,
        notifyOnEnrollment: data.notifyOnEnrollment,
        revokeUnusedDays: data.revokeUnusedDays ?? null,
        revokeSinceLastUsage: data.revokeSinceLastUsage,
        revokeSinceIssuance: data.revokeSinceIssuance,
        revocationReason: data.revocationReason,
      },
      omit: omitCrl,
    });
    if (data.generatedVia === "pkcs11") {
      await recordEvent(tx, {
        type: EventType.CaKeyGenerated,
        outcome: "success",
        actor,
        object: { type: "certificate-authority", id: ca.id, name: ca.commonName },
        summary: data.useExistingKey
          ? `Existing key "${keyLocation(ctx, ca.keyId).label}" in the ${ctx.hsm?.tokenDescription} taken for "${ca.commonName}"`
          : `${keyAlgorithm} key "${keyLocation(ctx, ca.keyId).label}" generated in the ${ctx.hsm?.tokenDescription} for "${ca.commonName}"`,
        details: { ...keyLocation(ctx, ca.keyId), keyAlgorithm, existing: data.useExistingKey },
      });
    }
    await recordEvent(tx, {
      type: EventType.CaCreated,
      outcome: "success",
      actor,
      object: { type: "certificate-authority", id: ca.id, name: ca.commonName },
      summary: `${data.type === "ROOT" ? "Root CA" : "Intermediate CA"} "${ca.commonName}" created${parent ? ` under "${parent.commonName}"` : ""}`,
      details: {
        type: ca.type,
        keyAlgorithm: ca.keyAlgorithm,
        signatureAlgorithm: ca.signatureAlgorithm,
        validityYears: ca.validityYears,
        generatedVia: ca.generatedVia,
        serialNumber: ca.serialNumber,
        sha256Fingerprint: ca.sha256Fingerprint,
      },
    });
    return ca;
  });
}

/** Notifications and Revocation settings of an existing CA ("Update"). */
export async function updateCaSettings(ctx: CaContext, actor: Actor, id: string, input: unknown): Promise<CaRecord> {
  await assertCanWrite(ctx.db, actor, "change certificate authorities");
  const before = await getCa(ctx, id);
  const data = caSettingsSchema.parse(input);
  return inTransaction(ctx.db, async (tx) => {
    const ca = await tx.certificateAuthority.update({
      where: { id },
      data: { ...data, expiryNotificationDays: data.expiryNotificationDays ?? null, revokeUnusedDays: data.revokeUnusedDays ?? null },
      omit: omitCrl,
    });
    await recordEvent(tx, {
      type: EventType.CaUpdated,
      outcome: "success",
      actor,
      object: { type: "certificate-authority", id, name: ca.commonName },
      summary: `Settings of "${ca.commonName}" updated`,
      details: {
        before: {
          expiryNotificationDays: before.expiryNotificationDays,
          notifyOnEnrollment: before.notifyOnEnrollment,
          revokeUnusedDays: before.revokeUnusedDays,
          revokeSinceLastUsage: before.revokeSinceLastUsage,
          revokeSinceIssuance: before.revokeSinceIssuance,
          revocationReason: before.revocationReason,
        },
        after: data,
      },
    });
    return ca;
  });
}

/** First start: the default Root CA that comes with the organization. */
export async function ensureOrganizationRootCa(ctx: CaContext): Promise<CaRecord | null> {
  if (await ctx.db.certificateAuthority.findFirst({ where: { isDefault: true } })) return null;
  const org = await ctx.db.organization.findFirst();
  return createCa(
    ctx,
    systemActor("bootstrap"),
    {
      purpose: "Device and User Authentication",
      type: "ROOT",
      generatedVia: "internal",
      commonName: `${org?.name ?? "Organization"} Root CA`.slice(0, 64),
      keyAlgorithm: "EC-P384",
      signatureAlgorithm: "SHA-384",
      validityYears: 20,
    },
    { isDefault: true },
  );
}
