import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes, webcrypto, X509Certificate } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildCsr,
  createDeviceKey,
  enroll,
  generateDevices,
  renderMobileconfig,
  type SimulatedAppleCa,
  type NetworkPayload,
  type SimulatedDevice,
} from "@attested/device-sim";
import { startKandjiSimulator, type KandjiSimulator } from "@attested/kandji-sim";
import { adminApiToken, commandExists, freePort, freshPostgres, localhostTls, setUpAcmePlatform, startPortal, tempDir, type PortalProcess } from "./harness";

// Issue 21's proof with real parts: FreeRADIUS configured by deploy/freeradius/render.mjs from the
// portal's values, and eapol_test joining as the device with the certificate the portal issued to it
// through the profile's Wi-Fi payload (its trusted server name and RADIUS CA). CI installs both
// (.ci/run); without them this file skips, loudly.
const root = path.resolve(import.meta.dirname, "../../..");
const tools = [
  ...["freeradius", "eapol_test"].filter((c) => !commandExists(c)),
  ...(existsSync("/usr/lib/freeradius/rlm_rest.so") ? [] : ["freeradius-rest (rlm_rest)"]),
];
if (tools.length)
  console.warn(
    `\n*** freeradius.test.ts SKIPPED: ${tools.join(" and ")} not installed (apt-get install freeradius freeradius-rest eapoltest). CI installs them. ***\n`,
  );

