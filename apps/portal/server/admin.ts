// `npm run admin -- <command>`: bootstrap and recovery with direct database access.
import "reflect-metadata";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { dataDir, ensurePrivateDir, openDatabase, secureDataDir, setPaths } from "@attested/db";
import { backupProblem, isEmptyDatabaseDir, openBackup, restoreBackup } from "@attested/db/backup";
import { loadMasterKey, openEnvelope, parseMasterKey, setMasterKey } from "@attested/secrets";
import { ConfigError, loadConfig, type Config } from "./config";
import { migrateDatabase } from "@attested/db/migrate";
import { EventType, recordEvent, systemActor } from "@attested/events";
import { createApiToken, createUser, generatePassword, resetPassword, resetSecondFactor, roleSchema } from "@attested/identity";
import { backupFromRunningPortal } from "./admin-socket";
import { assertNoEmbeddedServer, runningEmbeddedServer } from "./embedded-lock";

const usage = `usage: npm run admin -- <command>
  create-user <email> --role admin|auditor [--name NAME] [--password PW]   (prints a generated password if none is given)
  reset-password <email> [--password PW]                                  (prints a generated password if none is given)
  allow-password-sign-in                                                 (turns "Require single sign-on" off, e.g. while the provider is down)
  reset-2fa <email>                                                      (turns the user's two-factor authentication off, e.g. a lost phone)
  create-api-token <name> --role admin|auditor [--expires-days N]         (prints the token once; expires in N days, 90 by default)
  backup <file>                                                          (embedded database, also while the portal runs; on PostgreSQL use pg_dump)
  restore <file>                                                         (into an empty DATA_DIR, with the backup's master key)`;

// A command-line tool: its answers are plain lines for the operator, not log records.
const say = (line: string) => void process.stdout.write(`${line}\n`);
const complain = (line: string) => void process.stderr.write(`${line}\n`);

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
if (!command || values.help || command === "help") {
  say(usage);
  process.exit(command ? 0 : 2);
}
// What each command needs on its line, checked before the database is opened (which takes seconds).
const needs: Record<string, string | null> = {
  "create-user": "the user's email",
  "reset-password": "the user's email",
  "reset-2fa": "the user's email",
  "create-api-token": "the token's name",
  "allow-password-sign-in": null,
  backup: "the backup file",
  restore: "the backup file",
};
if (!(command in needs)) {
  complain(`error: unknown command "${command}"`);
  complain(usage);
  process.exit(2);
}
if (needs[command] && !arg) {
  complain(`error: ${command} needs ${needs[command]}`);
  complain(usage);
  process.exit(2);
}
const roleOption = roleSchema.safeParse(String(values.role ?? "").toUpperCase());
if ((command === "create-user" || command === "create-api-token") && !roleOption.success) {
  complain(`error: ${roleOption.error.issues[0]?.message ?? "Role must be Admin or Auditor"} (--role admin or --role auditor)`);
  process.exit(2);
}
const role = () => roleSchema.parse(roleOption.data);

// The server's settings (DATABASE_URL, DATA_DIR, MASTER_KEY, ...), read and checked the same way.
let config: Config;
try {
  config = loadConfig();
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  for (const problem of e.problems) complain(`error: ${problem}`);
  process.exit(2);
}
setPaths({ root: config.root, dataDir: config.dataDir });
secureDataDir();
if (command === "backup" || command === "restore") {
  try {
    process.exit(await (command === "backup" ? backup(arg) : restore(arg)));
  } catch (e) {
    complain(`error: ${(e as Error).message}`);
    process.exit(1);
  }
}
// Read (or created) only by a command that seals or opens a secret.
setMasterKey(() => loadMasterKey(config.masterKey));
if (!config.database.url) assertNoEmbeddedServer();
const db = await openDatabase({ url: config.database.url, poolSize: config.database.poolSize, sqlPoolSize: config.database.sqlPoolSize });
const actor = systemActor("admin-cli");
try {
  await migrateDatabase(db, config.database.url, () => complain("another instance is applying migrations: waiting for it"));
  switch (command) {
    case "create-user": {
      const password = values.password ?? generatePassword();
      const u = await createUser(db.prisma, actor, { email: arg ?? "", name: values.name ?? arg ?? "", role: role(), password });
      say(`created ${u.email} (${u.role})`);
      if (!values.password) say(`password: ${password}`);
      break;
    }
    case "reset-password": {
      const password = values.password ?? generatePassword();
      await resetPassword(db.prisma, actor, { email: arg ?? "" }, password);
      say(`password reset for ${arg}`);
      if (!values.password) say(`password: ${password}`);
      break;
    }
    case "allow-password-sign-in": {
      const { count } = await db.prisma.organization.updateMany({ where: { requireSso: true }, data: { requireSso: false } });
      if (count)
        await recordEvent(db.prisma, {
          type: EventType.SettingsUpdated,
          outcome: "success",
          actor,
          object: { type: "settings", id: "sso", name: "Single sign-on" },
          summary: "Single sign-on is no longer required (admin CLI): local accounts sign in with their password",
          details: { settings: "sso", requireSso: false },
        });
      say(count ? "single sign-on is no longer required: local accounts sign in with their password" : "single sign-on was not required");
      break;
    }
    case "reset-2fa": {
      const u = await db.prisma.user.findUnique({ where: { email: String(arg ?? "").toLowerCase() }, select: { id: true } });
      if (!u) throw new Error(`no user ${arg}`);
      await resetSecondFactor(db.prisma, actor, u.id);
      say(`two-factor authentication reset for ${arg}: they sign in with their password and set it up again`);
      break;
    }
    case "create-api-token": {
      const { token, info } = await createApiToken(db.prisma, actor, { name: arg ?? "", role: role(), expiresInDays: values["expires-days"] });
      say(`created token "${info.name}" (${info.role}), expires ${info.expiresAt.toISOString()}`);
      say(`token: ${token}`);
      break;
    }
    default:
      complain(usage);
      process.exitCode = 2;
  }
} catch (e) {
  const msg =
    e && typeof e === "object" && "issues" in e ? (e as { issues: { message: string }[] }).issues.map((i) => i.message).join("; ") : (e as Error).message;
  complain(`error: ${msg}`);
  process.exitCode = 1;
} finally {
  await db.close();
}

