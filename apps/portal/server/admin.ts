// `npm run admin -- <command>`: bootstrap and recovery with direct database access.
import "reflect-metadata";
import { parseArgs } from "node:util";
import { openDatabase, secureDataDir, usePaths } from "@attested/db";
import { applyMigrations, pendingMigrations } from "@attested/db/migrate";
import { systemActor } from "@attested/events";
import { createApiToken, createUser, generatePassword, resetPassword, roleSchema } from "@attested/identity";
import { loadMasterKey, useMasterKey } from "@attested/secrets";
import { ConfigError, loadConfig } from "./config";
import { assertNoEmbeddedServer } from "./embedded-lock";

const usage = `usage: npm run admin -- <command>
  create-user <email> --role admin|auditor [--name NAME] [--password PW]   (prints a generated password if none is given)
  reset-password <email> [--password PW]                                  (prints a generated password if none is given)
  create-api-token <name> --role admin|auditor [--expires-days N]         (prints the token once; expires in N days, 90 by default)`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    role: { type: "string" },
    name: { type: "string" },
    password: { type: "string" },
    "expires-days": { type: "string" },
    help: { type: "boolean" },
  },
});
const [command, arg] = positionals;
if (!command || values.help) {
  console.log(usage);
  process.exit(command ? 0 : 2);
}
const role = () => roleSchema.parse(String(values.role ?? "").toUpperCase());

// The server's settings (DATABASE_URL, DATA_DIR, MASTER_KEY, ...), read and checked the same way.
let config;
try {
  config = loadConfig();
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  for (const problem of e.problems) console.error(`error: ${problem}`);
  process.exit(2);
}
usePaths({ root: config.root, dataDir: config.dataDir });
secureDataDir();
// Read (or created) only by a command that seals or opens a secret.
useMasterKey(() => loadMasterKey(config.masterKey));
if (!config.database.url) assertNoEmbeddedServer();
const db = await openDatabase({ url: config.database.url, poolSize: config.database.poolSize, sqlPoolSize: config.database.sqlPoolSize });
const actor = systemActor("admin-cli");
try {
  // A running portal holds the migration lock: take it only when there is something to apply.
  if ((await pendingMigrations((sql) => db.prisma.$queryRawUnsafe(sql))).length) await applyMigrations(db.adapter);
  switch (command) {
    case "create-user": {
      const password = values.password ?? generatePassword();
      const u = await createUser(db.prisma, actor, { email: arg ?? "", name: values.name ?? arg ?? "", role: role(), password });
      console.log(`created ${u.email} (${u.role})`);
      if (!values.password) console.log(`password: ${password}`);
      break;
    }
    case "reset-password": {
      const password = values.password ?? generatePassword();
      await resetPassword(db.prisma, actor, { email: arg ?? "" }, password);
      console.log(`password reset for ${arg}`);
      if (!values.password) console.log(`password: ${password}`);
      break;
    }
    case "create-api-token": {
      const { token, info } = await createApiToken(db.prisma, actor, { name: arg ?? "", role: role(), expiresInDays: values["expires-days"] });
      console.log(`created token "${info.name}" (${info.role}), expires ${info.expiresAt.toISOString()}`);
      console.log(`token: ${token}`);
      break;
    }
    default:
      console.error(usage);
      process.exitCode = 2;
  }
} catch (e) {
  const msg = e && typeof e === "object" && "issues" in e ? (e as { issues: { message: string }[] }).issues.map((i) => i.message).join("; ") : (e as Error).message;
  console.error(`error: ${msg}`);
  process.exitCode = 1;
} finally {
  await db.close();
}
