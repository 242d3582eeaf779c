import { testRootsEnabled, setTestRoots } from "./test-roots";
import "reflect-metadata";
import { X509Certificate } from "@peculiar/x509";
import { APPLE_ENTERPRISE_ATTESTATION_ROOT_CA_PEM } from "@attested/attestation";
import type { Db, KeyAttestationPlatform } from "@attested/db";
import { EventType, inTransaction, recordEvent, type Actor } from "@attested/events";
import { assertCanWrite } from "@attested/identity";
import { kapInputSchema, kapTestRootsSchema } from "./schemas";
import { DomainError, NotFoundError } from "@attested/errors";

export const listKeyAttestationPlatforms = (db: Db): Promise<KeyAttestationPlatform[]> => db.keyAttestationPlatform.findMany({ orderBy: { createdAt: "asc" } });

export async function getKeyAttestationPlatform(db: Db, id: string): Promise<KeyAttestationPlatform> {
  const k = /^[0-9a-f-]{36}$/.test(id) ? await db.keyAttestationPlatform.findUnique({ where: { id } }) : null;
  if (!k) throw new NotFoundError("Key Attestation Platform");
  return k;
}

export async function createKeyAttestationPlatform(db: Db, actor: Actor, input: unknown): Promise<KeyAttestationPlatform> {
  await assertCanWrite(db, actor, "create key attestation platforms");
  const data = kapInputSchema.parse(input);
  if (await db.keyAttestationPlatform.findUnique({ where: { name: data.name } }))
    throw new DomainError("A Key Attestation Platform with this name already exists", 409, "name");
  return inTransaction(db, async (tx) => {
    const k = await tx.keyAttestationPlatform.create({ data });
    await recordEvent(tx, {
      type: EventType.KeyAttestationPlatformCreated,
      outcome: "success",
      actor,
      object: { type: "key-attestation-platform", id: k.id, name: k.name },
      summary: `Key Attestation Platform "${k.name}" (Apple) created, trusting the Apple Enterprise Attestation Root CA`,
    });
    return k;
  });
}

/** Splits PEM text into certificates; every one must be a CA certificate. */
function parseRoots(text: string): X509Certificate[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (text.trim() && blocks.length === 0) throw new DomainError("Paste one or more PEM certificates", 400, "testTrustedRoots");
  return blocks.map((b) => {
    try {
      return new X509Certificate(b);
    } catch {
      throw new DomainError("A certificate could not be parsed", 400, "testTrustedRoots");
    }
  });
}

/**
 * The explicit testing setting: extra roots trusted for attestation besides Apple's. Marked as for
 * testing on the page, and every change is an event naming the fingerprints.
 */
export async function setTestTrustedRoots(db: Db, actor: Actor, id: string, input: unknown): Promise<KeyAttestationPlatform> {
  await assertCanWrite(db, actor, "change attestation trust");
  const k = await getKeyAttestationPlatform(db, id);
  const { testTrustedRoots } = kapTestRootsSchema.parse(input);
  const certs = parseRoots(testTrustedRoots);
  if (certs.length && !testRootsEnabled()) throw new DomainError(TEST_ROOTS_OFF, 409, "testTrustedRoots");
  const fingerprints = await Promise.all(certs.map(async (c) => Buffer.from(await c.getThumbprint("SHA-256")).toString("hex")));
  return inTransaction(db, async (tx) => {
    const updated = await tx.keyAttestationPlatform.update({ where: { id }, data: { testTrustedRoots: certs.map((c) => c.toString("pem")).join("\n") } });
    await recordEvent(tx, {
      type: EventType.TestRootTrusted,
      outcome: "success",
      actor,
      object: { type: "key-attestation-platform", id, name: k.name },
      summary: certs.length
        ? `FOR TESTING: "${k.name}" now also trusts ${certs.map((c) => c.subject).join("; ")}`
        : `"${k.name}" trusts only the Apple Enterprise Attestation Root CA again`,
      details: { subjects: certs.map((c) => c.subject), sha256Fingerprints: fingerprints },
    });
    return updated;
  });
}

export { testRootsEnabled, setTestRoots };

export const TEST_ROOTS_OFF =
  "Test roots are read-only and ignored: this server was not started with ATTESTATION_TEST_ROOTS=1, the setting that lets a test installation trust them.";

/** The stored test roots (PEM), whether or not they count. */
export const storedTestRoots = (k: Pick<KeyAttestationPlatform, "testTrustedRoots">): string[] =>
  k.testTrustedRoots.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];

/** The roots an attestation must chain to for this platform: Apple's, plus test roots when enabled. */
export function trustedRoots(k: Pick<KeyAttestationPlatform, "testTrustedRoots">): string[] {
  return testRootsEnabled() ? [APPLE_ENTERPRISE_ATTESTATION_ROOT_CA_PEM, ...storedTestRoots(k)] : [APPLE_ENTERPRISE_ATTESTATION_ROOT_CA_PEM];
}

/** Where a Key Attestation Platform is used (Device Roles); an object in use cannot be deleted. */
export async function keyAttestationPlatformUsage(db: Db, id: string): Promise<string[]> {
  const roles = await db.deviceRole.findMany({ where: { keyAttestationPlatformId: id }, select: { name: true } });
  return roles.map((r) => `Device Role "${r.name}"`);
}
