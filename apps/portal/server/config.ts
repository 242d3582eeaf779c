// The server's settings: every environment variable the portal and its packages use, read once at start
// and checked here, so a wrong value stops the start with one line naming it (the exit code of a setting
// that cannot work, as for a port that cannot be had). Packages never read the environment: services.ts
// hands them these values. Each entry's description and default are also README's configuration table
// (scripts/config-table.ts prints it; tests/config.test.ts fails when the two differ).
import path from "node:path";
import { z } from "zod";
import { repoRoot } from "@attested/db";
import { parseRoleMappings, type RoleMapping, type SsoEnvironment } from "@attested/identity";
import { parseMasterKey } from "@attested/secrets";

const text = z.string().trim();
const optional = text.optional();
// As before this module: exactly "1" turns a switch on, anything else leaves it off.
const flag = optional.transform((v) => v === "1");
const intIn = (min: number, max: number) =>
  z.coerce
    .number({ error: `must be a whole number from ${min} to ${max}` })
    .int({ error: `must be a whole number from ${min} to ${max}` })
    .min(min, { error: `must be a whole number from ${min} to ${max}` })
    .max(max, { error: `must be a whole number from ${min} to ${max}` });
const port = intIn(1, 65535);

const isMasterKey = (v: string) => {
  try {
    return parseMasterKey(v).length === 32;
  } catch {
    return false;
  }
};

/** "host:port" or "[v6]:port". */
const address = text.transform((v, ctx) => {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(v);
  const p = Number(m?.[3]);
  if (!m || p < 1 || p > 65535) {
    ctx.addIssue({ code: "custom", message: `must be host:port, such as 127.0.0.1:9464 (got "${v}")` });
    return z.NEVER;
  }
  return { host: m[1] ?? m[2]!, port: p };
});

interface Setting<S extends z.ZodType> {
  /** What it does, as the README says it (Markdown). */
  description: string;
  /** The default as shown to operators, when there is one. */
  default?: string;
  schema: S;
}
const setting = <S extends z.ZodType>(s: Setting<S>) => s;

