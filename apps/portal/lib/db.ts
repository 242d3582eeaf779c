import type { Database, Db } from "@attested/db";
import { services } from "../server/services";

// The process's database, opened, migrated and bootstrapped by the server (server/main.ts) before
// Next.js serves anything; reached through the services bridge (server/services.ts).
export async function database(): Promise<Database> {
  return (await services()).database;
}

export async function getDb(): Promise<Db> {
  return (await services()).database.prisma;
}
