import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZodError } from "zod";
import { listEvents } from "@attested/events";
import { csvField, exportEventsCsv, getEventRetention, purgeExpiredEvents, updateEventRetention } from "./events";
import { admin, auditor, harness, type Harness } from "./testing";

let h: Harness;
const DAY = 86_400_000;
const CA_ID = "0b7a6c1e-2f3d-4e5f-8a9b-0c1d2e3f4a5b";

beforeAll(async () => {
  h = await harness();
  await h.db.prisma.event.deleteMany({});
  const now = Date.now();
  // 1,200 events over the last 120 days: every 10th a failure by a device, the rest by a user or a job.
  await h.db.prisma.event.createMany({
    data: Array.from({ length: 1200 }, (_, i) => ({
      time: new Date(now - (1200 - i) * (DAY / 10)),
      type: i % 10 === 0 ? "Enrollment Denied" : i % 3 ? "Certificate Issued" : "CRL Published",
      outcome: i % 10 === 0 ? "failure" : "success",
      actorType: i % 10 === 0 ? "device" : i % 3 ? "user" : "system",
      actorName: i % 10 === 0 ? `C02DEV${i % 7}` : i % 3 ? "admin@example.com" : "crl",
      objectType: i % 3 ? "certificate" : "certificate-authority",
      objectId: i % 3 ? `00000000-0000-4000-8000-${String(i).padStart(12, "0")}` : CA_ID,
      objectName: i % 3 ? `CN=device-${i}` : "ACME CA",
      deviceSerial: i % 10 === 0 ? `C02DEV${i % 7}` : null,
      certificateSerial: i % 3 ? (i * 7919).toString(16).padStart(16, "0") : null,
      summary: i === 1190 ? '=HYPERLINK("http://evil")' : `event ${i}, "quoted"`,
      details: { i },
    })),
  });
});
afterAll(() => h.close());

async function readCsv(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}
/** Minimal RFC 4180 reader for the test (every field quoted). */
const parseCsv = (text: string) =>
  text
    .trimEnd()
    .split("\r\n")
    .map((line) => [...line.matchAll(/"((?:[^"]|"")*)"|([^,]+)/g)].map((m) => (m[1] ?? m[2]).replace(/""/g, '"')));

describe("General Events filters", () => {
  it("filters by outcome, actor and object, newest first", async () => {
    const failures = await listEvents(h.db.prisma, { outcome: "failure", limit: 500 });
    expect(failures.events).toHaveLength(120);
    expect(failures.events.every((e) => e.outcome === "failure")).toBe(true);
    const ids = failures.events.map((e) => BigInt(e.id));
    expect([...ids].sort((a, b) => (a > b ? -1 : 1))).toEqual(ids);

    expect((await listEvents(h.db.prisma, { actor: "ADMIN@example.com", limit: 500 })).events.every((e) => e.actorName === "admin@example.com")).toBe(true);
    expect((await listEvents(h.db.prisma, { actor: "C02DEV3", outcome: "failure", limit: 500 })).events.map((e) => e.actorName)).toEqual(
      Array(17).fill("C02DEV3"),
    );
    expect((await listEvents(h.db.prisma, { actorType: "system", limit: 500 })).events).toHaveLength(360);
    expect((await listEvents(h.db.prisma, { object: CA_ID, limit: 500 })).events).toHaveLength(400);
    expect((await listEvents(h.db.prisma, { object: "CN=device-1199" })).events.map((e) => e.summary)).toEqual(['event 1199, "quoted"']);
    expect((await listEvents(h.db.prisma, { objectType: "certificate", outcome: "failure", limit: 500 })).events).toHaveLength(80);
    expect((await listEvents(h.db.prisma, { deviceSerial: "C02DEV0", limit: 500 })).events.every((e) => e.deviceSerial === "C02DEV0")).toBe(true);
    const serial = (1199 * 7919).toString(16).padStart(16, "0");
    expect((await listEvents(h.db.prisma, { certificateSerial: serial.toUpperCase() })).events.map((e) => e.summary)).toEqual(['event 1199, "quoted"']);
    expect((await listEvents(h.db.prisma, { q: serial })).events).toHaveLength(1);
    expect((await listEvents(h.db.prisma, { q: "c02dev0", limit: 500 })).events.every((e) => e.deviceSerial === "C02DEV0")).toBe(true);
  });
});

