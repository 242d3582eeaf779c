import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { handleWebRequest } from "@attested/acme";
import { createCa, createTemplate, databaseKeyStore, ensureOrganizationRootCa, type CaContext } from "@attested/ca";
import { createTestDatabase } from "@attested/db/testing";
import { createAcmeService } from "./service";

// Test bed: a fresh database, a CA with an intermediate and a template, and the ACME service served
// over real HTTP on loopback exactly as the portal's route handler serves it.

export const testAdmin = { type: "user" as const, id: "00000000-0000-0000-0000-000000000001", name: "admin@example.com", role: "ADMIN" as const };

export async function startTestbed(template: Record<string, unknown>, http01?: { port: number; address: string }) {
  const db = await createTestDatabase();
  await db.prisma.organization.create({ data: { name: "Acme Corp" } });
  let acme: ReturnType<typeof createAcmeService> | undefined;
  let publicUrl = "";
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const request = new Request(`${publicUrl}${req.url}`, {
      method: req.method,
      headers: req.headers as Record<string, string>,
      body: ["GET", "HEAD"].includes(req.method!) ? undefined : Buffer.concat(chunks),
    });
    const platform = await acme!.platformFor(req.url!.split("/")[2]);
    const response = platform ? await handleWebRequest(acme!.server, request, platform) : new Response("not found", { status: 404 });
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  publicUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const ctx: CaContext = { db: db.prisma, keyStore: databaseKeyStore(db.prisma, randomBytes(32)), publicUrl };
  acme = createAcmeService({
    db: db.prisma,
    ca: async () => ctx,
    publicUrl,
    onError: () => {},
    http01Port: http01?.port,
    http01Address: http01?.address,
    // The test's challenge server is on loopback.
    allowPrivateAddresses: Boolean(http01),
  });
  const root = (await ensureOrganizationRootCa(ctx))!;
  const ca = await createCa(ctx, testAdmin, {
    purpose: "Device and User Authentication",
    type: "INTERMEDIATE",
    parentId: root.id,
    generatedVia: "internal",
    commonName: "Kandji ACME CA",
    keyAlgorithm: "EC-P256",
    signatureAlgorithm: "SHA-256",
    validityYears: 5,
  });
  const tpl = await createTemplate(ctx, testAdmin, template);
  return {
    db,
    ctx,
    publicUrl,
    rootPem: root.certificatePem,
    caId: ca.id,
    templateId: tpl.id,
    close: async () => {
      server.close();
      await db.close();
    },
  };
}
