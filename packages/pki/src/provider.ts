// @peculiar/x509 resolves its algorithm registry through tsyringe, which needs the Reflect metadata
// polyfill loaded before the library itself.
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

/** Node's WebCrypto, typed as the DOM Crypto that @peculiar/x509 expects. */
export const crypto = webcrypto as unknown as Crypto;
x509.cryptoProvider.set(crypto);

export { x509 };

// Keys another WebCrypto holds (a PKCS#11 token's) carry it, under a registered symbol: Next.js bundles
// its own copy of this module, and a key made by the server's copy must sign through it there too.
const PROVIDER = Symbol.for("attested.keyProvider");

/** Says which WebCrypto signs with `key` (a key store whose keys are not this process's). */
export function registerKeyProvider(key: CryptoKey, provider: Crypto): void {
  Object.defineProperty(key, PROVIDER, { value: provider, enumerable: false });
}

/** The WebCrypto that can sign with `key`: its key store's, else Node's. */
export const cryptoFor = (key: CryptoKey): Crypto => (key as { [PROVIDER]?: Crypto })[PROVIDER] ?? crypto;
