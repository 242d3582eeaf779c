// One benchmark environment: private PostgreSQL, the Kandji simulator seeded with the fleet, the built
// portal, and the Apple enrollment configured through the REST API as an admin would.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createSoftHsmToken, type SoftHsmToken } from "../../packages/pki/src/softhsm";
import { createDeviceFetch, SimulatedAppleCa, generateDevices, type SimulatedDevice } from "@attested/device-sim";
import { startKandjiSimulator, type KandjiSimulator } from "@attested/kandji-sim";
import { createAdminToken, createDatabase, ensurePortalBuilt, localhostTls, restClient, startPortal, startPostgres, type Portal, type Postgres } from "./lib";

export const ENROLL_TEMPLATE = {
  name: "Kandji devices",
  subject: "CN=${/attestation/serialNumber},O=Acme Corp",
  validityDays: 365,
  sanRfc822: "${/csr/san/rfc822name}",
  sanUri: "urn:udid:${/attestation/udid}",
  extendedKeyUsages: ["clientAuth"],
};

export interface BenchEnv {
  pg: Postgres;
  databaseUrl: string;
  dataDir: string;
  portal: Portal;
  kandji: KandjiSimulator;
  kandjiToken: string;
  simCa: SimulatedAppleCa;
  devices: SimulatedDevice[];
  profile: string;
  token: string;
  api: ReturnType<typeof restClient>;
  fetch: typeof fetch;
  tls?: { caFile: string; certFile: string; keyFile: string };
  ids: { rootCaId: string; caId: string; templateId: string; platformId: string; kapId: string; policyId?: string; hsmCaId?: string };
  /** --hsm: the SoftHSM2 token the portal's HSM-backed issuing CA (ids.hsmCaId) keeps its key in. */
  hsm?: SoftHsmToken;
  /** Makes `caId` the CA that issues (the Enrollment Policy's and the platform's). */
  issueFrom: (caId: string) => Promise<void>;
  /** What the REST configuration could set up of the policy flow (resources missing from /api/v1 are noted). */
  policyNote: string;
  restartPortal: (extra?: { nodeArgs?: string[]; env?: Record<string, string> }) => Promise<void>;
  close: () => Promise<void>;
}

export interface BenchEnvOptions {
  devices: number;
  serialPrefix?: string;
  tls?: boolean;
  nodeArgs?: string[];
  env?: Record<string, string>;
  pgSocket?: boolean;
  /** Server processes (WEB_CONCURRENCY). */
  workers?: number;
  /** Also allow http-01/dns-01 on the platform (server names). */
  allowServerNames?: boolean;
  /** A SoftHSM2 token for the portal (PKCS11_*) and a second issuing CA whose key is in it. */
  hsm?: boolean;
}

