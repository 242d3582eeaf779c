import type { Db } from "@attested/db";
import { EventType, inTransaction, recordEvent, systemActor } from "@attested/events";
import { assertStrongPassword, generatePassword, hashPassword } from "./passwords";
import { createUserSchema } from "./schemas";
import { DomainError } from "@attested/errors";

export interface BootstrapResult {
  organizationCreated: boolean;
  adminEmail?: string;
  /** Set only when the first admin got a generated password: print it once. */
  generatedPassword?: string;
}

/**
 * First start: creates the organization and the first admin (from the server's ADMIN_EMAIL /
 * ADMIN_PASSWORD / ORGANIZATION_NAME settings, passed in `env`, else a generated password). Later
 * starts change nothing. An advisory lock keeps two instances starting together from both bootstrapping.
 */
export async function bootstrapOrganization(
  db: Db,
  env: { ADMIN_EMAIL?: string; ADMIN_PASSWORD?: string; ORGANIZATION_NAME?: string } = {},
): Promise<BootstrapResult> {
  if (await db.organization.findFirst()) return { organizationCreated: false };
  const admin = createUserSchema.parse({
    email: env.ADMIN_EMAIL || "admin@example.com",
    name: "Administrator",
    role: "ADMIN",
    password: env.ADMIN_PASSWORD || generatePassword(),
  });
  if (env.ADMIN_PASSWORD) {
    try {
      assertStrongPassword(admin.password, admin);
    } catch (e) {
      // Refused at start, before anything is created: the operator picks a stronger one and starts again.
      throw new DomainError(`ADMIN_PASSWORD is refused: ${(e as Error).message}`);
    }
  }
  const passwordHash = await hashPassword(admin.password);
  const actor = systemActor("bootstrap");
  return inTransaction(db, async (tx) => {
    await tx.$executeRawUnsafe("SELECT pg_advisory_xact_lock(727001)");
    if (await tx.organization.findFirst()) return { organizationCreated: false };
    const org = await tx.organization.create({ data: { name: env.ORGANIZATION_NAME || "My Organization" } });
    await recordEvent(tx, {
      type: EventType.OrganizationCreated,
      outcome: "success",
      actor,
      object: { type: "organization", id: org.id, name: org.name },
      summary: `Organization "${org.name}" created`,
    });
    if ((await tx.user.count()) === 0) {
      const user = await tx.user.create({ data: { email: admin.email, name: admin.name, role: "ADMIN", passwordHash } });
      await recordEvent(tx, {
        type: EventType.UserCreated,
        outcome: "success",
        actor,
        object: { type: "user", id: user.id, name: user.email },
        summary: `${user.email} created as Admin (first admin)`,
        details: { role: "ADMIN" },
      });
    }
    return {
      organizationCreated: true,
      adminEmail: admin.email,
      generatedPassword: env.ADMIN_PASSWORD ? undefined : admin.password,
    };
  });
}
