import { createMigration } from "../migrate";

const name = process.argv[2];
if (!name) {
  console.error("usage: npm run migrate:create -- <name>");
  process.exit(2);
}
const folder = await createMigration(name);
console.log(folder ? `created ${folder}` : "schema unchanged: no migration created");
