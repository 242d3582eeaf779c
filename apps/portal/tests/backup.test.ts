import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enroll, generateDevices, type SimulatedAppleCa } from "@attested/device-sim";
import { adminApiToken, adminCli, setUpAcmePlatform, startPortal, tempDir, type PortalProcess } from "./harness";

// `npm run admin -- backup FILE` while the embedded portal serves, and `restore FILE` into a new data
// folder: the restored portal has exactly the certificates and events of the backup's time, answers
// OCSP and CRLs for them, and a wrong master key is one clear error that writes nothing.
describe("backup and restore of the embedded database", () => {
  const MASTER_KEY = "5a".repeat(32);
  const dataDir = tempDir("attested-backup-");
  const work = tempDir("attested-backup-files-");
  const env = {
    DATABASE_URL: "",
    DATA_DIR: dataDir,
    MASTER_KEY,
    LIFECYCLE_WORKER: "off",
    ADMIN_EMAIL: "backup@example.com",
    ADMIN_PASSWORD: "backup-admin-pass-64",
  };
  const devices = generateDevices(3, "BKP");
  const stops: (() => Promise<void>)[] = [];
  let portal: PortalProcess;
  let token = "";
  let profile = "";
  let simCa: SimulatedAppleCa;

  const api = async (base: string, method: string, p: string, body?: unknown) => {
    const res = await fetch(`${base}/api/v1${p}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${text}`);
    return JSON.parse(text);
  };

  beforeAll(async () => {
    token = adminApiToken(env);
    portal = await startPortal(env);
    stops.push(() => portal.stop());
    const platform = await setUpAcmePlatform((method, p, body) => api(portal.url, method, p, body));
    simCa = platform.simCa;
    const dmp = { id: platform.dmpId };
    const res = await fetch(`${portal.url}/api/v1/device-management-platforms/${dmp.id}/profile`, { headers: { authorization: `Bearer ${token}` } });
    profile = await res.text();
  }, 180_000);
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  });

  const openssl = (...args: string[]) => execFileSync("openssl", args, { encoding: "utf8", cwd: work });
  const serialOf = (pem: string) => {
    writeFileSync(path.join(work, "leaf.pem"), pem);
    return openssl("x509", "-in", "leaf.pem", "-noout", "-serial")
      .trim()
      .replace(/^serial=/, "")
      .toLowerCase();
  };
  /** The leaf's OCSP status and whether the CRL lists it, asked of `base` (the URLs in the certificate name the first portal). */
  async function revocation(base: string, chainPem: string) {
    const pems = chainPem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)!;
    writeFileSync(path.join(work, "leaf.pem"), `${pems[0]}\n`);
    writeFileSync(path.join(work, "issuer.pem"), `${pems[1]}\n`);
    writeFileSync(path.join(work, "chain.pem"), `${pems.slice(1).join("\n")}\n`);
    const local = (url: string) => `${base}${new URL(url).pathname}`;
    const ocspUrl = local(openssl("x509", "-in", "leaf.pem", "-noout", "-ocsp_uri").trim());
    openssl("ocsp", "-issuer", "issuer.pem", "-cert", "leaf.pem", "-no_nonce", "-reqout", "req.der");
    const { readFileSync } = await import("node:fs");
    const resp = await fetch(ocspUrl, {
      method: "POST",
      headers: { "content-type": "application/ocsp-request" },
      body: readFileSync(path.join(work, "req.der")),
    });
    expect(resp.status).toBe(200);
    writeFileSync(path.join(work, "resp.der"), new Uint8Array(await resp.arrayBuffer()));
    const text = openssl("ocsp", "-respin", "resp.der", "-issuer", "issuer.pem", "-cert", "leaf.pem", "-CAfile", "chain.pem", "-partial_chain");
    const crlUrl = local(/URI:(\S+)/.exec(openssl("x509", "-in", "leaf.pem", "-noout", "-ext", "crlDistributionPoints"))![1]!);
    const crl = await fetch(crlUrl);
    expect(crl.status).toBe(200);
    writeFileSync(path.join(work, "crl.der"), new Uint8Array(await crl.arrayBuffer()));
    const crlText = openssl("crl", "-inform", "DER", "-in", "crl.der", "-noout", "-text", "-CAfile", "chain.pem");
    return { ocsp: /leaf\.pem: (\S+)/.exec(text)?.[1], crlIssuer: /Issuer: (.*)/.exec(crlText)?.[1] };
  }

  it("restores exactly the certificates and events of the backup's time, which OCSP and CRLs answer for", async () => {
    const before = [await enroll({ profile, device: devices[0]!, ca: simCa }), await enroll({ profile, device: devices[1]!, ca: simCa })];
    const file = path.join(work, "attested.backup");
    const made = adminCli(env, "backup", file);
    expect(made.status, made.output).toBe(0);
    expect(made.output).toMatch(/made by the running portal, pid \d+/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // Only this OS user may ask the running portal for a copy: the socket is owner-only, in an owner-only folder.
    expect(statSync(path.join(dataDir, "admin.sock")).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    const after = await enroll({ profile, device: devices[2]!, ca: simCa });
    const issuedEvents = async (base: string) => (await api(base, "GET", `/events?type=${encodeURIComponent("Certificate Issued")}&limit=50`)).data.length;
    expect(await issuedEvents(portal.url)).toBe(3);

    // A wrong master key: one clear line, and the new data folder stays without a database.
    const restoredDir = tempDir("attested-restored-");
    const wrong = adminCli({ ...env, DATA_DIR: restoredDir, MASTER_KEY: "a7".repeat(32) }, "restore", file);
    expect(wrong.status).toBe(1);
    expect(wrong.output).toContain("the master key does not open this backup's CA keys");
    expect(wrong.output).toContain("nothing was restored");
    expect(existsSync(path.join(restoredDir, "pglite"))).toBe(false);
    // Not a backup at all.
    writeFileSync(path.join(work, "not-a-backup"), "hello");
    const junk = adminCli({ ...env, DATA_DIR: restoredDir }, "restore", path.join(work, "not-a-backup"));
    expect(junk.status).toBe(1);
    expect(junk.output).toContain("not a backup made by `npm run admin -- backup`");
    expect(readdirSync(restoredDir)).toEqual([]);

    const restored = adminCli({ ...env, DATA_DIR: restoredDir }, "restore", file);
    expect(restored.status, restored.output).toBe(0);
    // A restore never overwrites a database.
    expect(adminCli({ ...env, DATA_DIR: restoredDir }, "restore", file).output).toContain("already holds a database");

    const second = await startPortal({ ...env, DATA_DIR: restoredDir });
    stops.push(() => second.stop());
    const certs = (await api(second.url, "GET", "/certificates?limit=50")).data as { serialNumber: string; deviceSerial: string | null }[];
    const serials = certs.map((c) => c.serialNumber.toLowerCase());
    for (const r of before) expect(serials).toContain(serialOf(r.certificatePem));
    expect(serials).not.toContain(serialOf(after.certificatePem));
    expect(await issuedEvents(second.url)).toBe(2);
    for (const r of before) {
      const status = await revocation(second.url, r.chainPem);
      expect(status.ocsp).toBe("good");
      expect(status.crlIssuer).toContain("Devices CA");
    }
  }, 300_000);

  it("on PostgreSQL, points to pg_dump", () => {
    const r = adminCli({ ...env, DATABASE_URL: "postgresql://127.0.0.1:1/none" }, "backup", path.join(work, "pg.backup"));
    expect(r.status).toBe(2);
    expect(r.output).toContain("pg_dump");
  });
});
