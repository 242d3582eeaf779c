import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import * as graphene from "graphene-pk11";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AcmeClientError, enroll, generateDevices, SimulatedAppleCa } from "@attested/device-sim";
import { createSoftHsmToken, type SoftHsmToken } from "@attested/pki/softhsm";
import { adminApiToken, freshPostgres, startPortal, tempDir, type PortalProcess } from "./harness";

// CA keys in a hardware security module, through the running portal and a SoftHSM2 token: a root CA
// whose key the portal generates in the token, an issuing CA from a key made beforehand (a ceremony),
// a device enrolled through it, its chain, CRL and OCSP checked by OpenSSL; then the token loses the
// key: enrollment answers 503 with Retry-After, nothing is issued, and the trail says why.
describe("CA keys in a PKCS#11 token (SoftHSM2)", () => {
  let token: SoftHsmToken;
  let portal: PortalProcess;
  let adminToken = "";
  let auditorToken = "";
  let mod: graphene.Module;
  let session: graphene.Session;
  const cleanup: (() => unknown)[] = [];
  const dir = tempDir();
  const ids: Record<string, string> = {};
  let profile = "";
  let simCa: SimulatedAppleCa;
  const [device, second] = generateDevices(2, "HSM");

  const api = async (bearer: string, method: string, p: string, body?: unknown) => {
    const res = await fetch(`${portal.url}/api/v1${p}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
  };
  const admin = async (method: string, p: string, body?: unknown) => {
    const r = await api(adminToken, method, p, body);
    if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${r.text}`);
    return r.json();
  };
  const file = (name: string, content: string | Buffer) => {
    const p = path.join(dir, name);
    writeFileSync(p, content);
    return p;
  };
  const openssl = (...args: string[]) => spawnSync("openssl", args, { encoding: "utf8" });
  const hsmCa = (over: Record<string, unknown>) => ({
    purpose: "Device and User Authentication",
    generatedVia: "pkcs11",
    signatureAlgorithm: "SHA-256",
    validityYears: 2,
    ...over,
  });

  beforeAll(async () => {
    token = createSoftHsmToken("Attested CA Keys");
    cleanup.push(token.remove);
    // The key ceremony: an issuing CA key made in the token before the portal knew of it.
    mod = graphene.Module.load(token.module, "ceremony");
    mod.initialize();
    const slot = mod.getSlots(true).items(0);
    session = slot.open(graphene.SessionFlag.SERIAL_SESSION | graphene.SessionFlag.RW_SESSION);
    session.login(token.pin);
    const ec = { keyType: graphene.KeyType.EC, token: true, label: "issuing-2026", id: Buffer.from("issuing-2026") };
    session.generateKeyPair(
      graphene.KeyGenMechanism.EC,
      { ...ec, verify: true, paramsECDSA: graphene.NamedCurve.getByName("secp256r1").value },
      { ...ec, sign: true, sensitive: true, extractable: false, private: true },
    );
    cleanup.push(() => mod.finalize());

    const db = process.env.DATABASE_URL ? await freshPostgres() : null;
    if (db) cleanup.push(db.drop);
    const env = { DATA_DIR: tempDir(), DATABASE_URL: db?.url ?? "", LIFECYCLE_WORKER: "off" };
    adminToken = adminApiToken(env);
    auditorToken = adminApiToken(env, "auditor");
    portal = await startPortal({
      ...env,
      ADMIN_PASSWORD: "bootstrap-password-1",
      SOFTHSM2_CONF: token.conf,
      PKCS11_MODULE: token.module,
      PKCS11_TOKEN_LABEL: token.label,
      PKCS11_PIN_FILE: file("pin", `${token.pin}\n`),
    });
    cleanup.push(() => portal.stop());
  }, 120_000);

  afterAll(async () => {
    for (const c of cleanup.reverse()) await Promise.resolve(c()).catch(() => {});
  });

  it("an auditor cannot make a key in the token; bad labels and unknown keys are refused, naming the field", async () => {
    const refused = await api(auditorToken, "POST", "/certificate-authorities", hsmCa({ type: "ROOT", commonName: "Nope", keyAlgorithm: "EC-P256" }));
    expect(refused.status).toBe(403);
    const badLabel = await api(
      adminToken,
      "POST",
      "/certificate-authorities",
      hsmCa({ type: "ROOT", commonName: "Bad", keyAlgorithm: "EC-P256", keyLabel: "../etc" }),
    );
    expect(badLabel.status).toBe(400);
    expect(badLabel.json()).toMatchObject({ field: "keyLabel" });
    const unknown = await api(
      adminToken,
      "POST",
      "/certificate-authorities",
      hsmCa({ type: "ROOT", commonName: "Ghost", keyAlgorithm: "EC-P256", keyLabel: "not-in-token", useExistingKey: true }),
    );
    expect(unknown.status).toBe(400);
    expect(unknown.json()).toMatchObject({ field: "keyLabel", error: expect.stringContaining('no private key labelled "not-in-token"') });
    // Nothing was made: only the default root exists, and the token holds the ceremony key alone.
    expect((await admin("GET", "/certificate-authorities")).data).toHaveLength(1);
    expect(session.find({ class: graphene.ObjectClass.PRIVATE_KEY }).length).toBe(1);
  });

  it("creates a root in the token and an issuing CA from the ceremony key; a device enrolls; OpenSSL verifies chain, CRL and OCSP", async () => {
    const root = await admin(
      "POST",
      "/certificate-authorities",
      hsmCa({ type: "ROOT", commonName: "HSM Root CA", keyAlgorithm: "EC-P384", keyLabel: "root-ca" }),
    );
    const issuing = await admin(
      "POST",
      "/certificate-authorities",
      // The Key Size is the ceremony key's (EC P-256), whatever the form said.
      hsmCa({ type: "INTERMEDIATE", parentId: root.id, commonName: "HSM ACME CA", keyAlgorithm: "RSA-4096", keyLabel: "issuing-2026", useExistingKey: true }),
    );
    expect(issuing).toMatchObject({ keyAlgorithm: "EC-P256", generatedVia: "pkcs11" });
    ids.root = root.id;
    ids.issuing = issuing.id;
    const rootKey = session.find({ class: graphene.ObjectClass.PRIVATE_KEY, label: "root-ca" }).items(0).toType<graphene.PrivateKey>();
    expect([rootKey.sensitive, rootKey.extractable]).toEqual([true, false]);

    const template = await admin("POST", "/certificate-templates", {
      name: "Devices",
      subject: "CN=${/attestation/serialNumber}",
      validityDays: 30,
      extendedKeyUsages: ["clientAuth"],
    });
    simCa = await SimulatedAppleCa.create();
    const kap = await admin("POST", "/key-attestation-platforms", { name: "Apple", type: "apple" });
    await admin("PATCH", `/key-attestation-platforms/${kap.id}`, { testTrustedRoots: simCa.rootPem });
    const dmp = await admin("POST", "/device-management-platforms", { name: "Kandji", type: "acme-enrollment-token", vendor: "kandji" });
    await admin("PATCH", `/device-management-platforms/${dmp.id}`, {
      name: "Kandji",
      description: "",
      defaultCaId: issuing.id,
      defaultTemplateId: template.id,
    });
    profile = String((await api(adminToken, "GET", `/device-management-platforms/${dmp.id}/profile`)).text);

    const issued = await enroll({ profile, device, ca: simCa });
    const rootPem = file("root.pem", root.certificatePem);
    const chain = file("chain.pem", issuing.certificatePem + root.certificatePem);
    const leaf = file("leaf.pem", issued.certificatePem);
    const v = openssl("verify", "-CAfile", rootPem, "-untrusted", file("int.pem", issuing.certificatePem), leaf);
    expect(v.stdout.trim(), v.stderr).toBe(`${leaf}: OK`);

    const crl = Buffer.from(await (await fetch(`${portal.url}/crl/${issuing.id}.crl`)).arrayBuffer());
    const crlPem = file("crl.pem", openssl("crl", "-inform", "DER", "-in", file("crl.der", crl), "-outform", "PEM").stdout);
    expect(openssl("crl", "-in", crlPem, "-noout", "-CAfile", chain).stderr).toContain("verify OK");
    expect(openssl("verify", "-crl_check", "-CAfile", chain, "-CRLfile", crlPem, leaf).status).toBe(0);

    const ocsp = openssl("ocsp", "-issuer", path.join(dir, "int.pem"), "-cert", leaf, "-url", `${portal.url}/ocsp/${issuing.id}`, "-CAfile", chain);
    expect(ocsp.stdout).toContain(`${leaf}: good`);
    expect(ocsp.stderr).toContain("Response verify OK");

    // The CA page says where the key lives; the trail has both keys.
    const page = await api(adminToken, "GET", `/certificate-authorities/${issuing.id}`);
    expect(page.json().keyId).toBe("pkcs11:object=issuing-2026;type=private");
    const events = (await admin("GET", `/events?type=${encodeURIComponent("CA Key Generated")}`)).data as {
      summary: string;
      outcome: string;
      details: { label: string; existing: boolean };
    }[];
    const byLabel = Object.fromEntries(events.map((e) => [`${e.details.label} ${e.outcome}`, e]));
    expect(Object.keys(byLabel).sort()).toEqual(["issuing-2026 success", "not-in-token failure", "root-ca success"]);
    expect(byLabel["root-ca success"].summary).toBe('EC-P384 key "root-ca" generated in the token "Attested CA Keys" for "HSM Root CA"');
    expect(byLabel["issuing-2026 success"].details.existing).toBe(true);
  }, 120_000);

  it("a key gone from the token: ACME answers serverInternal 503 with Retry-After, nothing is issued, OCSP says tryLater, the trail says why", async () => {
    const before = (await admin("GET", "/certificates")).data.length;
    const f = session.find({ class: graphene.ObjectClass.PRIVATE_KEY, label: "issuing-2026" });
    for (let i = 0; i < f.length; i++) f.items(i).destroy();

    const e = await enroll({ profile, device: second, ca: simCa }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(AcmeClientError);
    expect(e).toMatchObject({ status: 503, retryAfter: "30", acmeType: "serverInternal" });
    expect((await admin("GET", "/certificates")).data.length).toBe(before);

    const ocsp = openssl(
      "ocsp",
      "-issuer",
      path.join(dir, "int.pem"),
      "-cert",
      path.join(dir, "leaf.pem"),
      "-url",
      `${portal.url}/ocsp/${ids.issuing}`,
      "-CAfile",
      path.join(dir, "chain.pem"),
    );
    expect(ocsp.stdout + ocsp.stderr).toMatch(/trylater/i);

    const failures = (await admin("GET", `/events?type=${encodeURIComponent("CA Key Unavailable")}`)).data as {
      summary: string;
      outcome: string;
      details: { operation: string; label: string };
    }[];
    expect(failures.map((x) => x.details.operation).sort()).toEqual(["issue", "ocsp"]);
    expect(failures[0]).toMatchObject({ outcome: "failure", details: { storage: "pkcs11", label: "issuing-2026" } });
    expect(failures[0].summary).toContain('"HSM ACME CA"');
  }, 120_000);
});
