// The composition root: every service and cache of a server process is built here, once, in order
// (as Pebble's main.go builds store, CA, VA and WFE and hands each to the next):
//   config -> master key and its derived keys -> database (with its invalidation bus and configuration
//   cache) -> CA context (one key store, one OCSP answer cache) -> platform cache -> ACME service.
// main.ts builds them before Next.js starts; the fast routes get them as an argument; Next's route
// handlers and pages get them through the one bridge below.
import { setSsoEnvironment } from "@attested/identity";
import { databaseKeyStore, OcspResponseCache, type CaContext } from "@attested/ca";
import { InvalidationBus, openDatabase, setPaths, type Database } from "@attested/db";
import { createAcmeService } from "@attested/enrollment";
import { scheduleEnrollmentNotice } from "@attested/lifecycle";
import { setAllowHttp } from "@attested/integrations";
import { PlatformCache, setTestRoots } from "@attested/platforms";
import { adoptLogState, logState, type LogState } from "@attested/log";
import { Pkcs11KeyStore, RoutedKeyStore } from "@attested/pki";
import { readFileSync } from "node:fs";
import { deriveKeys, loadMasterKey, setMasterKey, type DerivedKeys } from "@attested/secrets";
import { loadConfig, type Config } from "./config";
import { createMetrics, type Metrics } from "./metrics";

export interface Services {
  config: Config;
  /** Never logged nor returned: handed to each module copy's @attested/secrets (see services()). */
  masterKey: Buffer;
  keys: DerivedKeys;
  /** Invalidations of what this process caches; cluster.ts carries them to and from sibling processes. */
  bus: InvalidationBus;
  database: Database;
  /** The CA service context: one key store (unsealed keys cached once; the HSM's, when configured), one OCSP answer cache. */
  ca: CaContext;
  platforms: PlatformCache;
  /** The ACME server for every Device Management Platform, and the platform lookup by enrollment secret. */
  acme: ReturnType<typeof createAcmeService>;
  metrics: Metrics;
  /** The server's request context and root logger, adopted by Next's copy of @attested/log. */
  log: LogState;
}

/**
 * The settings a few packages keep as module state, read where no caller could pass them (a sealed
 * secret's default key, a page's "test roots count" badge): handed to this module copy's packages.
 */
function handOver(config: Config, master: Buffer, log: LogState): void {
  adoptLogState(log);
  setPaths({ root: config.root, dataDir: config.dataDir });
  setMasterKey(master);
  setTestRoots(config.attestationTestRoots);
  setAllowHttp(config.integrationsAllowHttp);
  setSsoEnvironment(config.sso);
}

/** Builds the process's services from its configuration (the database is opened, not yet migrated). */
export async function buildServices(config: Config): Promise<Services> {
  const master = loadMasterKey(config.masterKey);
  const log = logState();
  handOver(config, master, log);
  const keys = deriveKeys(master);
  const bus = new InvalidationBus();
  const database = await openDatabase({
    url: config.database.url,
    poolSize: config.database.poolSize,
    sqlPoolSize: config.database.sqlPoolSize,
    bus,
  });
  const db = database.prisma;
  const hsm = config.pkcs11 ? pkcs11KeyStore(config.pkcs11) : undefined;
  const ca: CaContext = {
    db,
    keyStore: new RoutedKeyStore(databaseKeyStore(db, master), hsm),
    hsm,
    publicUrl: config.publicUrl,
    ocspResponses: new OcspResponseCache().follow(bus),
  };
  const platforms = new PlatformCache().follow(bus);
  const metrics = createMetrics();
  const caContext = async () => ca;
  const acme = createAcmeService({
    db,
    ca: caContext,
    publicUrl: config.publicUrl,
    // "Notify user on successful Enrollment": queued, sent by the lifecycle worker.
    afterIssue: async (certificate) => void (await scheduleEnrollmentNotice(db, certificate)),
    metrics: metrics.enrollment,
    http01Port: config.acme.http01Port,
    http01Address: config.acme.http01Address,
    allowPrivateAddresses: config.acme.allowPrivateAddresses,
    dnsServers: config.acme.dnsServers,
    nonceKey: keys.acmeNonceKey,
    platforms,
  });
  return { config, masterKey: master, keys, bus, database, ca, platforms, acme, metrics, log };
}

/**
 * The HSM's key store. It opens its session on first use, not here: a token that is missing at start
 * fails only the CAs whose keys it holds (503 / tryLater), and is found again once it is back.
 */
function pkcs11KeyStore(c: NonNullable<Config["pkcs11"]>): Pkcs11KeyStore {
  return new Pkcs11KeyStore({
    module: c.module,
    tokenLabel: c.tokenLabel,
    slot: c.slot,
    // Read at each login, never kept in the database.
    pin: () => c.pin.value ?? readFileSync(c.pin.file!, "utf8").trim(),
  });
}

// The one bridge. Next.js bundles its own copy of every module, so its route handlers and pages cannot
// import the server's objects; main.ts leaves the Services here (before app.prepare()) and
// apps/portal/lib/* read them. Nothing else of the process is kept on globalThis.
const SERVICES = Symbol.for("attested.services");
const slot = globalThis as { [SERVICES]?: Promise<Services> };

export function publishServices(services: Promise<Services>): void {
  slot[SERVICES] = services;
}

/**
 * The process's services. Under the server (main.ts) they are already built; a bare `next dev` builds
 * them on first use from the environment, the same way.
 */
export function services(): Promise<Services> {
  return (adopted ??= (slot[SERVICES] ??= buildServices(loadConfig())).then((s) => {
    // This copy of the packages (Next's, say) gets the same settings as the server's.
    handOver(s.config, s.masterKey, s.log);
    return s;
  }));
}
let adopted: Promise<Services> | undefined;
