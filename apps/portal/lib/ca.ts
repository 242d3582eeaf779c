import type { KeyStore } from "@attested/pki";
import { databaseKeyStore, type CaContext } from "@attested/ca";
import { publicUrl } from "./config";
import { getDb } from "./db";

const g = globalThis as unknown as { __attestedKeyStore?: KeyStore };

/** The CA service context of this process (one key store, so unsealed keys are cached once). */
export async function caContext(): Promise<CaContext> {
  const db = await getDb();
  return { db, keyStore: (g.__attestedKeyStore ??= databaseKeyStore(db)), publicUrl: publicUrl() };
}
