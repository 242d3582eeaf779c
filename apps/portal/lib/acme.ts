import { createAcmeService } from "@attested/enrollment";
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
      http01Port: process.env.ACME_HTTP01_PORT ? Number(process.env.ACME_HTTP01_PORT) : undefined,
      http01Address: process.env.ACME_HTTP01_ADDRESS || undefined,
      dnsServers: process.env.ACME_DNS_SERVERS?.split(",").map((s) => s.trim()).filter(Boolean),
    }))());
}
