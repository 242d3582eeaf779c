// ACME and OCSP have two doors: the server's fast route (server/fast-routes.ts) and Next's route
// handlers (app/acme, app/ocsp). Both are adapters over the same handlers (lib/acme.ts, lib/ocsp.ts):
// the same requests through each must get the same status, headers and body.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTemplate, ensureOrganizationRootCa, issueAndRecord } from "@attested/ca";
import { applyMigrations } from "@attested/db/migrate";
import { createPostgresDatabase } from "@attested/db/testing";
import { systemActor } from "@attested/events";
import { bootstrapOrganization } from "@attested/identity";
import { createPlatform } from "@attested/platforms";
import { openSecret } from "@attested/secrets";
import * as acmeRoute from "../app/acme/[secret]/[[...path]]/route";
import * as ocspPostRoute from "../app/ocsp/[caId]/route";
import * as ocspGetRoute from "../app/ocsp/[caId]/[...request]/route";
import { loadConfig } from "../server/config";
import { serveAcme, serveOcsp } from "../server/fast-routes";
import { buildServices, publishServices, type Services } from "../server/services";

const admin = { type: "user" as const, id: "00000000-0000-0000-0000-000000000001", name: "admin@example.com", role: "ADMIN" as const };
// What differs per answer by nature, or is the transport's own.
const PER_ANSWER = new Set(["replay-nonce", "date", "content-length", "connection", "keep-alive", "transfer-encoding"]);

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const dir = mkdtempSync(path.join(os.tmpdir(), "doors-"));
let s: Services;
let fresh: { url: string; drop(): Promise<void> } | undefined;
let server: http.Server;
let base = "";
let secret = "";
let caId = "";
let ocspRequest = Buffer.alloc(0);

