import { createMigration } from "../migrate";

const name = process.argv[2];
if (!name) {
  process.stderr.write("usage: npm run migrate:create -- <name>\n");
  process.exit(2);
}
const folder = await createMigration(name);
process.stdout.write(`${folder ? `created ${folder}` : "schema unchanged: no migration created"}\n`);
