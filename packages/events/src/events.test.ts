import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cachedConfig } from "@attested/db";
import { createTestDatabase } from "@attested/db/testing";
import { EventType, eventsOverview, inTransaction, listEvents, recordEvent, systemActor, type Actor } from "./index";

let db: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.close());

describe("events", () => {
  it("records in the caller's transaction and rolls back with it", async () => {
    await expect(
      db.prisma.$transaction(async (tx) => {
        await recordEvent(tx, { type: EventType.JobFailed, outcome: "success", actor: systemActor("t"), summary: "rolled back" });
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    expect(await db.prisma.event.count({ where: { summary: "rolled back" } })).toBe(0);
  });

  it("never stores secrets passed in details", async () => {
    await recordEvent(db.prisma, {
      type: EventType.SettingsUpdated,
      outcome: "success",
      actor: { type: "user", name: "a@example.com" },
      summary: "smtp",
      details: { settings: "mail", host: "mail", password: "hunter2", nested: { bearerToken: "abc" }, keySize: 2048 },
    });
    const e = await db.prisma.event.findFirstOrThrow({ where: { type: EventType.SettingsUpdated } });
    expect(JSON.stringify(e.details)).not.toContain("hunter2");
    expect(JSON.stringify(e.details)).not.toContain("abc");
    expect(e.details).toMatchObject({ host: "mail", keySize: 2048 });
  });

  it("lists newest first with keyset pages and filters", async () => {
    for (let i = 0; i < 7; i++) {
      await recordEvent(db.prisma, {
        type: i % 2 ? EventType.CertificateIssued : EventType.SignIn,
        outcome: "success",
        actor: systemActor("t"),
        deviceSerial: `SER${i}`,
        summary: `e${i}`,
      });
    }
    const p1 = await listEvents(db.prisma, { limit: 3 });
    expect(p1.events.map((e) => e.summary)).toEqual(["e6", "e5", "e4"]);
    const p2 = await listEvents(db.prisma, { limit: 3, cursor: p1.nextCursor! });
    expect(p2.events.map((e) => e.summary)).toEqual(["e3", "e2", "e1"]);
    const issued = await listEvents(db.prisma, { type: EventType.CertificateIssued });
    expect(issued.events).toHaveLength(3);
    const bySerial = await listEvents(db.prisma, { q: "ser3" });
    expect(bySerial.events.map((e) => e.summary)).toEqual(["e3"]);
  });

  it("the overview counts one day's issuance, denials by reason, revocations and attestation failures; the reason filter keeps one reason", async () => {
    const device: Actor = { type: "device", name: "C02OVERVIEW1" };
    const since = new Date(Date.now() - 24 * 3600_000);
    const before = await eventsOverview(db.prisma, since);
    const denied = (code: string) =>
      recordEvent(db.prisma, {
        type: EventType.EnrollmentDenied,
        outcome: "denied",
        actor: device,
        summary: `denied ${code}`,
        details: { code, reason: code, problem: "no", orderId: "o", accountId: "a", identifiers: [] },
      });
    await denied("deviceNotFound");
    await denied("deviceNotFound");
    await denied("noPolicy");
    await recordEvent(db.prisma, { type: EventType.AttestationFailed, outcome: "failure", actor: device, summary: "bad attestation" });
    await recordEvent(db.prisma, {
      type: EventType.CertificateRevoked,
      outcome: "success",
      actor: systemActor("t"),
      summary: "revoked",
      details: { reason: "keyCompromise" },
    });
    // Two days old: outside the window.
    await denied("conditionsNotMet");
    await db.prisma.event.updateMany({ where: { summary: "denied conditionsNotMet" }, data: { time: new Date(Date.now() - 48 * 3600_000) } });

    const after = await eventsOverview(db.prisma, since);
    expect(after.attestationFailed - before.attestationFailed).toBe(1);
    expect(after.revoked - before.revoked).toBe(1);
    expect(after.issued).toBe(before.issued);
    expect(after.denied).toEqual([
      { code: "deviceNotFound", count: 2 },
      { code: "noPolicy", count: 1 },
    ]);

    const notFound = await listEvents(db.prisma, { type: EventType.EnrollmentDenied, reason: "deviceNotFound", from: since.toISOString().slice(0, 19) });
    expect(notFound.events.map((e) => e.summary)).toEqual(["denied deviceNotFound", "denied deviceNotFound"]);
    // A time without a zone is UTC, as the portal shows times: an hour from now in UTC finds nothing.
    expect((await listEvents(db.prisma, { from: new Date(Date.now() + 3600_000).toISOString().slice(0, 19) })).events).toEqual([]);
    expect((await listEvents(db.prisma, { type: EventType.EnrollmentDenied, reason: "conditionsNotMet", from: since.toISOString() })).events).toEqual([]);
    expect((await listEvents(db.prisma, { type: EventType.EnrollmentDenied, reason: "conditionsNotMet" })).events).toHaveLength(1);
    await expect(listEvents(db.prisma, { reason: "x' OR 1=1" })).rejects.toThrow("denial code");
  });

  describe("configuration cache", () => {
    const admin: Actor = { type: "user", id: "00000000-0000-0000-0000-000000000001", name: "admin@example.com", role: "ADMIN" };

    it("is cleared after the change commits, so a read between the write and the commit cannot stay cached", async () => {
      const org = await db.prisma.organization.create({ data: { name: "before" } });
      const key = `test.org:${org.id}`;
      const committedName = async () => (await db.prisma.organization.findUniqueOrThrow({ where: { id: org.id } })).name;
      expect(await cachedConfig(db.prisma, key, committedName)).toBe("before");
      await inTransaction(db.prisma, async (tx) => {
        await tx.organization.update({ where: { id: org.id }, data: { name: "after" } });
        await recordEvent(tx, { type: EventType.SettingsUpdated, outcome: "success", actor: admin, summary: "renamed", details: { settings: "mail" } });
        // A concurrent enrollment, between the write and the commit: on its own connection it still
        // sees the committed row (PGlite has one connection, so there it is given that row).
        const concurrent = process.env.DATABASE_URL ? committedName : async () => "before";
        expect(await cachedConfig(db.prisma, key, concurrent)).toBe("before");
      });
      expect(await cachedConfig(db.prisma, key, committedName)).toBe("after");
    });

    it("is cleared by a person's event recorded on its own, and kept for a system's event", async () => {
      let loads = 0;
      const load = async () => ++loads;
      expect(await cachedConfig(db.prisma, "test.count", load)).toBe(1);
      await recordEvent(db.prisma, { type: EventType.JobFailed, outcome: "failure", actor: systemActor("t"), summary: "job" });
      expect(await cachedConfig(db.prisma, "test.count", load)).toBe(1);
      await recordEvent(db.prisma, { type: EventType.SignOut, outcome: "success", actor: admin, summary: "signed out" });
      expect(await cachedConfig(db.prisma, "test.count", load)).toBe(2);
    });
  });
});