/** `backup FILE`: the embedded database, from the running portal when there is one. */
async function backup(file: string | undefined): Promise<number> {
  if (!file) return usageError();
  if (config.database.url) {
    complain('On PostgreSQL, back up with pg_dump, e.g.: pg_dump --format=custom --file backup.dump "$DATABASE_URL"');
    complain("and keep the master key (MASTER_KEY or DATA_DIR/master.key) apart from it.");
    return 2;
  }
  const server = runningEmbeddedServer();
  let archive: Uint8Array;
  if (server) archive = await backupFromRunningPortal(dataDir());
  else {
    const db = await openDatabase();
    try {
      archive = await db.dump!();
    } finally {
      await db.close();
    }
  }
  // Written whole or not at all, owner-only: it holds the sealed CA keys and secrets.
  const tmp = `${path.resolve(file)}.${process.pid}.tmp`;
  writeFileSync(tmp, archive, { mode: 0o600 });
  renameSync(tmp, file);
  say(
    `backup of the embedded database written to ${file} (${(archive.length / 2 ** 20).toFixed(1)} MiB${server ? `, made by the running portal, pid ${server}` : ""})`,
  );
  say("Keep the master key (MASTER_KEY or DATA_DIR/master.key) too, and apart from the backup: the backup cannot be used without it.");
  return 0;
}

/** `restore FILE`: into an empty data folder, after checking that the master key opens the backup's CA keys. */
async function restore(file: string | undefined): Promise<number> {
  if (!file) return usageError();
  if (config.database.url) {
    complain("On PostgreSQL, restore with pg_restore into an empty database, then start the portal with the same master key.");
    return 2;
  }
  if (runningEmbeddedServer()) throw new Error(`a portal is running on ${dataDir()}: restore into an empty data folder`);
  const target = path.join(dataDir(), "pglite");
  if (!isEmptyDatabaseDir(target)) throw new Error(`${dataDir()} already holds a database: restore into an empty data folder (DATA_DIR)`);
  const key = existingMasterKey();
  if (!key) throw new Error("restore needs the backup's master key: set MASTER_KEY or MASTER_KEY_FILE, or put master.key in DATA_DIR");
  const archive = new Uint8Array(readFileSync(file));
  const problem = backupProblem(archive);
  if (problem) throw new Error(`${file} is ${problem}`);
  // Before anything is written: the key must open what the backup sealed with it.
  const keys = await openBackup(archive, (query) =>
    query<{ id: string; sealedKey: Uint8Array; wrappedDek: Uint8Array }>(`SELECT id, "sealedKey", "wrappedDek" FROM "CaKey"`),
  );
  for (const k of keys) {
    try {
      openEnvelope({ wrappedDek: Buffer.from(k.wrappedDek), sealed: Buffer.from(k.sealedKey) }, `ca-key:${k.id}`, key);
    } catch {
      throw new Error("the master key does not open this backup's CA keys (wrong MASTER_KEY or master.key): nothing was restored");
    }
  }
  ensurePrivateDir();
  await restoreBackup(archive, target);
  secureDataDir();
  say(`restored ${file} into ${dataDir()} (${keys.length} CA keys open with this master key); start the portal with the same master key`);
  return 0;
}

/** The master key from MASTER_KEY, MASTER_KEY_FILE or DATA_DIR/master.key; null when there is none (never made up here). */
function existingMasterKey(): Buffer | null {
  const { value, file } = config.masterKey;
  if (value) return parseMasterKey(value);
  return existsSync(file) ? parseMasterKey(readFileSync(file, "utf8")) : null;
}

function usageError(): number {
  complain(usage);
  return 2;
}
