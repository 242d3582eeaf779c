import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SimulatedAppleCa, enroll } from "@attested/device-sim";
import { forgetCachedConfig } from "@attested/db";
import type { startKandjiSimulator } from "@attested/kandji-sim";
import { type startTestbed, startKandjiPolicyBed } from "./testing";

// The enrollment path must not get slower: the database statements of one whole enrollment (account,
// order, device-attest-01, the Enrollment Policy with its Kandji lookup, finalize, download) are counted
// here, for an issuance and for a denial. Counted on PostgreSQL, where every statement of Prisma (through
// node-postgres) and of the plain SQL path (postgres.js) is a round trip the enrollment waits for. The
// numbers are those measured before finalize was split into named steps; a change must not raise them.

let bed: Awaited<ReturnType<typeof startTestbed>>;
let kandji: Awaited<ReturnType<typeof startKandjiSimulator>>;
let simCa: SimulatedAppleCa;
let profile = "";
const device = (serialNumber: string) => ({ serialNumber, udid: `00008112-${serialNumber.padStart(16, "0")}`, email: "ignored@example.com" });

const counted = { prisma: 0, sql: 0 };
const postgres = Boolean(process.env.DATABASE_URL);

beforeAll(async () => {
  if (!postgres) return;
  ({ bed, kandji, simCa, profile } = await startKandjiPolicyBed([
    { serial_number: "C02COUNT01", device_name: "Ada's MacBook Pro", user: { email: "ada@example.com", name: "Ada" } },
  ]));

  // Every statement: Prisma's go through node-postgres clients, the plain SQL through bed.db.sql.
  const pgQuery = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    counted.prisma++;
    return (pgQuery as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof pgQuery;
  const sqlQuery = bed.db.sql.query.bind(bed.db.sql);
  bed.db.sql.query = ((...args: Parameters<typeof sqlQuery>) => {
    counted.sql++;
    return sqlQuery(...args);
  }) as typeof sqlQuery;
  // Warm: the CA's keys and chain, the platform by its secret.
  await enroll({ profile, device: device("C02COUNT01"), ca: simCa, allowHttp: true });
}, 120_000);
afterAll(async () => {
  await kandji?.close();
  await bed?.close();
});

/** The statements of one enrollment, with the configuration read afresh (as after a change). */
async function statementsOf(serial: string): Promise<{ prisma: number; sql: number }> {
  forgetCachedConfig(bed.db.prisma);
  counted.prisma = counted.sql = 0;
  await enroll({ profile, device: device(serial), ca: simCa, allowHttp: true }).catch(() => null);
  return { ...counted };
}

describe.skipIf(!postgres)("database round trips of one enrollment", () => {
  it("issuance through an Enrollment Policy and its lookup", async () => {
    expect(await statementsOf("C02COUNT01")).toEqual({ prisma: 11, sql: 12 });
  });

  it("a denial (device not found, Revoke On Failure) with its event", async () => {
    expect(await statementsOf("C02ABSENT01")).toEqual({ prisma: 13, sql: 11 });
  });
});
