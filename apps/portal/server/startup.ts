import type { Db } from "@attested/db";
import type { Logger } from "pino";

/** Steps run once per start after migrations and bootstrap (e.g. the organization's root CA). */
export const startupHooks: Array<(db: Db, log: Logger) => Promise<void>> = [];
