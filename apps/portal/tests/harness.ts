import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createPostgresDatabase } from "@attested/db/testing";
import { SimulatedAppleCa } from "@attested/device-sim";
import { currentBuild } from "../../../scripts/build-dir.mjs";

export { postgresRelay } from "@attested/db/testing";

const root = path.resolve(import.meta.dirname, "../../..");

export const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });

export const tempDir = (prefix = "attested-test-") => mkdtempSync(path.join(os.tmpdir(), prefix));

export interface PortalProcess {
  url: string;
  output: () => string;
  stop: () => Promise<void>;
  child: ChildProcess;
}

/** Runs the portal's server (`node --import tsx server/main.ts`) with `env`, collecting its output. */
export function spawnPortal(env: Record<string, string | undefined>): { child: ChildProcess; output: () => string; stderr: () => string } {
  let out = "";
  let err = "";
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "apps/portal/server/main.ts")], {
    cwd: root,
    env: { ...process.env, NODE_ENV: "production", HOST: "127.0.0.1", ...env } as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => {
    out += d;
    err += d;
  });
  return { child, output: () => out, stderr: () => err };
}

/** Starts the built portal (`node --import tsx server/main.ts`) and waits for /healthz. */
export async function startPortal(env: Record<string, string | undefined>): Promise<PortalProcess> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const tls = Boolean(env.TLS_CERT_FILE);
  const url = tls ? `https://localhost:${port}` : `http://127.0.0.1:${port}`;
  const { child, output } = spawnPortal({ PORT: String(port), PUBLIC_URL: url, ATTESTATION_TEST_ROOTS: "1", ...env });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`portal exited: ${output()}`);
    try {
      if (tls ? spawnSync("curl", ["-sfk", `${url}/healthz`]).status === 0 : (await fetch(`${url}/healthz`)).ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error(`portal did not start: ${output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    child,
    output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** A fresh database on the DATABASE_URL server; returns its URL and a drop function. */
export const freshPostgres = () => createPostgresDatabase(process.env.DATABASE_URL!, "p");

/**
 * Signs in through next-auth's credentials endpoint. `cookie` is the session cookie when one was
 * issued; `location` is where next-auth sent the browser (with `code=rate_limited` when throttled).
 */
export async function signInOverHttp(url: string, email: string, password: string, headers: Record<string, string> = {}) {
  const csrfRes = await fetch(`${url}/api/auth/csrf`, { headers });
  const { csrfToken } = (await csrfRes.json()) as { csrfToken: string };
  const csrfCookie = csrfRes.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  const res = await fetch(`${url}/api/auth/callback/credentials`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: csrfCookie, ...headers },
    body: new URLSearchParams({ email, password, csrfToken }),
  });
  const session = res.headers.getSetCookie().find((c) => c.includes("session-token="));
  return { cookie: session?.split(";")[0], location: res.headers.get("location") ?? "" };
}

/** Signs in through next-auth's credentials endpoint; true when a session cookie is issued. */
export const canSignIn = async (url: string, email: string, password: string) => Boolean((await signInOverHttp(url, email, password)).cookie);
/** Signs in through next-auth's credentials endpoint; the session cookie, or null when refused. */
export const signIn = async (url: string, email: string, password: string) => (await signInOverHttp(url, email, password)).cookie ?? null;

/**
 * A server action request the way the browser makes it: the Next-Action header with the action's id
 * from the build, and React's encoding of (prevState, formData) with the form's fields under "_1_".
 */
export function serverActionRequest(exportedName: string, fields: Record<string, string>) {
  const manifest = JSON.parse(readFileSync(path.join(root, "apps/portal", currentBuild() ?? ".next", "server/server-reference-manifest.json"), "utf8")) as {
    node: Record<string, { exportedName: string }>;
  };
  const id = Object.entries(manifest.node).find(([, v]) => v.exportedName === exportedName)?.[0];
  if (!id) throw new Error(`no server action named ${exportedName}`);
  const body = new FormData();
  for (const [k, v] of Object.entries(fields)) body.set(`_1_${k}`, v);
  // The root goes last: the server decodes it as the body streams in, with the fields received so far.
  body.set("0", '[{},"$K1"]');
  return { headers: { "Next-Action": id, Accept: "text/x-component" }, body };
}

/** Calls a server action with a session cookie, bypassing whatever the page shows. */
export function callServerAction(url: string, cookie: string, page: string, exportedName: string, fields: Record<string, string>) {
  const { headers, body } = serverActionRequest(exportedName, fields);
  return fetch(`${url}${page}`, { method: "POST", redirect: "manual", headers: { ...headers, cookie }, body });
}

/** `npm run admin -- ...` against the portal's database; the exit status and what it printed. */
export function adminCli(env: Record<string, string | undefined>, ...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", path.join(root, "apps/portal/server/admin.ts"), ...args], {
    cwd: root,
    env: { ...process.env, ...env } as NodeJS.ProcessEnv,
    encoding: "utf8",
  });
  return { status: r.status, output: r.stdout + r.stderr };
}

/** A test TLS server certificate for localhost, signed by a throwaway CA (files in `dir`). */
export function localhostTls(dir: string): { caFile: string; certFile: string; keyFile: string } {
  const run = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
  run(
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=Test TLS CA",
  );
  run("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "tls.key", "-out", "tls.csr", "-subj", "/CN=localhost");
  writeFileSync(path.join(dir, "ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  run("x509", "-req", "-in", "tls.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "tls.pem", "-days", "2", "-extfile", "ext.cnf");
  return { caFile: path.join(dir, "ca.pem"), certFile: path.join(dir, "tls.pem"), keyFile: path.join(dir, "tls.key") };
}

/** `npm run admin -- create-api-token` against a data folder, before the portal starts. */
export function adminApiToken(env: Record<string, string | undefined>, role: "admin" | "auditor" = "admin", ...options: string[]): string {
  const r = adminCli(env, "create-api-token", `tests-${role}`, "--role", role, ...options);
  if (r.status !== 0) throw new Error(r.output);
  return /token: (\S+)/.exec(r.output)![1];
}

export const commandExists = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;

/** A REST call as a test's admin token makes it: the parsed answer, or an Error naming the call. */
// biome-ignore lint/suspicious/noExplicitAny: each test reads the answers it needs
export type AdminApi = (method: string, path: string, body?: unknown) => Promise<any>;

/**
 * The guide's Dynamic PKI half over REST, as most integration tests need it: an intermediate CA
 * under the organization's root, a template (subject from the attested serial number), the Apple Key
 * Attestation Platform trusting a simulated Apple CA, and a Kandji ACME platform with those defaults.
 */
export async function setUpAcmePlatform(api: AdminApi, names: { ca?: string; template?: string } = {}) {
  const root = (await api("GET", "/certificate-authorities")).data.find((c: { isDefault: boolean }) => c.isDefault);
  const ca = await api("POST", "/certificate-authorities", {
    purpose: "Device and User Authentication",
    type: "INTERMEDIATE",
    parentId: root.id,
    generatedVia: "internal",
    commonName: names.ca ?? "Devices CA",
    keyAlgorithm: "EC-P256",
    signatureAlgorithm: "SHA-256",
    validityYears: 2,
  });
  const template = await api("POST", "/certificate-templates", {
    name: names.template ?? "Devices",
    subject: "CN=${/attestation/serialNumber}",
    validityDays: 30,
    extendedKeyUsages: ["clientAuth"],
  });
  const simCa = await SimulatedAppleCa.create();
  const kap = await api("POST", "/key-attestation-platforms", { name: "Apple", type: "apple" });
  await api("PATCH", `/key-attestation-platforms/${kap.id}`, { testTrustedRoots: simCa.rootPem });
  const dmp = await api("POST", "/device-management-platforms", { name: "Kandji", type: "acme-enrollment-token", vendor: "kandji" });
  await api("PATCH", `/device-management-platforms/${dmp.id}`, { name: "Kandji", description: "", defaultCaId: ca.id, defaultTemplateId: template.id });
  return { caId: ca.id as string, templateId: template.id as string, kapId: kap.id as string, dmpId: dmp.id as string, simCa };
}

/** One call to the portal's REST API (/api/v1) with a bearer token; whatever status comes back. */
export async function restCall(url: string, token: string, method: string, p: string, body?: unknown) {
  const res = await fetch(`${url}/api/v1${p}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) };
}

