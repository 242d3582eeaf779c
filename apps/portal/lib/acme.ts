import { createHash } from "node:crypto";
import { toProblem } from "@attested/acme";
import { isDatabaseUnavailable } from "@attested/db";
import { createAcmeService } from "@attested/enrollment";
import { scheduleEnrollmentNotice } from "@attested/lifecycle";
import { masterKey } from "@attested/secrets";
import { enrollmentMetrics } from "../server/metrics";
import { caContext } from "./ca";
import { publicUrl } from "./config";
import { getDb } from "./db";

type Service = ReturnType<typeof createAcmeService>;
const g = globalThis as unknown as { __attestedAcme?: Promise<Service> };

/** The process's ACME service (one AcmeServer for every Device Management Platform). */
export function acmeService(): Promise<Service> {
  return (g.__attestedAcme ??= (async () =>
    createAcmeService({
      db: await getDb(),
      ca: caContext,
      publicUrl: publicUrl(),
      // "Notify user on successful Enrollment": queued, sent by the lifecycle worker.
      afterIssue: async (certificate) => void (await scheduleEnrollmentNotice(await getDb(), certificate)),
      metrics: enrollmentMetrics,
      http01Port: process.env.ACME_HTTP01_PORT ? Number(process.env.ACME_HTTP01_PORT) : undefined,
      http01Address: process.env.ACME_HTTP01_ADDRESS || undefined,
      allowPrivateAddresses: process.env.ACME_VALIDATION_ALLOW_PRIVATE === "1",
      dnsServers: process.env.ACME_DNS_SERVERS?.split(",").map((s) => s.trim()).filter(Boolean),
      // Every instance has the same master key, so a nonce issued by one is accepted by any other.
      nonceKey: createHash("sha256").update(Buffer.concat([Buffer.from("attested-pki acme nonce key\0"), masterKey()])).digest(),
    }))());
}

/**
 * The answer when a request fails before the ACME core could answer it (the platform lookup, say):
 * 503 with Retry-After while the database is unavailable, else a bare serverInternal. Either carries a
 * fresh nonce (RFC 8555 §6.5), which needs no database.
 */
export async function acmeFailure(err: unknown): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const p = toProblem(err, isDatabaseUnavailable(err));
  const nonce = await acmeService().then((s) => ({ "replay-nonce": s.server.replayNonce() }), () => ({}));
  return {
    status: p.status,
    headers: { "content-type": "application/problem+json", "cache-control": "no-store", ...p.headers, ...nonce },
    body: JSON.stringify(p.toJSON()),
  };
}