/** Every variable, in README's order. */
export const SETTINGS = {
  PORT: setting({ description: "listen port", default: "3000", schema: port.default(3000) }),
  HOST: setting({
    description: "listen address (`::` or `0.0.0.0` for every interface, `127.0.0.1` for this host only)",
    default: "0.0.0.0",
    schema: text.default("0.0.0.0"),
  }),
  PUBLIC_URL: setting({
    description:
      "the URL devices and browsers use (e.g. `https://pki.example.com`); every URL in ACME responses, profiles, CRL DP and AIA is built from it, never from the Host header",
    default: "http://localhost:PORT",
    schema: z.url({ protocol: /^https?$/ }).optional(),
  }),
  DATABASE_URL: setting({ description: "PostgreSQL; unset = embedded PGlite in `DATA_DIR`", schema: z.url({ protocol: /^postgres(ql)?$/ }).optional() }),
  DATA_DIR: setting({
    description: "embedded database and key file; made 0700 with owner-only files at every start",
    default: "ATTESTED_ROOT/data",
    schema: optional,
  }),
  ATTESTED_ROOT: setting({
    description: "the installation folder (migrations, `data`); found from the working folder by default (the nearest one holding `pnpm-workspace.yaml`)",
    schema: optional,
  }),
  MASTER_KEY: setting({
    description:
      "32 bytes (base64 or hex) that wrap every CA key and stored secret; unset = the key file `MASTER_KEY_FILE`, created with mode 0600 on first start",
    schema: optional.refine((v) => v === undefined || isMasterKey(v), "must be 32 bytes, as 64 hex digits or base64"),
  }),
  MASTER_KEY_FILE: setting({ description: "where the master key is kept when `MASTER_KEY` is unset", default: "DATA_DIR/master.key", schema: optional }),
  PKCS11_MODULE: setting({
    description:
      "path of a hardware security module's PKCS#11 library (e.g. `/usr/lib/softhsm/libsofthsm2.so`, YubiHSM 2's `yubihsm_pkcs11.so`, Luna's `libCryptoki2_64.so`, CloudHSM's `libcloudhsm_pkcs11.so`); set = *Generate via: Hardware security module (PKCS#11)* on Add Certificate Authority (see *CA keys in a hardware security module*)",
    schema: optional,
  }),
  PKCS11_TOKEN_LABEL: setting({ description: "the token holding the CA keys, by label (or `PKCS11_SLOT`)", schema: optional }),
  PKCS11_SLOT: setting({ description: "the token by slot index, when `PKCS11_TOKEN_LABEL` is unset", default: "0", schema: intIn(0, 1_000_000).optional() }),
  PKCS11_PIN: setting({ description: "the token's user PIN (or `PKCS11_PIN_FILE`); never stored in the database", schema: optional }),
  PKCS11_PIN_FILE: setting({ description: "a file holding the user PIN (read at each login, e.g. a mounted secret)", schema: optional }),
  ADMIN_EMAIL: setting({ description: "the first admin, on first start only", default: "admin@example.com", schema: optional }),
  ADMIN_PASSWORD: setting({
    description: "the first admin's password, on first start only; unset = a generated one, printed once on the console",
    schema: optional,
  }),
  ORGANIZATION_NAME: setting({ description: "the organization's name, on first start only", default: "My Organization", schema: optional }),
  TRUST_PROXY: setting({
    description:
      "which proxies may name the client in `X-Forwarded-For` (the address sign-in throttling counts). Unset, `false` or `0`: none, the TCP peer is the client. A number N: the N proxies nearest the server; the client is the N-th address from the right of the chain (peer included), so `1` = one proxy and the right-most `X-Forwarded-For` entry it appended. `true`: proxies on loopback, link-local and private addresses; the client is the right-most address that is not one of those. A comma-separated list of addresses or CIDR ranges: those proxies. Addresses further left are the client's own claims and are never used. With `TRUST_PROXY` set, the server's port must be reachable only through those proxies",
    schema: text.default(""),
  }),
  DATABASE_POOL_SIZE: setting({
    description: "PostgreSQL connections per server process for the portal and API",
    default: "10",
    schema: intIn(1, 1000).default(10),
  }),
  DATABASE_SQL_POOL_SIZE: setting({
    description:
      "PostgreSQL connections per server process for the enrollment path; its statements are pipelined, so a few connections carry many concurrent requests, and fewer connections cost PostgreSQL less CPU",
    default: "one per two cores, 1 to 4",
    schema: intIn(1, 1000).optional(),
  }),
  WEB_CONCURRENCY: setting({
    description: "server processes on this host, PostgreSQL only; e.g. the number of cores",
    default: "1",
    schema: intIn(1, 1024).default(1),
  }),
  TLS_CERT_FILE: setting({ description: "with `TLS_KEY_FILE`: serve https directly (otherwise terminate TLS at a proxy)", schema: optional }),
  TLS_KEY_FILE: setting({ description: "the private key of `TLS_CERT_FILE`", schema: optional }),
  LIFECYCLE_WORKER: setting({
    description: "`off` disables the background jobs in this instance (mail, sweeps, retention)",
    default: "on",
    schema: text.default("on"),
  }),
  LIFECYCLE_LOOKUPS_PER_HOUR: setting({
    description: "MDM lookups the Revoke On Failure sweep may spend per hour per Core Platform (Kandji allows 10,000)",
    default: "4000",
    schema: intIn(1, 1_000_000).default(4000),
  }),
  LIFECYCLE_DEVICE_RECHECK_MINUTES: setting({
    description: "how often a device is looked up again by the sweep, and how often a Core Platform's whole Fleet Inventory is read",
    default: "60",
    schema: z.coerce.number({ error: "must be a number of minutes" }).positive({ error: "must be a number of minutes" }).default(60),
  }),
  LIFECYCLE_EXPORT_MAX_ROWS: setting({
    description: "the most rows one General Events CSV export streams",
    default: "1000000",
    schema: intIn(1, 1_000_000_000).default(1_000_000),
  }),
  ATTESTATION_TEST_ROOTS: setting({
    description:
      "`1` lets a Key Attestation Platform's *Additional trusted roots (FOR TESTING ONLY)* count (the demo and the tests); otherwise only Apple's root is trusted, stored test roots are ignored and the field is read-only",
    schema: flag,
  }),
  PROFILE_PUBLISH_GRACE_SECONDS: setting({
    description: "after a rotation, how long a platform published to Kandji still accepts the previous enrollment secret once the new profile is published",
    default: "86400",
    schema: intIn(0, 2_592_000).default(86_400),
  }),
  OIDC_ISSUER: setting({
    description:
      "single sign-on from the environment: the OpenID Connect issuer URL (https); with it, `OIDC_CLIENT_ID`, `OIDC_CLIENT_SECRET` and `OIDC_ROLE_MAPPINGS` are required and *Settings > Single sign-on* shows them read-only",
    schema: optional.refine((v) => v === undefined || /^https:\/\/|^http:\/\/(localhost|127\.0\.0\.1|\[::1\])[:/]/.test(v), "must be an https URL"),
  }),
  OIDC_CLIENT_ID: setting({ description: "the portal's client ID at the provider", schema: optional }),
  OIDC_CLIENT_SECRET: setting({ description: "its client secret (never stored in the database nor shown)", schema: optional }),
  OIDC_GROUPS_CLAIM: setting({ description: "the ID token claim listing the user's groups", default: "groups", schema: text.default("groups") }),
  OIDC_ROLE_MAPPINGS: setting({
    description: "which groups are Admin and which Auditor: `pki-admins=Admin,pki-auditors=Auditor`",
    schema: optional,
  }),
  INTEGRATIONS_ALLOW_HTTP: setting({
    description: "`1` lets Generic HTTP sources use plain http (the demo's simulator only); otherwise https with verified TLS",
    schema: optional,
  }),
  ACME_DNS_SERVERS: setting({
    description: "DNS servers for dns-01 validation (comma-separated; default: the system's)",
    schema: optional.transform((v) =>
      v
        ?.split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  }),
  ACME_HTTP01_PORT: setting({ description: "http-01 validation port", default: "80", schema: port.optional() }),
  ACME_HTTP01_ADDRESS: setting({
    description: "on test networks only, a fixed address every http-01 check connects to (an internal one also needs `ACME_VALIDATION_ALLOW_PRIVATE=1`)",
    schema: optional,
  }),
  ACME_VALIDATION_ALLOW_PRIVATE: setting({
    description:
      "`1` lets http-01 validation connect to loopback, private, link-local and other internal addresses, and orders name internal IP addresses (test networks only); otherwise only global unicast addresses are validated",
    schema: flag,
  }),
  METRICS_TOKEN: setting({
    description:
      "serve `/metrics` on the main port to `Authorization: Bearer <METRICS_TOKEN>` only (401 otherwise); unset and without `METRICS_ADDRESS`, `/metrics` is not served (404)",
    schema: optional,
  }),
  METRICS_ADDRESS: setting({
    description:
      "also serve `/metrics` on an address of its own, e.g. `127.0.0.1:9464` (reachable only where that address is; with `METRICS_TOKEN` set, the token is asked there too)",
    schema: address.optional(),
  }),
  NODE_ENV: setting({
    description: "`development` runs Next.js in development mode (`next dev`'s compiler, relaxed page CSP)",
    default: "production",
    schema: text.default("production"),
  }),
  NEXT_DIST_DIR: setting({
    description: "one Next.js build folder (relative to `apps/portal`) to build into and serve, instead of the build of the sources as they are (see *Builds*)",
    default: "`.next-builds/<source hash>`",
    schema: optional,
  }),
} as const;

type Values = { [K in keyof typeof SETTINGS]: z.output<(typeof SETTINGS)[K]["schema"]> };

/** The server's settings, checked, with the values derived from them (PUBLIC_URL normalized once, paths resolved). */
export interface Config {
  port: number;
  host: string;
  /** No trailing slash: every URL handed out is built from it. */
  publicUrl: string;
  database: { url?: string; poolSize: number; sqlPoolSize?: number };
  /** The installation folder and the data folder (absolute). */
  root: string;
  dataDir: string;
  masterKey: { value?: string; file: string };
  /** The HSM new CA keys may be made in; null = none (software keys only). */
  pkcs11: { module: string; tokenLabel?: string; slot?: number; pin: { value?: string; file?: string } } | null;
  bootstrap: { adminEmail?: string; adminPassword?: string; organizationName?: string };
  trustProxy: string;
  workers: number;
  tls: { certFile: string; keyFile: string } | null;
  lifecycle: { worker: boolean; lookupsPerHour: number; deviceRecheckMinutes: number; exportMaxRows: number };
  attestationTestRoots: boolean;
  integrationsAllowHttp: boolean;
  /** PROFILE_PUBLISH_GRACE_SECONDS */
  publishGraceSeconds: number;
  /** Single sign-on set by the environment (OIDC_*), or null: then Settings > Single sign-on decides. */
  sso: SsoEnvironment | null;
  acme: { http01Port?: number; http01Address?: string; allowPrivateAddresses: boolean; dnsServers?: string[] };
  metrics: { token: string | null; address: { host: string; port: number } | null };
  dev: boolean;
  nextDistDir: string | undefined;
}

// Never echoed back in an error line.
const SECRET = /PASSWORD|MASTER_KEY$|TOKEN$|_PIN$|DATABASE_URL|_SECRET$/;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
  }
}

