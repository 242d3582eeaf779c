import type { Db } from "@attested/db";
import { SealedKeyStore, type KeyAlgorithm, type KeyStore, type Pkcs11KeyStore } from "@attested/pki";
import type { OcspResponseCache } from "./ocsp";

/** What the CA service needs: the database, the key store, and the public base URL for CRL DP / AIA. */
export interface CaContext {
  db: Db;
  /** Every CA key: sealed ones and, when configured, the HSM's (a RoutedKeyStore). */
  keyStore: KeyStore;
  /** The PKCS#11 token new HSM keys are made in ("Generate via: Hardware security module"); unset = none configured. */
  hsm?: Pkcs11KeyStore;
  publicUrl: string;
  now?: () => Date;
  /** The process's reused OCSP answers (services.ts); a cache of the OCSP module's own when left out. */
  ocspResponses?: OcspResponseCache;
}

/** CA keys sealed under the master key, kept in the CaKey table. */
export function databaseKeyStore(db: Db, masterKey?: Buffer): KeyStore {
  return new SealedKeyStore(
    {
      save: async (rec) => {
        await db.caKey.create({
          data: { id: rec.id, algorithm: rec.algorithm, sealedKey: new Uint8Array(rec.sealedKey), wrappedDek: new Uint8Array(rec.wrappedDek) },
        });
      },
      load: async (id) => {
        const row = await db.caKey.findUnique({ where: { id } });
        return row
          ? { id: row.id, algorithm: row.algorithm as KeyAlgorithm, sealedKey: Buffer.from(row.sealedKey), wrappedDek: Buffer.from(row.wrappedDek) }
          : null;
      },
    },
    { masterKey },
  );
}

/** The URLs a CA publishes, from the configured public base URL (never the request's Host). */
export const caUrls = (publicUrl: string, caId: string) => ({
  crlUrl: `${publicUrl}/crl/${caId}.crl`,
  ocspUrl: `${publicUrl}/ocsp/${caId}`,
  caIssuersUrl: `${publicUrl}/ca/${caId}.cer`,
});
