import type { Db } from "@attested/db";
import { databaseKeyStore, ensureOrganizationRootCa } from "@attested/ca";
import type { Logger } from "pino";

/** Steps run once per start after migrations and bootstrap. */
export const startupHooks: Array<(db: Db, log: Logger) => Promise<void>> = [
  // The default Root CA that comes with the organization.
  async (db, log) => {
    const publicUrl = (process.env.PUBLIC_URL ?? "").replace(/\/+$/, "");
    const ca = await ensureOrganizationRootCa({ db, keyStore: databaseKeyStore(db), publicUrl });
    if (ca) log.info({ caId: ca.id, commonName: ca.commonName }, "organization root CA created");
  },
];