/** Reads and checks every setting; a ConfigError lists one line per bad value. Empty means unset. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const problems: string[] = [];
  const v = {} as Record<string, unknown>;
  for (const [name, s] of Object.entries(SETTINGS)) {
    const raw = env[name] === "" ? undefined : env[name];
    const r = (s.schema as z.ZodType).safeParse(raw);
    if (r.success) v[name] = r.data;
    else
      problems.push(
        `${name}: ${r.error.issues[0]?.message ?? "invalid"}${raw !== undefined && !SECRET.test(name) && !r.error.issues[0]?.message.includes("(got") ? ` (got "${raw}")` : ""}`,
      );
  }
  const s = v as Values;
  if (Boolean(s.TLS_CERT_FILE) !== Boolean(s.TLS_KEY_FILE)) problems.push("TLS_CERT_FILE and TLS_KEY_FILE: set both, or neither");
  if (s.PKCS11_MODULE && !s.PKCS11_PIN && !s.PKCS11_PIN_FILE) problems.push("PKCS11_MODULE: set PKCS11_PIN or PKCS11_PIN_FILE too");
  if (!s.PKCS11_MODULE && (s.PKCS11_TOKEN_LABEL || s.PKCS11_SLOT !== undefined || s.PKCS11_PIN || s.PKCS11_PIN_FILE))
    problems.push("PKCS11_MODULE: required with the other PKCS11_ settings");
  const oidc = [s.OIDC_ISSUER, s.OIDC_CLIENT_ID, s.OIDC_CLIENT_SECRET, s.OIDC_ROLE_MAPPINGS];
  if (oidc.some(Boolean) && !oidc.every(Boolean))
    problems.push("OIDC_ISSUER: set OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET and OIDC_ROLE_MAPPINGS together");
  let mappings: RoleMapping[] = [];
  try {
    mappings = parseRoleMappings((s.OIDC_ROLE_MAPPINGS ?? "").split(",").join("\n"));
  } catch (e) {
    problems.push(`OIDC_ROLE_MAPPINGS: ${(e as Error).message.replace(/^Line (\d+)/, "mapping $1")}`);
  }
  if (problems.length) throw new ConfigError(problems);
  const root = s.ATTESTED_ROOT ? path.resolve(/*turbopackIgnore: true*/ s.ATTESTED_ROOT) : repoRoot();
  const dataDir = s.DATA_DIR ? path.resolve(/*turbopackIgnore: true*/ s.DATA_DIR) : path.join(/*turbopackIgnore: true*/ root, "data");
  return {
    port: s.PORT,
    host: s.HOST,
    publicUrl: (s.PUBLIC_URL ?? `http://localhost:${s.PORT}`).replace(/\/+$/, ""),
    database: { url: s.DATABASE_URL, poolSize: s.DATABASE_POOL_SIZE, sqlPoolSize: s.DATABASE_SQL_POOL_SIZE },
    root,
    dataDir,
    masterKey: {
      value: s.MASTER_KEY,
      file: s.MASTER_KEY_FILE ? path.resolve(/*turbopackIgnore: true*/ s.MASTER_KEY_FILE) : path.join(/*turbopackIgnore: true*/ dataDir, "master.key"),
    },
    pkcs11: s.PKCS11_MODULE
      ? {
          module: s.PKCS11_MODULE,
          tokenLabel: s.PKCS11_TOKEN_LABEL,
          slot: s.PKCS11_SLOT,
          pin: { value: s.PKCS11_PIN, file: s.PKCS11_PIN_FILE ? path.resolve(/*turbopackIgnore: true*/ s.PKCS11_PIN_FILE) : undefined },
        }
      : null,
    bootstrap: { adminEmail: s.ADMIN_EMAIL, adminPassword: s.ADMIN_PASSWORD, organizationName: s.ORGANIZATION_NAME },
    trustProxy: s.TRUST_PROXY,
    // Embedded PGlite allows one opener: one process; at most 32.
    workers: s.DATABASE_URL ? Math.min(s.WEB_CONCURRENCY, 32) : 1,
    tls: s.TLS_CERT_FILE && s.TLS_KEY_FILE ? { certFile: s.TLS_CERT_FILE, keyFile: s.TLS_KEY_FILE } : null,
    lifecycle: {
      worker: s.LIFECYCLE_WORKER !== "off",
      lookupsPerHour: s.LIFECYCLE_LOOKUPS_PER_HOUR,
      deviceRecheckMinutes: s.LIFECYCLE_DEVICE_RECHECK_MINUTES,
      exportMaxRows: s.LIFECYCLE_EXPORT_MAX_ROWS,
    },
    attestationTestRoots: s.ATTESTATION_TEST_ROOTS,
    integrationsAllowHttp: /^(1|true|yes)$/i.test(s.INTEGRATIONS_ALLOW_HTTP ?? ""),
    publishGraceSeconds: s.PROFILE_PUBLISH_GRACE_SECONDS,
    sso:
      s.OIDC_ISSUER && s.OIDC_CLIENT_ID && s.OIDC_CLIENT_SECRET
        ? { issuer: s.OIDC_ISSUER, clientId: s.OIDC_CLIENT_ID, clientSecret: s.OIDC_CLIENT_SECRET, groupsClaim: s.OIDC_GROUPS_CLAIM, mappings }
        : null,
    acme: {
      http01Port: s.ACME_HTTP01_PORT,
      http01Address: s.ACME_HTTP01_ADDRESS,
      allowPrivateAddresses: s.ACME_VALIDATION_ALLOW_PRIVATE,
      dnsServers: s.ACME_DNS_SERVERS,
    },
    metrics: { token: s.METRICS_TOKEN ?? null, address: s.METRICS_ADDRESS ?? null },
    dev: s.NODE_ENV === "development",
    nextDistDir: s.NEXT_DIST_DIR,
  };
}

/** README's configuration table, generated from SETTINGS. */
export function configTable(): string {
  const rows = Object.entries(SETTINGS).map(([name, s]) => {
    const d: string | undefined = "default" in s ? (s.default as string) : undefined;
    // A value in code type; a phrase ("one per two cores") as it is.
    const shown = d && (/\s/.test(d) ? d : `\`${d}\``);
    return `| \`${name}\` | ${s.description}${shown ? ` (default: ${shown})` : ""} |`;
  });
  return ["| variable | meaning |", "|---|---|", ...rows].join("\n");
}