beforeAll(async () => {
  fresh = process.env.DATABASE_URL ? await createPostgresDatabase(process.env.DATABASE_URL, "doors") : undefined;
  s = await buildServices(
    loadConfig({ DATABASE_URL: fresh?.url ?? "", DATA_DIR: dir, MASTER_KEY: randomBytes(32).toString("hex"), PUBLIC_URL: "https://pki.example.test" }),
  );
  publishServices(Promise.resolve(s));
  await applyMigrations(s.database.adapter);
  await bootstrapOrganization(s.database.prisma, { ADMIN_PASSWORD: "doors-test-password-1" });
  const root = (await ensureOrganizationRootCa(s.ca))!;
  caId = root.id;
  const db = s.database.prisma;
  const platform = await createPlatform(db, admin, { name: "Doors", vendor: "kandji", type: "acme-enrollment-token" });
  const row = await db.deviceManagementPlatform.findUniqueOrThrow({ where: { id: platform.id } });
  secret = openSecret(row.enrollmentSecret, `dmp-enrollment-secret:${platform.id}`);
  // A good certificate to ask about (its answer is reused, so both doors get the same signed bytes).
  const template = await createTemplate(s.ca, admin, {
    name: "Doors",
    subject: "CN=${/csr/subject/commonname}",
    validityDays: 30,
    extendedKeyUsages: ["clientAuth"],
  });
  const file = (name: string, data?: string | Buffer) => {
    const p = path.join(dir, name);
    if (data !== undefined) writeFileSync(p, data);
    return p;
  };
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  openssl(
    "req",
    "-new",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    file("leaf.key"),
    "-subj",
    "/CN=DOORS0001",
    "-outform",
    "DER",
    "-out",
    file("leaf.csr"),
  );
  const { certificate } = await issueAndRecord(s.ca, {
    caId,
    templateId: template.id,
    csrDer: readFileSync(file("leaf.csr")),
    context: {},
    actor: systemActor("test"),
  });
  file("leaf.pem", certificate.pem);
  file("root.pem", root.certificatePem);
  openssl("ocsp", "-issuer", file("root.pem"), "-cert", file("leaf.pem"), "-no_nonce", "-reqout", file("leaf.req"));
  ocspRequest = readFileSync(file("leaf.req"));

  // The fast door, as main.ts mounts it.
  server = http.createServer(async (req, res) => {
    const url = req.url ?? "/";
    if (url.startsWith("/acme/")) return void (await serveAcme(s, req, res, url));
    if (url.startsWith("/ocsp/") && (await serveOcsp(s, req, res, url))) return;
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  server?.close();
  await s?.database.close();
  await fresh?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const answer = async (r: Response): Promise<Answer> => {
  const headers: Record<string, string> = {};
  r.headers.forEach((v, k) => {
    if (!PER_ANSWER.has(k)) headers[k] = v;
  });
  return { status: r.status, headers, body: Buffer.from(await r.arrayBuffer()).toString("base64") };
};

type Route = (req: Request) => Promise<Response>;

/** The same request through the fast door (over HTTP) and through Next's route handler (called as Next calls it). */
async function bothDoors(route: Route, method: string, pathname: string, init: { headers?: Record<string, string>; body?: Buffer | string } = {}) {
  const body = init.body === undefined ? undefined : new Uint8Array(Buffer.from(init.body));
  const fast = await answer(await fetch(base + pathname, { method, headers: init.headers, body }));
  const next = await answer(await route(new Request(`https://pki.example.test${pathname}`, { method, headers: init.headers, body })));
  return { fast, next };
}

const jose = { "content-type": "application/jose+json" };

describe("ACME and OCSP answer the same through both doors", () => {
  it("ACME: directory, newNonce (GET, HEAD), a bad JWS, an unknown secret, an oversize body", async () => {
    const cases: Array<[Route, string, string, { headers?: Record<string, string>; body?: Buffer | string }?]> = [
      [acmeRoute.GET, "GET", `/acme/${secret}/directory`],
      [acmeRoute.GET, "GET", `/acme/${secret}/new-nonce`],
      [acmeRoute.HEAD, "HEAD", `/acme/${secret}/new-nonce`],
      [acmeRoute.POST, "POST", `/acme/${secret}/new-account`, { headers: jose, body: '{"protected":"e30","payload":"","signature":"AA"}' }],
      [acmeRoute.POST, "POST", `/acme/${secret}/new-account`, { headers: jose, body: "not json" }],
      [acmeRoute.GET, "GET", `/acme/${"x".repeat(32)}/directory`],
      [acmeRoute.GET, "GET", `/acme/%E0%A4%A/directory`],
      [acmeRoute.POST, "POST", `/acme/${secret}/new-account`, { headers: jose, body: Buffer.alloc(s.acme.server.maxBodyBytes + 1, 0x61) }],
    ];
    for (const [route, method, pathname, init] of cases) {
      const { fast, next } = await bothDoors(route, method, pathname, init);
      expect(next, `${method} ${pathname}`).toEqual(fast);
    }
    const dir = await bothDoors(acmeRoute.GET, "GET", `/acme/${secret}/directory`);
    expect(dir.fast.status).toBe(200);
    expect(JSON.parse(Buffer.from(dir.fast.body, "base64").toString()).newNonce).toBe(`https://pki.example.test/acme/${secret}/new-nonce`);
  });

  it("OCSP: GET and POST of a good request, malformed requests, an oversize body", async () => {
    const b64 = encodeURIComponent(ocspRequest.toString("base64"));
    const cases: Array<[Route, string, string, { headers?: Record<string, string>; body?: Buffer | string }?]> = [
      [ocspPostRoute.POST, "POST", `/ocsp/${caId}`, { headers: { "content-type": "application/ocsp-request" }, body: ocspRequest }],
      [ocspGetRoute.GET, "GET", `/ocsp/${caId}/${b64}`],
      [ocspGetRoute.GET, "GET", `/ocsp/${caId}/not*base64`],
      [ocspPostRoute.POST, "POST", `/ocsp/${caId}`, { body: "not an OCSP request" }],
      [ocspGetRoute.GET, "GET", `/ocsp/00000000-0000-0000-0000-000000000000/${b64}`],
      [ocspPostRoute.POST, "POST", `/ocsp/${caId}`, { body: Buffer.alloc(16 * 1024 + 1) }],
    ];
    const statuses: number[] = [];
    for (const [route, method, pathname, init] of cases) {
      const { fast, next } = await bothDoors(route, method, pathname, init);
      expect(next, `${method} ${pathname}`).toEqual(fast);
      statuses.push(fast.status);
    }
    expect(statuses).toEqual([200, 200, 400, 400, 200, 413]);
  });
});
