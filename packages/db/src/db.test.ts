import { describe, expect, it } from "vitest";
import { createTestDatabase } from "./testing";
import { applyMigrations, pendingMigrations } from "./migrate";

describe("database and migrations", () => {
  it("applies every migration once and reports none pending", async () => {
    const db = await createTestDatabase();
    try {
      expect(await applyMigrations(db.adapter)).toEqual([]);
      const pending = await pendingMigrations((sql) => db.prisma.$queryRawUnsafe(sql));
      expect(pending).toEqual([]);
      await db.prisma.organization.create({ data: { name: "Acme" } });
      expect(await db.prisma.organization.count()).toBe(1);
    } finally {
      await db.close();
    }
  });
});
