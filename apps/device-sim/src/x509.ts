// @peculiar/x509 needs the Reflect metadata polyfill before it loads, and WebCrypto set on Node 20.
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

export const crypto = webcrypto as unknown as Crypto;
x509.cryptoProvider.set(crypto);

export { x509 };