describe("CSV export", () => {
  it("streams every row of the filtered view, quoted, with formulas defused, and records the export", async () => {
    const csv = await readCsv(await exportEventsCsv(h.db.prisma, auditor, { outcome: "failure", cursor: "5", limit: 3 }));
    const rows = parseCsv(csv);
    expect(rows[0]).toEqual([
      "id",
      "time",
      "type",
      "outcome",
      "actorType",
      "actorName",
      "actorId",
      "objectType",
      "objectId",
      "objectName",
      "certificateSerial",
      "deviceSerial",
      "summary",
      "details",
    ]);
    // The page's cursor and size do not cut the export: all 120 failures.
    expect(rows).toHaveLength(1 + 120);
    expect(rows.slice(1).every((r) => r[3] === "failure" && r[2] === "Enrollment Denied")).toBe(true);
    expect(rows[1][12]).toBe(`'=HYPERLINK("http://evil")`);
    expect(rows.at(-1)![12]).toBe('event 0, "quoted"');
    const exported = await h.db.prisma.event.findFirstOrThrow({ where: { type: "Events Exported" } });
    expect(exported).toMatchObject({ actorName: auditor.name, outcome: "success" });
    expect(exported.summary).toContain("outcome: failure");

    const all = parseCsv(await readCsv(await exportEventsCsv(h.db.prisma, auditor, {})));
    const evil = all.find((r) => r[12].includes("HYPERLINK"))!;
    expect(evil[12]).toBe(`'=HYPERLINK("http://evil")`);
    expect(all.find((r) => r[12] === 'event 7, "quoted"')![13]).toBe('{"i":7}');
    expect(csvField("+1")).toBe(`"'+1"`);
    expect(csvField(null)).toBe('""');

    const capped = parseCsv(await readCsv(await exportEventsCsv(h.db.prisma, auditor, {}, { maxRows: 700 })));
    expect(capped).toHaveLength(701);
  });
});

describe("retention", () => {
  it("is set by admins only, within bounds, and the job deletes what is older", async () => {
    await expect(updateEventRetention(h.db.prisma, auditor, { eventRetentionDays: "30" })).rejects.toThrow();
    await expect(updateEventRetention(h.db.prisma, admin, { eventRetentionDays: "7" })).rejects.toBeInstanceOf(ZodError);
    expect(await getEventRetention(h.db.prisma)).toBeNull();
    h.clock.set(new Date());
    expect(await purgeExpiredEvents(h.ctx)).toEqual({ deleted: 0, before: null });

    await updateEventRetention(h.db.prisma, admin, { eventRetentionDays: "60" });
    expect(await getEventRetention(h.db.prisma)).toBe(60);
    const cutoff = new Date(h.clock.now.getTime() - 60 * DAY);
    const old = await h.db.prisma.event.count({ where: { time: { lt: cutoff } } });
    expect(old).toBeGreaterThan(500);
    const r = await purgeExpiredEvents(h.ctx, { batch: 100 });
    expect(r.deleted).toBe(old);
    expect(await h.db.prisma.event.count({ where: { time: { lt: cutoff } } })).toBe(0);
    const purge = await h.db.prisma.event.findFirstOrThrow({ where: { type: "Events Purged" } });
    expect(purge.summary).toContain(`${old} events older than 60 days`);
    expect(await h.db.prisma.event.count({ where: { type: "Settings Updated", objectId: "events" } })).toBe(1);

    await updateEventRetention(h.db.prisma, admin, { eventRetentionDays: "" });
    expect(await getEventRetention(h.db.prisma)).toBeNull();
  });
});
