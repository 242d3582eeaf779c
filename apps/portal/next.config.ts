import path from "node:path";
import type { NextConfig } from "next";

const root = path.resolve(import.meta.dirname, "../..");

const config: NextConfig = {
  poweredByHeader: false,
  // Separate build folders let several builds coexist on one machine (parallel work, CI).
  distDir: process.env.NEXT_DIST_DIR ?? ".next",
  // Types are checked by `npm test` (tsc over the whole workspace), not on every build.
  typescript: { ignoreBuildErrors: true },
  reactStrictMode: true,
  outputFileTracingRoot: root,
  turbopack: { root },
  // Domain packages are TypeScript source in the workspace.
  transpilePackages: [
    "@attested/db",
    "@attested/errors",
    "@attested/events",
    "@attested/identity",
    "@attested/pki",
    "@attested/der",
    "@attested/acme",
    "@attested/attestation",
    "@attested/secrets",
    "@attested/integrations",
    "@attested/log",
    "@attested/policy",
    "@attested/variables",
  ],
  // Native, WebAssembly or process-wide packages load from node_modules at run time.
  serverExternalPackages: [
    "@electric-sql/pglite",
    "pglite-prisma-adapter",
    "pg",
    "postgres",
    "undici",
    "@node-rs/argon2",
    "node-webcrypto-p11",
    "graphene-pk11",
    "pkcs11js",
    "@prisma/schema-engine-wasm",
    "cbor-x",
    "pino",
    "prom-client",
  ],
  experimental: { serverActions: { bodySizeLimit: "1mb" } },
};

export default config;
