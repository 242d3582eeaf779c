// Prints README's configuration table from the server's settings (apps/portal/server/config.ts):
// `node --import tsx scripts/config-table.ts`, then paste it under README's "## Configuration".
import { configTable } from "../apps/portal/server/config";

process.stdout.write(`${configTable()}\n`);