export async function setupBenchEnv(opts: BenchEnvOptions): Promise<BenchEnv> {
  ensurePortalBuilt();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "bench-data-"));
  const pg = await startPostgres();
  const dbName = `bench_${Date.now().toString(36)}`;
  const tcpUrl = await createDatabase(pg.url, dbName);
  // --pg-socket: the portal talks to PostgreSQL over its Unix socket instead of TCP loopback.
  const databaseUrl = opts.pgSocket ? pg.socketUrl.replace("/postgres?", `/${dbName}?`) : tcpUrl;
  const tls = opts.tls ? localhostTls(dataDir) : undefined;
  const token = createAdminToken(databaseUrl, dataDir);
  const hsm = opts.hsm ? createSoftHsmToken("Attested Bench") : undefined;
  const hsmEnv: Record<string, string> = hsm ? { SOFTHSM2_CONF: hsm.conf, PKCS11_MODULE: hsm.module, PKCS11_TOKEN_LABEL: hsm.label, PKCS11_PIN: hsm.pin } : {};
  // The Kandji simulator speaks plain http on loopback; simulated devices attest with a test root.
  opts.env = {
    ...hsmEnv,
    INTEGRATIONS_ALLOW_HTTP: "1",
    ATTESTATION_TEST_ROOTS: "1",
    WEB_CONCURRENCY: String(opts.workers ?? 1),
    ...opts.env,
  };
  let portal = await startPortal({ databaseUrl, dataDir, tls, nodeArgs: opts.nodeArgs, env: opts.env });
  const f = createDeviceFetch({ ca: tls ? readFileSync(tls.caFile) : undefined });
  const api = restClient(portal.url, token, f);

  // The fleet, and the MDM that knows it.
  const devices = generateDevices(opts.devices, opts.serialPrefix ?? "SIM");
  const kandjiToken = "bench-kandji-token-0123456789";
  const kandji = await startKandjiSimulator({
    token: kandjiToken,
    seed: {
      blueprints: [{ id: "11111111-1111-4111-8111-111111111111", name: "Corporate Macs" }] as never,
      devices: devices.map((d) => ({
        serial_number: d.serialNumber,
        device_name: d.deviceName,
        platform: "Mac",
        model: d.model,
        os_version: "15.5",
        blueprint_id: "11111111-1111-4111-8111-111111111111",
        user: d.email ? { email: d.email, name: d.fullName ?? d.email } : "",
        udid: d.udid,
      })),
    },
    // Far above Kandji's 10,000 an hour: the benchmark measures us, not the MDM's quota.
    rateLimit: { requests: 1_000_000, windowMs: 3_600_000 },
  });

  // Dynamic PKI: an EC P-256 intermediate under the organization root, and the device template.
  const cas = (await api<{ data: { id: string; isDefault: boolean }[] }>("GET", "/certificate-authorities")).data;
  const rootCa = cas.find((c) => c.isDefault)!;
  const ca = await api<{ id: string }>("POST", "/certificate-authorities", {
    purpose: "Device and User Authentication",
    type: "INTERMEDIATE",
    parentId: rootCa.id,
    generatedVia: "internal",
    commonName: "Kandji ACME CA",
    keyAlgorithm: "EC-P256",
    signatureAlgorithm: "SHA-256",
    validityYears: 5,
  });
  const hsmCa = hsm
    ? await api<{ id: string }>("POST", "/certificate-authorities", {
        purpose: "Device and User Authentication",
        type: "INTERMEDIATE",
        parentId: rootCa.id,
        generatedVia: "pkcs11",
        keyLabel: "bench-issuing",
        commonName: "Kandji ACME CA (HSM)",
        keyAlgorithm: "EC-P256",
        signatureAlgorithm: "SHA-256",
        validityYears: 5,
      })
    : undefined;
  const template = await api<{ id: string }>("POST", "/certificate-templates", ENROLL_TEMPLATE);
  // Integration Hub: Apple attestation with the simulated root as an explicit test root.
  const simCa = await SimulatedAppleCa.create();
  const kap = await api<{ id: string }>("POST", "/key-attestation-platforms", { name: "Apple", type: "apple" });
  await api("PATCH", `/key-attestation-platforms/${kap.id}`, { testTrustedRoots: simCa.rootPem });
  const platform = await api<{ id: string }>("POST", "/device-management-platforms", { name: "Kandji", type: "acme-enrollment-token", vendor: "kandji" });
  await api("PATCH", `/device-management-platforms/${platform.id}`, {
    name: "Kandji",
    description: "",
    defaultCaId: ca.id,
    defaultTemplateId: template.id,
    ...(opts.allowServerNames ? { allowServerNames: true } : {}),
  });

  // The policy flow, as the guide sets it up: Core Platform (Generic HTTP → the Kandji simulator's device
  // lookup), Security Signal Source (look the attested serial up at issuance), Policy Workflow (the Role),
  // Device Role (attested by the Apple Key Attestation Platform) and the Enrollment Policy (CA, template).
  let policyNote: string;
  let policyId: string | undefined;
  try {
    const core = await api<{ id: string }>("POST", "/core-platforms", {
      name: "Kandji",
      description: "Device lookup",
      type: "generic-http",
      authMethod: "bearer",
      secret: kandjiToken,
      uri: `${kandji.url}/api/v1/devices?serial_number=\${identity}`,
      validationRules: [{ path: "data[0].serial_number", condition: "equals", expected: "${identity}" }],
      timeoutMs: 5000,
      attributeMappings: [
        { path: "data[0].user.email", attribute: "email" },
        { path: "data[0].device_name", attribute: "deviceName" },
      ],
      groupsPath: "data[0].blueprint_name, data[0].tags",
    });
    await api("POST", "/security-signal-sources", {
      name: "Kandji lookup",
      description: "",
      lookupPurpose: "certificate-issuance",
      corePlatformId: core.id,
      identityType: "csr",
      identityAttribute: "/attestation/serialNumber",
      revokeOnFailure: false,
    });
    const workflow = await api<{ id: string }>("POST", "/policy-workflows", {
      name: "Kandji Role",
      description: "",
      corePlatformId: core.id,
      attributeConditions: [],
    });
    const role = await api<{ id: string }>("POST", "/device-roles", { name: "Apple devices", description: "", keyAttestationPlatformId: kap.id });
    policyId = (
      await api<{ id: string }>("POST", "/enrollment-policies", {
        name: "Kandji enrollment",
        description: "",
        priority: 100,
        policyWorkflowId: workflow.id,
        deviceRoleId: role.id,
        caId: ca.id,
        templateId: template.id,
      })
    ).id;
    policyNote = "Enrollment Policy with Kandji lookup (Generic HTTP → Kandji simulator), Signal Source, Workflow, Device Role";
  } catch (e) {
    policyNote = `policy setup through REST failed (${(e as Error).message.slice(0, 200)}): the platform's default CA and template decide`;
  }

  const profile = await api<string>("GET", `/device-management-platforms/${platform.id}/profile`);
  const env: BenchEnv = {
    pg,
    databaseUrl,
    dataDir,
    portal,
    kandji,
    kandjiToken,
    simCa,
    devices,
    profile: String(profile),
    token,
    api,
    fetch: f,
    tls,
    ids: { rootCaId: rootCa.id, caId: ca.id, templateId: template.id, platformId: platform.id, kapId: kap.id, policyId, hsmCaId: hsmCa?.id },
    hsm,
    issueFrom: async (caId) => {
      if (policyId) await api("PATCH", `/enrollment-policies/${policyId}`, { caId, templateId: template.id });
      await api("PATCH", `/device-management-platforms/${platform.id}`, { name: "Kandji", description: "", defaultCaId: caId, defaultTemplateId: template.id });
    },
    policyNote,
    restartPortal: async (extra = {}) => {
      await portal.stop();
      portal = await startPortal({ databaseUrl, dataDir, tls, nodeArgs: extra.nodeArgs ?? opts.nodeArgs, env: { ...opts.env, ...extra.env } });
      env.portal = portal;
    },
    close: async () => {
      await portal.stop();
      await kandji.close();
      await pg.stop();
      rmSync(dataDir, { recursive: true, force: true });
      hsm?.remove();
    },
  };
  return env;
}

/** A SQL client on the benchmark database (counts for the integrity checks). */
export async function sql(databaseUrl: string) {
  const { createRequire } = await import("node:module");
  const pgmod = createRequire(path.resolve(import.meta.dirname, "../../apps/portal/package.json"))("pg");
  const c = new pgmod.Client({ connectionString: databaseUrl });
  await c.connect();
  return {
    query: async <T = Record<string, unknown>>(q: string, params: unknown[] = []): Promise<T[]> => (await c.query(q, params)).rows as T[],
    close: () => c.end(),
  };
}
