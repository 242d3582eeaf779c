// Run by embedded-crash.test.ts as its own process: migrates the embedded database in PGLITE_DIR as
// the server's first start does, and kills itself (SIGKILL) the moment migration number
// KILL_AFTER_SCRIPT's SQL has run, before Prisma's engine records it finished: the crash a kill -9
// during `npm start`'s first run can land on.
import "reflect-metadata";
import type { Database } from "@attested/db";
import { openDatabase } from "@attested/db";
import { migrateDatabase } from "@attested/db/migrate";

const killAfter = Number(process.env.KILL_AFTER_SCRIPT);
const db = await openDatabase({ pgliteDir: process.env.PGLITE_DIR });
let scripts = 0;
const adapter: Database["adapter"] = Object.assign(Object.create(db.adapter), {
  connect: async () => {
    const conn = await db.adapter.connect();
    return Object.assign(Object.create(conn), {
      async executeScript(script: string) {
        await conn.executeScript(script);
        if (++scripts === killAfter) {
          // The script has run when a statement queued after it answers (PGlite runs them in order).
          await conn.queryRaw({ sql: "SELECT 1", args: [], argTypes: [] });
          process.kill(process.pid, "SIGKILL");
          await new Promise(() => {});
        }
      },
    });
  },
});
await migrateDatabase({ kind: "pglite", adapter }, undefined);
process.stderr.write(`migrated without reaching migration ${killAfter}\n`);
process.exit(3);
