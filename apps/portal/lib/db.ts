import { openDatabase, type Database, type Db } from "@attested/db";

// One database handle per process, shared with the custom server (server/main.ts), which opens it,
// migrates and bootstraps before Next.js serves anything. Embedded PGlite allows only one opener.
const g = globalThis as unknown as { __attestedDatabase?: Promise<Database> };

export function database(): Promise<Database> {
  return (g.__attestedDatabase ??= openDatabase());
}

export async function getDb(): Promise<Db> {
  return (await database()).prisma;
}
