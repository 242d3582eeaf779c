import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, configTable, loadConfig, SETTINGS } from "../server/config";

const readme = readFileSync(path.resolve(import.meta.dirname, "../../../README.md"), "utf8");

describe("server configuration", () => {
  it("README's configuration table is the one config.ts generates (node --import tsx scripts/config-table.ts)", () => {
    const start = readme.indexOf("| variable | meaning |");
    const table = readme.slice(start, readme.indexOf("\n\n", start));
    expect(table).toBe(configTable());
  });

  it("defaults: PUBLIC_URL from PORT, embedded database, one process, no metrics", () => {
    const c = loadConfig({ PORT: "4000", DATA_DIR: "/tmp/attested-data", WEB_CONCURRENCY: "4" });
    expect(c.publicUrl).toBe("http://localhost:4000");
    expect(c.host).toBe("0.0.0.0");
    expect(c.database.url).toBeUndefined();
    expect(c.workers).toBe(1); // PGlite allows one opener
    expect(c.masterKey.file).toBe("/tmp/attested-data/master.key");
    expect(c.metrics).toEqual({ token: null, address: null });
    expect(c.lifecycle).toEqual({ worker: true, lookupsPerHour: 4000, deviceRecheckMinutes: 60, exportMaxRows: 1_000_000 });
  });

  it("normalizes PUBLIC_URL once and reads every documented setting", () => {
    const c = loadConfig({
      PUBLIC_URL: "https://pki.example.com//",
      DATABASE_URL: "postgresql://u:p@db/attested",
      WEB_CONCURRENCY: "64",
      METRICS_ADDRESS: "[::1]:9464",
      ACME_DNS_SERVERS: "10.0.0.53, 10.0.0.54",
      LIFECYCLE_WORKER: "off",
      ATTESTATION_TEST_ROOTS: "1",
    });
    expect(c.publicUrl).toBe("https://pki.example.com");
    expect(c.workers).toBe(32);
    expect(c.metrics.address).toEqual({ host: "::1", port: 9464 });
    expect(c.acme.dnsServers).toEqual(["10.0.0.53", "10.0.0.54"]);
    expect(c.lifecycle.worker).toBe(false);
    expect(c.attestationTestRoots).toBe(true);
  });

  it("refuses bad values with one line each, naming the variable and never echoing a secret", () => {
    let err: ConfigError | undefined;
    try {
      loadConfig({ PORT: "http", METRICS_ADDRESS: "9464", DATABASE_URL: "mysql://root:hunter2@db/x", TLS_CERT_FILE: "/c.pem", MASTER_KEY: "short-secret" });
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.problems).toHaveLength(5);
    expect(err!.problems).toContain("MASTER_KEY: must be 32 bytes, as 64 hex digits or base64");
    expect(err!.problems[0]).toMatch(/^PORT: .*\(got "http"\)$/);
    expect(err!.problems.find((p) => p.startsWith("METRICS_ADDRESS:"))).toContain('must be host:port, such as 127.0.0.1:9464 (got "9464")');
    expect(err!.problems.find((p) => p.startsWith("DATABASE_URL:"))).not.toContain("hunter2");
    expect(err!.problems).toContain("TLS_CERT_FILE and TLS_KEY_FILE: set both, or neither");
  });

  it("single sign-on from OIDC_*: all four together, mappings read, the secret never echoed", () => {
    const env = {
      OIDC_ISSUER: "https://login.example.com/t/v2.0",
      OIDC_CLIENT_ID: "pki",
      OIDC_CLIENT_SECRET: "s3cr3t-value",
      OIDC_ROLE_MAPPINGS: "pki-admins=Admin, auditors = Auditor",
    };
    expect(loadConfig(env).sso).toEqual({
      issuer: "https://login.example.com/t/v2.0",
      clientId: "pki",
      clientSecret: "s3cr3t-value",
      groupsClaim: "groups",
      mappings: [
        { group: "pki-admins", role: "ADMIN" },
        { group: "auditors", role: "AUDITOR" },
      ],
    });
    expect(loadConfig({}).sso).toBeNull();
    const problems = (e: Record<string, string>) => {
      try {
        loadConfig(e);
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    };
    expect(problems({ OIDC_ISSUER: env.OIDC_ISSUER })).toEqual([
      "OIDC_ISSUER: set OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET and OIDC_ROLE_MAPPINGS together",
    ]);
    expect(problems({ ...env, OIDC_ROLE_MAPPINGS: "pki-admins=Owner" })[0]).toMatch(/^OIDC_ROLE_MAPPINGS: mapping 1/);
    expect(problems({ ...env, OIDC_ISSUER: "http://idp.example.com" })[0]).toMatch(/^OIDC_ISSUER: must be an https URL/);
    expect(problems({ ...env, OIDC_ISSUER: "http://idp.example.com" }).join()).not.toContain("s3cr3t-value");
  });

  it("empty means unset", () => {
    expect(loadConfig({ DATABASE_URL: "", PORT: "" }).database.url).toBeUndefined();
    expect(Object.keys(SETTINGS)).toContain("MASTER_KEY_FILE");
  });
});
