import { promises as dnsPromises } from "node:dns";
import "reflect-metadata";
import { X509Certificate } from "@peculiar/x509";
import {
  AcmeServer,
  createDns01Validator,
  createHttp01Validator,
  problem,
  SqlAcmeStore,
  SUBSCRIBER_REVOCATION_REASONS,
  type AcmePlatform,
} from "@attested/acme";
import { issuingChain, revokeCertificateForSubscriber, type CaContext } from "@attested/ca";
import { databaseOf, isDatabaseUnavailable, sqlOf, type Certificate, type Db } from "@attested/db";
import { DomainError } from "@attested/errors";
import { eventInsert } from "@attested/events";
import { logger } from "@attested/log";
import { PlatformCache } from "@attested/platforms";
import { deviceAttestValidator } from "./attest";
import { acmeEventInput } from "./events";
import { issueHook, type EnrollmentMetrics } from "./issue";

export interface AcmeServiceOptions {
  db: Db;
  ca: () => Promise<CaContext>;
  publicUrl: string;
  afterIssue?: (certificate: Certificate) => Promise<void>;
  metrics?: EnrollmentMetrics;
  /** http-01 validation port (80 in production; tests point it at their own server). */
  http01Port?: number;
  /** Connect to this address for every http-01 check instead of resolving the name (test networks only). */
  http01Address?: string;
  /** Validate http-01 against loopback, private and other internal addresses too (test networks only). */
  allowPrivateAddresses?: boolean;
  /** DNS servers for dns-01 (default: the system resolver). */
  dnsServers?: string[];
  onError?: (err: unknown, ctx: Record<string, unknown>) => void;
  /** Signed ACME nonces (see AcmeServer): the same key on every instance, e.g. derived from the master key. */
  nonceKey?: Buffer;
  /** Platforms by enrollment secret (the server's one cache); by default one following `db`'s bus. */
  platforms?: PlatformCache;
  now?: () => Date;
}

/** The ACME server of the portal: one per process, serving every Device Management Platform. */
export function createAcmeService(opts: AcmeServiceOptions) {
  const { db } = opts;
  const platforms = opts.platforms ?? new PlatformCache().follow(databaseOf(db).bus);
  const reportError = (err: unknown, ctx: Record<string, unknown>) => (opts.onError ? opts.onError(err, ctx) : logger().error({ err, ...ctx }, "acme error"));
  // dns-01 asks the configured DNS servers (tests run their own), else the system's.
  let resolver: dnsPromises.Resolver | undefined;
  if (opts.dnsServers?.length) {
    resolver = new dnsPromises.Resolver({ timeout: 5000, tries: 2 });
    resolver.setServers(opts.dnsServers);
  }
  const server = new AcmeServer({
    // ACME events are recorded by the store, in the statement of the change they describe: the only
    // write path of the trail's ACME events, so no onEvent (which would write after the change).
    store: new SqlAcmeStore(sqlOf(db), (e, first) => {
      const input = acmeEventInput(e);
      return input && eventInsert(input, first);
    }),
    validators: {
      "device-attest-01": deviceAttestValidator(db, opts.now, opts.metrics && ((r) => opts.metrics!.attestation(r))),
      "http-01": createHttp01Validator({
        port: opts.http01Port ?? 80,
        resolveHost: opts.http01Address ? () => opts.http01Address! : undefined,
        allowPrivateAddresses: opts.allowPrivateAddresses,
        onConnectionError: (err, identifier) => reportError(err, { stage: "http-01 connection", identifier }),
      }),
      "dns-01": createDns01Validator({ resolver }),
    },
    issue: issueHook({ ca: opts.ca, afterIssue: opts.afterIssue, metrics: opts.metrics }),
    isUnavailable: isDatabaseUnavailable,
    getCertificateChain: async ({ certificateId }) => {
      const [cert] = await sqlOf(db).query<{ pem: string; caId: string }>(
        `SELECT "pem", "caId" FROM "Certificate" WHERE "id" = $1`,
        [certificateId],
        "acme_certificate_pem",
      );
      if (!cert) return null;
      const chain = await issuingChain(await opts.ca(), cert.caId);
      // RFC 8555 §7.4.2: the leaf, then the issuer chain; the root is the relying party's anchor.
      const issuers = chain.filter((c, i) => i === 0 || c.type !== "ROOT");
      return `${[cert.pem, ...issuers.map((c) => c.certificatePem)].map((p) => p.trim()).join("\n")}\n`;
    },
    findCertificate: async ({ der }) => {
      let serial: string;
      try {
        serial = new X509Certificate(new Uint8Array(der)).serialNumber.toLowerCase();
      } catch {
        return null;
      }
      const c = await db.certificate.findUnique({ where: { serialNumber: serial }, select: { id: true, acmeOrderId: true, status: true, pem: true } });
      // Same serial is not enough: the bytes must be the certificate we issued.
      if (!c || !Buffer.from(new X509Certificate(c.pem).rawData).equals(Buffer.from(der))) return null;
      // A certificate on hold may still be revoked for good (with the subscriber's reason).
      return { certificateId: c.id, acmeOrderId: c.acmeOrderId, revoked: c.status === "REVOKED" };
    },
    revokeCertificate: async ({ certificateId, reason, requestedBy }) => {
      // The ACME actor, named as the other ACME events name it.
      const actor =
        requestedBy.kind === "certificate-key"
          ? { type: "device" as const, name: "certificate key" }
          : { type: "device" as const, id: requestedBy.accountId, name: `acme-account:${requestedBy.accountId.slice(0, 8)}` };
      try {
        await revokeCertificateForSubscriber(
          await opts.ca(),
          actor,
          certificateId,
          { reason: SUBSCRIBER_REVOCATION_REASONS.get(reason) },
          { via: "ACME revokeCert", requestedBy: requestedBy.kind },
        );
      } catch (e) {
        // A concurrent revocation got there first.
        if (e instanceof DomainError && e.status === 409) throw problem.alreadyRevoked("The certificate is already revoked");
        throw e;
      }
    },
    onError: reportError,
    allowPrivateAddresses: opts.allowPrivateAddresses,
    nonceKey: opts.nonceKey,
    // issueHook parses the CSR with parseCsr (signature and key checks) and answers badCSR itself.
    issuerChecksCsr: true,
    now: opts.now,
  });

  /** The ACME platform for an enrollment secret in the URL, or null (unknown or rotated away). */
  async function platformFor(secret: string): Promise<AcmePlatform | null> {
    const p = await platforms.get(db, secret);
    if (!p) return null;
    return {
      id: p.id,
      baseUrl: `${opts.publicUrl}/acme/${secret}`,
      allowedChallenges: ["device-attest-01", ...(p.allowServerNames ? (["http-01", "dns-01"] as const) : [])],
      allowedIdentifierTypes: ["permanent-identifier", ...(p.allowServerNames ? (["dns", "ip"] as const) : [])],
    };
  }
  return { server, platformFor };
}