describe.skipIf(!process.env.DATABASE_URL || tools.length > 0)("EAP-TLS through FreeRADIUS with a portal-issued certificate", () => {
  const cleanup: (() => Promise<unknown> | unknown)[] = [];
  const dir = tempDir("freeradius-");
  const kandjiToken = `kandji-${randomBytes(16).toString("hex")}`;
  const radiusSecret = randomBytes(12).toString("hex");
  const [kept, revoked, removed] = generateDevices(3, "RAD") as [SimulatedDevice, SimulatedDevice, SimulatedDevice];
  let portal: PortalProcess;
  let kandji: KandjiSimulator;
  let radius: ChildProcess;
  const radiusLogFile = path.join(dir, "freeradius.log");
  const radiusLog = () => readFileSync(radiusLogFile, "utf8");
  let radiusPort = 0;
  let token = "";
  let auditorToken = "";
  let platformId = "";
  let wifi: NetworkPayload;
  const certs: Record<string, { id: string; certFile: string; keyFile: string }> = {};

  const api = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${portal.url}/api/v1${p}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${text}`);
    return text.startsWith("{") || text.startsWith("[") ? JSON.parse(text) : text;
  };

  /** One EAP-TLS authentication as the Wi-Fi payload configures it; the RADIUS answer and Reply-Message. */
  // Asynchronous: the Kandji simulator answers the portal from this process meanwhile.
  async function join(name: string, certFile: string, keyFile: string): Promise<{ result: string; message: string; log: string }> {
    const conf = path.join(dir, `${name}.eapol.conf`);
    const anchor = path.join(dir, "wifi-anchor.pem");
    writeFileSync(anchor, wifi.eap!.anchors.map((a) => a.pem).join("\n"));
    writeFileSync(
      conf,
      [
        "network={",
        "  key_mgmt=WPA-EAP",
        "  eap=TLS",
        `  identity="${name}"`,
        `  ca_cert="${anchor}"`,
        // The payload's TLSTrustedServerNames: the server's certificate must carry this name.
        `  domain_match="${wifi.eap!.trustedServerNames[0]}"`,
        `  client_cert="${certFile}"`,
        `  private_key="${keyFile}"`,
        "  eapol_flags=0",
        "}",
        "",
      ].join("\n"),
    );
    let log = "";
    const child = spawn("eapol_test", ["-c", conf, "-a", "127.0.0.1", "-p", String(radiusPort), "-s", radiusSecret, "-t", "30", "-r", "0"]);
    child.stdout.on("data", (d) => (log += d));
    child.stderr.on("data", (d) => (log += d));
    const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
    const codes = [...log.matchAll(/RADIUS message: code=\d+ \((Access-\w+)\)/g)].map((m) => m[1]);
    const message = /Reply-Message\)[^\n]*\n[^\n]*Value: '([^']*)'/.exec(log)?.[1] ?? "";
    return { result: codes.at(-1) ?? `no answer (${status})`, message, log };
  }

  /** Enrolls `device` with an exportable copy of its key: eapol_test stands in for the device's supplicant. */
  async function enrollWithKey(profile: string, device: SimulatedDevice, ca: SimulatedAppleCa) {
    const payload = renderMobileconfig(profile, device).acme[0]!;
    const key = await createDeviceKey({ keyType: payload.KeyType, keySize: payload.KeySize, hardwareBound: false });
    const accountKey = (await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
    const issued = await enroll({ profile, device, ca, prepared: { key, csr: await buildCsr(payload, key), accountKey } });
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key.keys.privateKey));
    const keyFile = path.join(dir, `${device.serialNumber}.key`);
    const certFile = path.join(dir, `${device.serialNumber}.pem`);
    writeFileSync(keyFile, `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString("base64").replace(/.{64}/g, "$&\n")}\n-----END PRIVATE KEY-----\n`, { mode: 0o600 });
    writeFileSync(certFile, issued.certificatePem);
    const listed = (await api("GET", `/certificates?deviceSerial=${device.serialNumber}`)).data;
    certs[device.serialNumber] = { id: listed[0].id, certFile, keyFile };
    return renderMobileconfig(profile, device);
  }

  beforeAll(async () => {
    const db = await freshPostgres();
    cleanup.push(db.drop);
    const env = { DATABASE_URL: db.url, DATA_DIR: tempDir(), INTEGRATIONS_ALLOW_HTTP: "1", LIFECYCLE_WORKER: "off" };
    token = adminApiToken(env);
    auditorToken = adminApiToken(env, "auditor");
    portal = await startPortal({ ...env, ADMIN_PASSWORD: "bootstrap-password-1" });
    cleanup.push(() => portal.stop());
    kandji = await startKandjiSimulator({
      token: kandjiToken,
      seed: {
        devices: [kept, revoked, removed].map((d) => ({ serial_number: d.serialNumber, device_name: d.deviceName, platform: "Mac", udid: d.udid })) as never,
      },
    });
    cleanup.push(() => kandji.close());

    // The guide's setup: an issuing CA, a template, the platform, Kandji as Core Platform, an
    // Enrollment Policy, and a Security Signal Source with Lookup Purpose RADIUS Authentication.
    const { caId, templateId, kapId, dmpId, simCa } = await setUpAcmePlatform(api, { ca: "Wi-Fi Devices CA", template: "Wi-Fi device" });
    const [ca, template, kap, dmp] = [{ id: caId }, { id: templateId }, { id: kapId }, { id: dmpId }];
    const core = await api("POST", "/core-platforms", {
      name: "Kandji API",
      description: "",
      type: "generic-http",
      authMethod: "bearer",
      secret: kandjiToken,
      uri: `${kandji.url}/api/v1/devices?serial_number=\${identity}`,
      validationRules: [{ path: "data[0].serial_number", condition: "equals", expected: "${identity}" }],
    });
    const workflow = await api("POST", "/policy-workflows", { name: "Kandji Role", description: "", corePlatformId: core.id, attributeConditions: [] });
    const role = await api("POST", "/device-roles", { name: "Apple devices", description: "", keyAttestationPlatformId: kap.id });
    await api("POST", "/enrollment-policies", {
      name: "Wi-Fi",
      description: "",
      priority: 100,
      policyWorkflowId: workflow.id,
      deviceRoleId: role.id,
      caId: ca.id,
      templateId: template.id,
    });
    await api("POST", "/security-signal-sources", {
      name: "Kandji at RADIUS",
      description: "",
      lookupPurpose: "radius-authentication",
      corePlatformId: core.id,
      identityType: "certificate",
      identityAttribute: "/certificate/deviceSerial",
      revokeOnFailure: false,
    });

    // The RADIUS server's own certificate (name "localhost") and its CA go into the Wi-Fi payload.
    const serverTls = localhostTls(dir);
    await api("PUT", `/device-management-platforms/${dmp.id}/network-payloads`, {
      wifiEnabled: true,
      wifiSsid: "Acme Devices",
      wifiAutoJoin: true,
      wifiEncryptionType: "WPA2",
      eapTrustedServerNames: ["localhost"],
      eapServerCaPem: readFileSync(serverTls.caFile, "utf8"),
    });
    platformId = dmp.id;
    const profile: string = await api("GET", `/device-management-platforms/${dmp.id}/profile`);
    for (const d of [kept, revoked, removed]) {
      const seen = await enrollWithKey(profile, d, simCa);
      wifi = seen.network.find((n) => n.payloadType === "com.apple.wifi.managed")!;
    }
    expect(wifi.ssid).toBe("Acme Devices");

    // FreeRADIUS, configured from the portal's values by the shipped script.
    radiusPort = await freePort();
    const raddb = path.join(dir, "raddb");
    writeFileSync(path.join(dir, "token"), token, { mode: 0o600 });
    writeFileSync(path.join(dir, "secret"), radiusSecret, { mode: 0o600 });
    const rendered = spawnSync(
      process.execPath,
      [
        path.join(root, "deploy/freeradius/render.mjs"),
        "--portal",
        portal.url,
        "--token-file",
        path.join(dir, "token"),
        "--server-cert",
        serverTls.certFile,
        "--server-key",
        serverTls.keyFile,
        "--client-secret-file",
        path.join(dir, "secret"),
        "--listen",
        "127.0.0.1",
        "--port",
        String(radiusPort),
        "--out",
        raddb,
      ],
      { encoding: "utf8" },
    );
    expect(rendered.status, rendered.stdout + rendered.stderr).toBe(0);
    // Its debug output goes to a file: a pipe would fill up while eapol_test runs synchronously.
    const logFd = openSync(radiusLogFile, "w");
    radius = spawn("freeradius", ["-X", "-d", raddb], { stdio: ["ignore", logFd, logFd] });
    closeSync(logFd);
    cleanup.push(() => radius.kill("SIGTERM"));
    const deadline = Date.now() + 60_000;
    while (!radiusLog().includes("Ready to process requests")) {
      if (radius.exitCode !== null || Date.now() > deadline) throw new Error(`freeradius did not start:\n${radiusLog()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 300_000);

  afterAll(async () => {
    for (const c of cleanup.reverse()) await Promise.resolve(c()).catch(() => {});
  });

  type RadiusEvent = { outcome: string; summary: string; certificateSerial: string | null; deviceSerial: string | null; details: Record<string, unknown> };
  const radiusEvents = async (by: "deviceSerial" | "certificateSerial", value: string) =>
    (await api("GET", `/events?type=${encodeURIComponent("RADIUS Authentication")}&${by}=${value}`)).data as RadiusEvent[];
  const serialOf = (pem: string) => new X509Certificate(pem).serialNumber.toLowerCase();

  it("accepts the issued certificate, records the decision and counts it as the certificate's last use", async () => {
    const before = Date.now();
    const r = await join(kept.serialNumber, certs[kept.serialNumber]!.certFile, certs[kept.serialNumber]!.keyFile);
    expect(r.result, `${r.log}\n${radiusLog().slice(-6000)}`).toBe("Access-Accept");
    const [event] = await radiusEvents("deviceSerial", kept.serialNumber);
    expect(event).toMatchObject({ outcome: "success", details: { decision: "accept" } });
    expect(event!.details.reason).toContain(`device ${kept.serialNumber} was found in "Kandji API"`);
    const cert = await api("GET", `/certificates/${certs[kept.serialNumber]!.id}`);
    expect(new Date(cert.lastSeenAt).getTime()).toBeGreaterThanOrEqual(before - 1000);
  });

  it("rejects the next attempt once the certificate is revoked in the portal (OCSP)", async () => {
    const c = certs[revoked.serialNumber]!;
    expect((await join(revoked.serialNumber, c.certFile, c.keyFile)).result).toBe("Access-Accept");
    await api("POST", `/certificates/${c.id}/revoke`, { reason: "keyCompromise" });
    const attempts = (await radiusEvents("deviceSerial", revoked.serialNumber)).length;
    const r = await join(revoked.serialNumber, c.certFile, c.keyFile);
    expect(r.result, r.log).toBe("Access-Reject");
    expect(radiusLog()).toMatch(/ocsp: Cert status: revoked/i);
    // OCSP refused it inside the TLS handshake, before the portal was asked: FreeRADIUS reports the
    // refusal, so it is a RADIUS Authentication event like every other decision, with both reasons.
    const events = await radiusEvents("deviceSerial", revoked.serialNumber);
    expect(events.length).toBe(attempts + 1);
    const [latest] = events;
    expect(latest).toMatchObject({
      outcome: "denied",
      certificateSerial: serialOf(readFileSync(c.certFile, "utf8")),
      details: { decision: "reject", refusedBy: "TLS handshake", countedAsUse: true },
    });
    expect(latest!.details.reason).toMatch(
      /^the certificate is revoked \(keyCompromise\); the RADIUS server refused it in the TLS handshake \(.*ocsp: Cert status: revoked/,
    );
    expect(r.message.replaceAll('\\"', '"')).toContain("the certificate is revoked (keyCompromise)");
    const cert = await api("GET", `/certificates/${c.id}`);
    expect(new Date(cert.lastSeenAt).getTime()).toBeGreaterThanOrEqual(new Date(cert.revokedAt).getTime());
  });

  it("rejects a device that left the MDM, with the reason in General Events", async () => {
    const c = certs[removed.serialNumber]!;
    expect((await join(removed.serialNumber, c.certFile, c.keyFile)).result).toBe("Access-Accept");
    kandji.state.removeDevice(removed.serialNumber);
    const serial = serialOf(readFileSync(c.certFile, "utf8"));
    const attempts = (await radiusEvents("certificateSerial", serial)).length;
    const r = await join(removed.serialNumber, c.certFile, c.keyFile);
    expect(r.result, r.log).toBe("Access-Reject");
    // The portal decided this one: one event, not a second report of the same refusal.
    expect((await radiusEvents("certificateSerial", serial)).length).toBe(attempts + 1);
    // FreeRADIUS passes the portal's reason on as Reply-Message, JSON escapes and all.
    expect(r.message.replaceAll('\\"', '"')).toContain(`device ${removed.serialNumber} not found in "Kandji API"`);
    const [latest] = await radiusEvents("deviceSerial", removed.serialNumber);
    expect(latest).toMatchObject({ outcome: "denied", details: { decision: "reject" } });
    expect(latest!.summary).toContain(`RADIUS Authentication rejected for CN=${removed.serialNumber}`);
    expect(latest!.details.reason).toContain(`device ${removed.serialNumber} not found in "Kandji API"`);
  });

  it("rejects a certificate from another CA, even for a device the MDM knows", async () => {
    const other = tempDir("other-ca-");
    const run = (...args: string[]) => spawnSync("openssl", args, { cwd: other, stdio: "ignore" }).status;
    run(
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-384",
      "-nodes",
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "2",
      "-subj",
      "/CN=Wi-Fi Devices CA",
    );
    run(
      "req",
      "-new",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-384",
      "-nodes",
      "-keyout",
      "d.key",
      "-out",
      "d.csr",
      "-subj",
      `/CN=${kept.serialNumber}`,
    );
    writeFileSync(path.join(other, "ext"), "extendedKeyUsage=clientAuth\n");
    run("x509", "-req", "-in", "d.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "d.pem", "-days", "2", "-extfile", "ext");
    const r = await join(kept.serialNumber, path.join(other, "d.pem"), path.join(other, "d.key"));
    expect(r.result, r.log).toBe("Access-Reject");
    const [refused] = await radiusEvents("certificateSerial", serialOf(readFileSync(path.join(other, "d.pem"), "utf8")));
    expect(refused).toMatchObject({ outcome: "denied", deviceSerial: null, details: { decision: "reject", refusedBy: "TLS handshake" } });
    expect(refused!.details.reason).toMatch(
      /^no certificate with serial number \w+ was issued by this PKI; the RADIUS server refused it in the TLS handshake \(.*unable to get local issuer certificate/,
    );

    // An attacker's copy of the kept device's certificate (same serial number, issuer name and
    // subject, another key and CA): refused, recorded, and it does not count as the real one's use.
    const keptCert = readFileSync(certs[kept.serialNumber]!.certFile, "utf8");
    const x = new X509Certificate(keptCert);
    const issuerSubj = `/${x.issuer.split("\n").join("/")}`;
    const args = (line: string) => line.split(" ");
    run(...args("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout fca.key -out fca.pem -days 2 -subj"), issuerSubj);
    run(...args(`x509 -req -in d.csr -CA fca.pem -CAkey fca.key -set_serial 0x${x.serialNumber} -out forged.pem -days 2 -extfile ext`));
    expect(new X509Certificate(readFileSync(path.join(other, "forged.pem"))).serialNumber).toBe(x.serialNumber);
    const seenBefore = (await api("GET", `/certificates/${certs[kept.serialNumber]!.id}`)).lastSeenAt;
    const forged = await join(kept.serialNumber, path.join(other, "forged.pem"), path.join(other, "d.key"));
    expect(forged.result, forged.log).toBe("Access-Reject");
    const [copy] = await radiusEvents("certificateSerial", x.serialNumber.toLowerCase());
    expect(copy).toMatchObject({ outcome: "denied", deviceSerial: null, details: { refusedBy: "TLS handshake", countedAsUse: false } });
    expect(copy!.details.reason).toContain("of this PKI is usable, so the certificate presented was not proven to be it");
    expect((await api("GET", `/certificates/${certs[kept.serialNumber]!.id}`)).lastSeenAt).toBe(seenBefore);
    // And the kept device still gets in.
    expect((await join(kept.serialNumber, certs[kept.serialNumber]!.certFile, certs[kept.serialNumber]!.keyFile)).result).toBe("Access-Accept");
  });

  it("lets only admins change the network payloads, and refuses bad ones naming the field, changing nothing", async () => {
    const put = (bearer: string, body: unknown) =>
      fetch(`${portal.url}/api/v1/device-management-platforms/${platformId}/network-payloads`, {
        method: "PUT",
        headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const before = await api("GET", `/device-management-platforms/${platformId}/network-payloads`);
    expect(before.wifi).toMatchObject({ ssid: "Acme Devices" });
    const auditor = await put(auditorToken, { wifiEnabled: true, wifiSsid: "Evil", eapTrustedServerNames: "evil.example", eapServerCaPem: "x" });
    expect(auditor.status).toBe(403);
    const tooLong = await put(token, {
      ...before,
      wifiEnabled: true,
      wifiSsid: "x".repeat(33),
      eapTrustedServerNames: "localhost",
      eapServerCaPem: before.eap.serverCaPem,
    });
    expect(tooLong.status).toBe(400);
    expect(await tooLong.json()).toEqual({ error: "SSID must be at most 32 bytes (this one is 33)", field: "wifiSsid" });
    expect(await api("GET", `/device-management-platforms/${platformId}/network-payloads`)).toEqual(before);
  });
});
