import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "@attested/db/testing";
import { EventType, listEvents, recordEvent, systemActor } from "./index";

let db: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.close());

describe("events", () => {
  it("records in the caller's transaction and rolls back with it", async () => {
    await expect(
      db.prisma.$transaction(async (tx) => {
        await recordEvent(tx, { type: "X", outcome: "success", actor: systemActor("t"), summary: "rolled back" });
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    expect(await db.prisma.event.count({ where: { type: "X" } })).toBe(0);
  });

  it("never stores secrets passed in details", async () => {
    await recordEvent(db.prisma, {
      type: EventType.SettingsUpdated,
      outcome: "success",
      actor: { type: "user", name: "a@example.com" },
      summary: "smtp",
      details: { host: "mail", password: "hunter2", nested: { bearerToken: "abc" }, keySize: 2048 },
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
});