/** A REST call that must succeed: its JSON, or an error naming the call and the answer. */
export async function restOk(url: string, token: string, method: string, p: string, body?: unknown) {
  const r = await restCall(url, token, method, p, body);
  if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${r.text}`);
  return r.json();
}

/**
 * The guide's whole chain for Kandji over REST: setUpAcmePlatform, then a Generic HTTP Core Platform
 * looking devices up in the Kandji (simulator) at `kandji.url`, its Security Signal Source, a Policy
 * Workflow, a Device Role and an Enrollment Policy.
 */
export async function setUpKandjiChain(api: AdminApi, options: { kandji: { url: string; token: string }; revokeOnFailure: boolean }) {
  const platform = await setUpAcmePlatform(api);
  const ids = { ca: platform.caId, template: platform.templateId, kap: platform.kapId, dmp: platform.dmpId } as Record<
    "ca" | "template" | "kap" | "dmp" | "core" | "source" | "workflow" | "role" | "policy",
    string
  >;
  ids.core = (
    await api("POST", "/core-platforms", {
      name: "Kandji API",
      description: "",
      type: "generic-http",
      authMethod: "bearer",
      secret: options.kandji.token,
      uri: `${options.kandji.url}/api/v1/devices?serial_number=\${identity}`,
      validationRules: [{ path: "data[0].serial_number", condition: "equals", expected: "${identity}" }],
    })
  ).id;
  ids.source = (
    await api("POST", "/security-signal-sources", {
      name: "Kandji lookup",
      description: "",
      lookupPurpose: "certificate-issuance",
      corePlatformId: ids.core,
      identityType: "csr",
      identityAttribute: "/attestation/serialNumber",
      revokeOnFailure: options.revokeOnFailure,
    })
  ).id;
  ids.workflow = (await api("POST", "/policy-workflows", { name: "Kandji Role", description: "", corePlatformId: ids.core, attributeConditions: [] })).id;
  ids.role = (await api("POST", "/device-roles", { name: "Apple devices", description: "", keyAttestationPlatformId: ids.kap })).id;
  ids.policy = (
    await api("POST", "/enrollment-policies", {
      name: "Kandji enrollment",
      description: "",
      priority: 100,
      policyWorkflowId: ids.workflow,
      deviceRoleId: ids.role,
      caId: ids.ca,
      templateId: ids.template,
    })
  ).id;
  return { ids, simCa: platform.simCa };
}
