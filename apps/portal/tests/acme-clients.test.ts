import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import https from "node:https";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminApiToken, commandExists, freePort, freshPostgres, localhostTls, startPortal, tempDir, type PortalProcess } from "./harness";

// Real ACME clients from Debian get server certificates over http-01, against our server serving TLS.
const clients = ["certbot", "lego"].filter(commandExists);

describe.skipIf(clients.length < 2)("standard ACME clients (certbot, lego) over http-01", () => {
  const dir = tempDir("acme-clients-");
  const dataDir = tempDir();
  const tls = localhostTls(dir);
  let portal: PortalProcess;
  let http01Port = 0;
  let directoryUrl = "";
  let rootPem = "";
  // A platform whose default template is the guide's, which copies the CSR's SANs.
  let guideDirectoryUrl = "";
  let token = "";
  let dropDb: (() => Promise<void>) | undefined;

  const api = (method: string, p: string, token: string, body?: unknown) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = https.request(`${portal.url}/api/v1${p}`, {
        method,
        ca: readFileSync(tls.caFile),
        headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      }, (res) => {
        let text = "";
        res.on("data", (d) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode!, text }));
      });
      req.on("error", reject);
      req.end(body ? JSON.stringify(body) : undefined);
    });

  beforeAll(async () => {
    const pg = process.env.DATABASE_URL ? await freshPostgres() : null;
    dropDb = pg?.drop;
    const env = { DATA_DIR: dataDir, DATABASE_URL: pg?.url ?? "" };
    http01Port = await freePort();
    token = adminApiToken(env);
    portal = await startPortal({
      ...env, ADMIN_PASSWORD: "bootstrap-password-1", TLS_CERT_FILE: tls.certFile, TLS_KEY_FILE: tls.keyFile,
      ACME_HTTP01_PORT: String(http01Port), ACME_HTTP01_ADDRESS: "127.0.0.1",
    });
    const cas = JSON.parse((await api("GET", "/certificate-authorities", token)).text).data;
    const root = cas.find((c: { isDefault: boolean }) => c.isDefault);
    rootPem = root.certificatePem;
    const ca = JSON.parse((await api("POST", "/certificate-authorities", token, {
      purpose: "Device and User Authentication", type: "INTERMEDIATE", parentId: root.id, generatedVia: "internal",
      commonName: "Servers CA", keyAlgorithm: "EC-P256", signatureAlgorithm: "SHA-256", validityYears: 2,
    })).text);
    const template = JSON.parse((await api("POST", "/certificate-templates", token, {
      name: "TLS server", subject: "CN=${/csr/san/dnsname}", validityDays: 90, sanDns: "${/csr/san/dnsname}", extendedKeyUsages: ["serverAuth"],
    })).text);
    const platform = JSON.parse((await api("POST", "/device-management-platforms", token, { name: "Servers", type: "acme-enrollment-token", vendor: "kandji" })).text);
    const patched = await api("PATCH", `/device-management-platforms/${platform.id}`, token, {
      name: "Servers", description: "", allowServerNames: true, defaultCaId: ca.id, defaultTemplateId: template.id,
    });
    expect(patched.status).toBe(200);
    const profile = (await api("GET", `/device-management-platforms/${platform.id}/profile`, token)).text;
    directoryUrl = /<key>DirectoryURL<\/key>\s*<string>([^<]+)<\/string>/.exec(profile)![1];

    const guideTemplate = JSON.parse((await api("POST", "/certificate-templates", token, {
      name: "Guide", subject: "CN=${/csr/subject/commonname}", validityDays: 90, extendedKeyUsages: ["clientAuth"],
      sanOtherName: "${/csr/san/othername}", sanRfc822: "${/csr/san/rfc822name}", sanDns: "${/csr/san/dnsname}", sanUri: "urn:serial:${/attestation/serialNumber}",
    })).text);
    const guide = JSON.parse((await api("POST", "/device-management-platforms", token, { name: "Guide", type: "acme-enrollment-token", vendor: "kandji" })).text);
    expect((await api("PATCH", `/device-management-platforms/${guide.id}`, token, {
      name: "Guide", description: "", allowServerNames: true, defaultCaId: ca.id, defaultTemplateId: guideTemplate.id,
    })).status).toBe(200);
    const guideProfile = (await api("GET", `/device-management-platforms/${guide.id}/profile`, token)).text;
    guideDirectoryUrl = /<key>DirectoryURL<\/key>\s*<string>([^<]+)<\/string>/.exec(guideProfile)![1];
  });
  afterAll(async () => {
    await portal?.stop();
    await dropDb?.();
  });

  const verifyChain = (certFile: string, chainFile: string) => {
    const rootFile = path.join(dir, "root.pem");
    writeFileSync(rootFile, rootPem);
    return execFileSync("openssl", ["verify", "-CAfile", rootFile, "-untrusted", chainFile, certFile], { encoding: "utf8" });
  };

  it("certbot gets a certificate", () => {
    const work = tempDir("certbot-");
    const r = spawnSync("certbot", [
      "certonly", "--standalone", "--non-interactive", "--agree-tos", "--register-unsafely-without-email",
      "--server", directoryUrl, "-d", "web1.example.test", "--http-01-port", String(http01Port), "--http-01-address", "127.0.0.1",
      "--config-dir", work, "--work-dir", work, "--logs-dir", work,
    ], { encoding: "utf8", env: { ...process.env, REQUESTS_CA_BUNDLE: tls.caFile } });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const live = path.join(work, "live", "web1.example.test");
    expect(verifyChain(path.join(live, "cert.pem"), path.join(live, "chain.pem"))).toContain(": OK");
    expect(execFileSync("openssl", ["x509", "-in", path.join(live, "cert.pem"), "-noout", "-text"], { encoding: "utf8" })).toContain("DNS:web1.example.test");
  });

  it("lego gets a certificate", () => {
    const work = tempDir("lego-");
    const r = spawnSync("lego", [
      "--server", directoryUrl, "--email", "ops@example.com", "--accept-tos", "--domains", "web2.example.test",
      "--http", "--http.port", `127.0.0.1:${http01Port}`, "--path", work, "run",
    ], { encoding: "utf8", env: { ...process.env, LEGO_CA_CERTIFICATES: tls.caFile } });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const certs = path.join(work, "certificates");
    const crt = readdirSync(certs).find((f) => f === "web2.example.test.crt")!;
    const full = path.join(certs, crt);
    expect(verifyChain(full, full)).toContain(": OK");
  });

  /** lego finalizing with our own CSR (its names become the order's identifiers) on the guide-template platform. */
  const legoWithCsr = (name: string, subj: string, san: string) => {
    const work = tempDir("lego-csr-");
    const key = path.join(work, "key.pem");
    const csr = path.join(work, "csr.pem");
    execFileSync("openssl", ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr, "-subj", subj, "-addext", `subjectAltName=${san}`]);
    const r = spawnSync("lego", [
      "--server", guideDirectoryUrl, "--email", "ops@example.com", "--accept-tos", "--csr", csr,
      "--http", "--http.port", `127.0.0.1:${http01Port}`, "--path", work, "run",
    ], { encoding: "utf8", env: { ...process.env, LEGO_CA_CERTIFICATES: tls.caFile } });
    const crt = path.join(work, "certificates", `${name}.crt`);
    return { ...r, output: r.stdout + r.stderr, certText: () => execFileSync("openssl", ["x509", "-in", crt, "-noout", "-text"], { encoding: "utf8" }) };
  };
  const events = async (type: string) => JSON.parse((await api("GET", `/events?type=${encodeURIComponent(type)}`, token)).text).data as { summary: string; details: any }[];

  it("a client that proved one DNS name cannot add an email, a UPN or a subject email to its certificate", async () => {
    const before = JSON.parse((await api("GET", "/certificates", token)).text).data.length;
    const r = legoWithCsr("web3.example.test", "/CN=web3.example.test/emailAddress=ceo@victim.example",
      "DNS:web3.example.test,email:ceo@victim.example,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:administrator@victim.example");
    expect(r.status, r.output).not.toBe(0);
    expect(r.output).toContain("urn:ietf:params:acme:error:badCSR");
    expect(r.output).toContain('"ceo@victim.example"');
    expect(JSON.parse((await api("GET", "/certificates", token)).text).data.length).toBe(before);
    const denied = (await events("Enrollment Denied")).find((e) => e.details.code === "unprovenName")!;
    expect(denied.summary).toContain("ceo@victim.example");
    expect(denied.details.unproven).toEqual(expect.arrayContaining([
      { kind: "E", value: "ceo@victim.example" }, { kind: "email", value: "ceo@victim.example" }, { kind: "UPN", value: "administrator@victim.example" },
    ]));
  });

  it("the same client asking only for the name it proved gets it, with nothing else (no 'urn:serial:' without a serial)", async () => {
    const r = legoWithCsr("web4.example.test", "/CN=web4.example.test", "DNS:web4.example.test");
    expect(r.status, r.output).toBe(0);
    const text = r.certText();
    expect(text).toMatch(/Subject: CN\s*=\s*web4.example.test\n/);
    expect(/Subject Alternative Name: *\n *(.*)\n/.exec(text)?.[1]).toBe("DNS:web4.example.test");
    expect(text).not.toContain("urn:serial");
    const issued = (await events("Certificate Issued")).find((e) => e.details.subject === "CN=web4.example.test")!;
    expect(issued.details.omitted).toEqual(expect.arrayContaining([{ field: "sanUri", reason: "URI left out: ${/attestation/serialNumber} has no value" }]));
  });
});
