import { defineConfig } from "prisma/config";

// The CLI is used for `prisma generate` only; migrations go through packages/db/src/migrate.ts.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://localhost/unused" },
});
