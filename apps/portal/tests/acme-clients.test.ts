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
  let env: Record<string, string> = {};
  /** (Re)starts the portal on the same database with these settings; the directory URL follows its new port. */
  async function start(settings: Record<string, string>) {
    await portal?.stop();
    portal = await startPortal({
      ...env,
      ADMIN_PASSWORD: "bootstrap-password-1",
      TLS_CERT_FILE: tls.certFile,
      TLS_KEY_FILE: tls.keyFile,
      ACME_HTTP01_PORT: String(http01Port),
      ...settings,
    });
    directoryUrl = directoryUrl.replace(/^https:\/\/localhost:\d+/, portal.url);
    guideDirectoryUrl = guideDirectoryUrl.replace(/^https:\/\/localhost:\d+/, portal.url);
  }

  const api = (method: string, p: string, token: string, body?: unknown) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = https.request(
        `${portal.url}/api/v1${p}`,
        {
          method,
          ca: readFileSync(tls.caFile),
          headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
        },
        (res) => {
          let text = "";
          res.on("data", (d) => (text += d));
          res.on("end", () => resolve({ status: res.statusCode!, text }));
        },
      );
      req.on("error", reject);
      req.end(body ? JSON.stringify(body) : undefined);
    });

  beforeAll(async () => {
    const pg = process.env.DATABASE_URL ? await freshPostgres() : null;
    dropDb = pg?.drop;
    env = { DATA_DIR: dataDir, DATABASE_URL: pg?.url ?? "" };
    http01Port = await freePort();
    token = adminApiToken(env);
    // The clients answer http-01 on loopback: validating there is allowed on test networks only.
    await start({ ACME_HTTP01_ADDRESS: "127.0.0.1", ACME_VALIDATION_ALLOW_PRIVATE: "1" });
    const cas = JSON.parse((await api("GET", "/certificate-authorities", token)).text).data;
    const root = cas.find((c: { isDefault: boolean }) => c.isDefault);
    rootPem = root.certificatePem;
    const ca = JSON.parse(
      (
        await api("POST", "/certificate-authorities", token, {
          purpose: "Device and User Authentication",
          type: "INTERMEDIATE",
          parentId: root.id,
          generatedVia: "internal",
          commonName: "Servers CA",
          keyAlgorithm: "EC-P256",
          signatureAlgorithm: "SHA-256",
          validityYears: 2,
        })
      ).text,
    );
    const template = JSON.parse(
      (
        await api("POST", "/certificate-templates", token, {
          name: "TLS server",
          subject: "CN=${/csr/san/dnsname}",
          validityDays: 90,
          sanDns: "${/csr/san/dnsname}",
          extendedKeyUsages: ["serverAuth"],
        })
      ).text,
    );
    const platform = JSON.parse(
      (await api("POST", "/device-management-platforms", token, { name: "Servers", type: "acme-enrollment-token", vendor: "kandji" })).text,
    );
    const patched = await api("PATCH", `/device-management-platforms/${platform.id}`, token, {
      name: "Servers",
      description: "",
      allowServerNames: true,
      defaultCaId: ca.id,
      defaultTemplateId: template.id,
    });
    expect(patched.status).toBe(200);
    const profile = (await api("GET", `/device-management-platforms/${platform.id}/profile`, token)).text;
    directoryUrl = /<key>DirectoryURL<\/key>\s*<string>([^<]+)<\/string>/.exec(profile)![1];

    const guideTemplate = JSON.parse(
      (
        await api("POST", "/certificate-templates", token, {
          name: "Guide",
          subject: "CN=${/csr/subject/commonname}",
          validityDays: 90,
          extendedKeyUsages: ["clientAuth"],
          sanOtherName: "${/csr/san/othername}",
          sanRfc822: "${/csr/san/rfc822name}",
          sanDns: "${/csr/san/dnsname}",
          sanUri: "urn:serial:${/attestation/serialNumber}",
        })
      ).text,
    );
    const guide = JSON.parse(
      (await api("POST", "/device-management-platforms", token, { name: "Guide", type: "acme-enrollment-token", vendor: "kandji" })).text,
    );
    expect(
      (
        await api("PATCH", `/device-management-platforms/${guide.id}`, token, {
          name: "Guide",
          description: "",
          allowServerNames: true,
          defaultCaId: ca.id,
          defaultTemplateId: guideTemplate.id,
        })
      ).status,
    ).toBe(200);
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

  // Each client keeps its account (and certbot its certificates) in its own folder.
  const certbotA = tempDir("certbot-");
  const legoA = tempDir("lego-");
  const certbot = (work: string, ...args: string[]) =>
    spawnSync("certbot", [...args, "--non-interactive", "--server", directoryUrl, "--config-dir", work, "--work-dir", work, "--logs-dir", work], {
      encoding: "utf8",
      env: { ...process.env, REQUESTS_CA_BUNDLE: tls.caFile },
    });
  const certbotCertonly = (work: string, domain: string) =>
    certbot(
      work,
      "certonly",
      "--standalone",
      "--agree-tos",
      "--register-unsafely-without-email",
      "-d",
      domain,
      "--http-01-port",
      String(http01Port),
      "--http-01-address",
      "127.0.0.1",
    );
  const lego = (work: string, ...args: string[]) =>
    spawnSync(
      "lego",
      ["--server", directoryUrl, "--email", "ops@example.com", "--accept-tos", "--http", "--http.port", `127.0.0.1:${http01Port}`, "--path", work, ...args],
      { encoding: "utf8", env: { ...process.env, LEGO_CA_CERTIFICATES: tls.caFile } },
    );
  /** The problem type of certbot's last refused request (certbot 2.1 prints a josepy AttributeError instead; its log has the answer). */
  const certbotProblem = (work: string) =>
    [...readFileSync(path.join(work, "letsencrypt.log"), "utf8").matchAll(/"type":"urn:ietf:params:acme:error:(\w+)"/g)].at(-1)?.[1];
  const live = (work: string, domain: string) => path.join(work, "live", domain);
  const legoCert = (work: string, domain: string) => path.join(work, "certificates", `${domain}.crt`);

  it("certbot gets a certificate", () => {
    const r = certbotCertonly(certbotA, "web1.example.test");
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const dir = live(certbotA, "web1.example.test");
    expect(verifyChain(path.join(dir, "cert.pem"), path.join(dir, "chain.pem"))).toContain(": OK");
    expect(execFileSync("openssl", ["x509", "-in", path.join(dir, "cert.pem"), "-noout", "-text"], { encoding: "utf8" })).toContain("DNS:web1.example.test");
  });

  it("lego gets a certificate", () => {
    const r = lego(legoA, "--domains", "web2.example.test", "run");
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const certs = path.join(legoA, "certificates");
    const crt = readdirSync(certs).find((f) => f === "web2.example.test.crt")!;
    const full = path.join(certs, crt);
    expect(verifyChain(full, full)).toContain(": OK");
  });

  /** lego finalizing with our own CSR (its names become the order's identifiers) on the guide-template platform. */
  const legoWithCsr = (name: string, subj: string, san: string) => {
    const work = tempDir("lego-csr-");
    const key = path.join(work, "key.pem");
    const csr = path.join(work, "csr.pem");
    execFileSync("openssl", [
      "req",
      "-new",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      key,
      "-out",
      csr,
      "-subj",
      subj,
      "-addext",
      `subjectAltName=${san}`,
    ]);
    const r = spawnSync(
      "lego",
      [
        "--server",
        guideDirectoryUrl,
        "--email",
        "ops@example.com",
        "--accept-tos",
        "--csr",
        csr,
        "--http",
        "--http.port",
        `127.0.0.1:${http01Port}`,
        "--path",
        work,
        "run",
      ],
      { encoding: "utf8", env: { ...process.env, LEGO_CA_CERTIFICATES: tls.caFile } },
    );
    const crt = path.join(work, "certificates", `${name}.crt`);
    return { ...r, output: r.stdout + r.stderr, certText: () => execFileSync("openssl", ["x509", "-in", crt, "-noout", "-text"], { encoding: "utf8" }) };
  };
  const events = async (type: string) =>
    JSON.parse((await api("GET", `/events?type=${encodeURIComponent(type)}`, token)).text).data as { summary: string; details: any }[];

  it("a client that proved one DNS name cannot add an email, a UPN or a subject email to its certificate", async () => {
    const before = JSON.parse((await api("GET", "/certificates", token)).text).data.length;
    const r = legoWithCsr(
      "guide3.example.test",
      "/CN=guide3.example.test/emailAddress=ceo@victim.example",
      "DNS:guide3.example.test,email:ceo@victim.example,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:administrator@victim.example",
    );
    expect(r.status, r.output).not.toBe(0);
    expect(r.output).toContain("urn:ietf:params:acme:error:badCSR");
    expect(r.output).toContain('"ceo@victim.example"');
    expect(JSON.parse((await api("GET", "/certificates", token)).text).data.length).toBe(before);
    const denied = (await events("Enrollment Denied")).find((e) => e.details.code === "unprovenName")!;
    expect(denied.summary).toContain("ceo@victim.example");
    expect(denied.details.unproven).toEqual(
      expect.arrayContaining([
        { kind: "E", value: "ceo@victim.example" },
        { kind: "email", value: "ceo@victim.example" },
        { kind: "UPN", value: "administrator@victim.example" },
      ]),
    );
  });

  it("the same client asking only for the name it proved gets it, with nothing else (no 'urn:serial:' without a serial)", async () => {
    const r = legoWithCsr("guide4.example.test", "/CN=guide4.example.test", "DNS:guide4.example.test");
    expect(r.status, r.output).toBe(0);
    const text = r.certText();
    expect(text).toMatch(/Subject: CN\s*=\s*guide4.example.test\n/);
    expect(/Subject Alternative Name: *\n *(.*)\n/.exec(text)?.[1]).toBe("DNS:guide4.example.test");
    expect(text).not.toContain("urn:serial");
    const issued = (await events("Certificate Issued")).find((e) => e.details.subject === "CN=guide4.example.test")!;
    expect(issued.details.omitted).toEqual(expect.arrayContaining([{ field: "sanUri", reason: "URI left out: ${/attestation/serialNumber} has no value" }]));
  });

  // Revocation as relying parties see it: OCSP (RFC 6960) and the CRL, each fetched from the URL the
  // certificate names, and the inventory and audit trail through the REST API.
  const get = (url: string, init: { method?: string; body?: Buffer; type?: string } = {}) =>
    new Promise<Buffer>((resolve, reject) => {
      const req = https.request(
        url,
        { method: init.method ?? "GET", ca: readFileSync(tls.caFile), headers: init.type ? { "content-type": init.type } : {} },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (d) => chunks.push(d));
          res.on("end", () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`${url}: HTTP ${res.statusCode}`))));
        },
      );
      req.on("error", reject);
      req.end(init.body);
    });
  const openssl = (...args: string[]) => execFileSync("openssl", args, { encoding: "utf8", cwd: dir });
  /** The leaf's status as the OCSP responder answers it, verified by openssl ("good", or "revoked" with the reason). */
  async function ocspStatus(chainFile: string): Promise<string> {
    const leaf = path.join(dir, "leaf.pem");
    const issuer = path.join(dir, "issuer.pem");
    const pems = readFileSync(chainFile, "utf8").match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)!;
    writeFileSync(leaf, pems[0]);
    writeFileSync(issuer, pems[1]);
    writeFileSync(path.join(dir, "root.pem"), rootPem);
    const url = openssl("x509", "-in", leaf, "-noout", "-ocsp_uri").trim();
    openssl("ocsp", "-issuer", issuer, "-cert", leaf, "-no_nonce", "-reqout", "ocsp-req.der");
    writeFileSync(
      path.join(dir, "ocsp-resp.der"),
      await get(url, { method: "POST", body: readFileSync(path.join(dir, "ocsp-req.der")), type: "application/ocsp-request" }),
    );
    const text = openssl("ocsp", "-respin", "ocsp-resp.der", "-issuer", issuer, "-cert", leaf, "-CAfile", "root.pem", "-verify_other", issuer);
    return [/leaf\.pem: (\S+)/.exec(text)![1], /Reason: (\S+)/.exec(text)?.[1]].filter(Boolean).join(" ");
  }
  /** True when the CRL named by the leaf's CRL Distribution Point lists it. */
  async function onCrl(chainFile: string): Promise<boolean> {
    const leaf = path.join(dir, "leaf.pem");
    writeFileSync(leaf, `${readFileSync(chainFile, "utf8").split("-----END CERTIFICATE-----")[0]}-----END CERTIFICATE-----\n`);
    const url = /URI:(\S+)/.exec(openssl("x509", "-in", leaf, "-noout", "-ext", "crlDistributionPoints"))![1];
    writeFileSync(path.join(dir, "crl.der"), await get(url));
    const serial = openssl("x509", "-in", leaf, "-noout", "-serial")
      .trim()
      .replace(/^serial=/, "")
      .toUpperCase();
    return openssl("crl", "-inform", "DER", "-in", "crl.der", "-noout", "-text").replace(/\s/g, "").includes(`SerialNumber:${serial}`);
  }
  const serialOf = (certFile: string) =>
    openssl("x509", "-in", certFile, "-noout", "-serial")
      .trim()
      .replace(/^serial=/, "")
      .toLowerCase();
  async function inventory(certFile: string) {
    const serial = serialOf(certFile);
    const [cert] = JSON.parse((await api("GET", `/certificates?q=${serial}`, token)).text).data;
    const events = JSON.parse((await api("GET", `/events?type=${encodeURIComponent("Certificate Revoked")}&certificateSerial=${serial}`, token)).text).data;
    return {
      status: cert.status as string,
      revocationReason: cert.revocationReason as string | null,
      events: events as { actorType: string; actorName: string; details: Record<string, unknown> }[],
    };
  }
  const unrevoked = async (chainFile: string) => {
    expect(await ocspStatus(chainFile)).toBe("good");
    expect(await onCrl(chainFile)).toBe(false);
    expect(await inventory(chainFile)).toMatchObject({ status: "ACTIVE", events: [] });
  };

  it("certbot revoke: refused for another account and for a key that is not the certificate's; done by the account that ordered it, once", async () => {
    const web1 = path.join(live(certbotA, "web1.example.test"), "fullchain.pem");
    await unrevoked(web1);

    const stranger = tempDir("certbot-");
    expect(certbot(stranger, "register", "--agree-tos", "--register-unsafely-without-email").status).toBe(0);
    const foreign = certbot(stranger, "revoke", "--cert-path", web1, "--no-delete-after-revoke");
    expect(foreign.status).not.toBe(0);
    expect(certbotProblem(stranger)).toBe("unauthorized");
    await unrevoked(web1);

    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "other.key");
    const wrongKey = certbot(stranger, "revoke", "--cert-path", web1, "--key-path", path.join(dir, "other.key"), "--no-delete-after-revoke");
    expect(wrongKey.status).not.toBe(0);
    expect(certbotProblem(stranger)).toBe("unauthorized");
    await unrevoked(web1);

    const r = certbot(certbotA, "revoke", "--cert-path", web1, "--reason", "keycompromise", "--no-delete-after-revoke");
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(await ocspStatus(web1)).toBe("revoked keyCompromise");
    expect(await onCrl(web1)).toBe(true);
    const after = await inventory(web1);
    expect(after).toMatchObject({ status: "REVOKED", revocationReason: "keyCompromise" });
    expect(after.events).toHaveLength(1);
    expect(after.events[0]).toMatchObject({
      actorType: "device",
      actorName: expect.stringMatching(/^acme-account:/),
      details: { via: "ACME revokeCert", requestedBy: "account" },
    });

    const again = certbot(certbotA, "revoke", "--cert-path", web1, "--no-delete-after-revoke");
    expect(again.status).not.toBe(0);
    expect(certbotProblem(certbotA)).toBe("alreadyRevoked");
    expect((await inventory(web1)).events).toHaveLength(1);
  });

  it("certbot revoke with the certificate's own key", async () => {
    expect(certbotCertonly(certbotA, "web3.example.test").status).toBe(0);
    const web3 = live(certbotA, "web3.example.test");
    const stranger = tempDir("certbot-");
    const r = certbot(
      stranger,
      "revoke",
      "--cert-path",
      path.join(web3, "fullchain.pem"),
      "--key-path",
      path.join(web3, "privkey.pem"),
      "--reason",
      "superseded",
      "--no-delete-after-revoke",
    );
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(await ocspStatus(path.join(web3, "fullchain.pem"))).toBe("revoked superseded");
    expect(await onCrl(path.join(web3, "fullchain.pem"))).toBe(true);
    expect((await inventory(path.join(web3, "fullchain.pem"))).events[0]).toMatchObject({
      actorType: "device",
      actorName: "certificate key",
      details: { requestedBy: "certificate-key" },
    });
  });

  it("lego revoke: a CA-side reason is refused, a subscriber reason revokes", async () => {
    const web2 = legoCert(legoA, "web2.example.test");
    await unrevoked(web2);
    const caReason = lego(legoA, "--domains", "web2.example.test", "revoke", "--keep", "--reason", "2");
    expect(caReason.status).not.toBe(0);
    expect(caReason.stdout + caReason.stderr).toContain("badRevocationReason");
    await unrevoked(web2);

    const r = lego(legoA, "--domains", "web2.example.test", "revoke", "--keep", "--reason", "5");
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(await ocspStatus(web2)).toBe("revoked cessationOfOperation");
    expect(await onCrl(web2)).toBe(true);
    expect((await inventory(web2)).events).toHaveLength(1);
  });

  it("an account holding valid authorizations for every identifier of a certificate may revoke it (RFC 8555 §7.6)", async () => {
    // lego's account orders web4; certbot's own account then proves control of web4 and revokes lego's certificate.
    expect(lego(legoA, "--domains", "web4.example.test", "run").status).toBe(0);
    const web4 = legoCert(legoA, "web4.example.test");
    const holder = tempDir("certbot-");
    const stranger = tempDir("certbot-");
    expect(certbot(stranger, "register", "--agree-tos", "--register-unsafely-without-email").status).toBe(0);
    expect(certbot(stranger, "revoke", "--cert-path", web4, "--no-delete-after-revoke").status).not.toBe(0);
    expect(certbotProblem(stranger)).toBe("unauthorized");
    await unrevoked(web4);

    expect(certbotCertonly(holder, "web4.example.test").status).toBe(0);
    const r = certbot(holder, "revoke", "--cert-path", web4, "--reason", "affiliationchanged", "--no-delete-after-revoke");
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(await ocspStatus(web4)).toBe("revoked affiliationChanged");
    expect(await onCrl(web4)).toBe(true);
    expect((await inventory(web4)).events[0]).toMatchObject({
      actorType: "device",
      actorName: expect.stringMatching(/^acme-account:/),
      details: { requestedBy: "authorizations" },
    });
  });

  it("http-01 never reaches internal addresses unless ACME_VALIDATION_ALLOW_PRIVATE=1, and says nothing of why", async () => {
    await start({});
    const work = tempDir("lego-");
    // A name that resolves to loopback: lego answers on 127.0.0.1, but the server does not connect.
    const name = lego(work, "--domains", "localhost", "run");
    expect(name.status).not.toBe(0);
    const out = name.stdout + name.stderr;
    expect(out).toContain("urn:ietf:params:acme:error:connection");
    expect(out).toContain(`Could not connect to localhost to fetch http://localhost:${http01Port}/.well-known/acme-challenge/`);
    expect(out).not.toMatch(/ECONN|internal|127\.0\.0\.1|::1/);
    // An internal address as the identifier: refused at newOrder.
    const ip = lego(work, "--domains", "127.0.0.1", "run");
    expect(ip.status).not.toBe(0);
    expect(ip.stdout + ip.stderr).toContain("urn:ietf:params:acme:error:rejectedIdentifier");

    await start({ ACME_VALIDATION_ALLOW_PRIVATE: "1" });
    const allowed = lego(work, "--domains", "localhost", "run");
    expect(allowed.status, allowed.stdout + allowed.stderr).toBe(0);
  });
});
