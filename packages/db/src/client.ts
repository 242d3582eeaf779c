import { mkdirSync } from "node:fs";
import path from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPGlite } from "pglite-prisma-adapter";
import type { SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { PrismaClient } from "./generated/prisma/client";
import { dataDir } from "./paths";

export type Db = PrismaClient;

export interface Database {
  prisma: PrismaClient;
  /** The driver adapter factory, also used by the migration runner. */
  adapter: SqlMigrationAwareDriverAdapterFactory;
  kind: "postgres" | "pglite";
  close(): Promise<void>;
}

/**
 * Opens the database: PostgreSQL when a URL is given (DATABASE_URL), else embedded PGlite persisted
 * under the data folder. Both run the same migrations.
 */
export async function openDatabase(opts: { url?: string; pgliteDir?: string; poolSize?: number } = {}): Promise<Database> {
  const url = opts.url ?? process.env.DATABASE_URL;
  if (url) {
    const adapter = new PrismaPg({
      connectionString: url,
      max: opts.poolSize ?? Number(process.env.DATABASE_POOL_SIZE ?? 10),
      connectionTimeoutMillis: 5_000,
    });
    const prisma = new PrismaClient({ adapter });
    return { prisma, adapter, kind: "postgres", close: () => prisma.$disconnect() };
  }
  const dir = opts.pgliteDir ?? path.join(dataDir(), "pglite");
  if (!dir.startsWith("memory://")) mkdirSync(dir, { recursive: true });
  const pglite = new PGlite(dir);
  await pglite.waitReady;
  const adapter = new PrismaPGlite(pglite) as unknown as SqlMigrationAwareDriverAdapterFactory;
  const prisma = new PrismaClient({ adapter: adapter as never });
  return {
    prisma,
    adapter,
    kind: "pglite",
    close: async () => {
      await prisma.$disconnect();
      await pglite.close();
    },
  };
}
