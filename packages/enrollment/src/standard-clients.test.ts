import { execFileSync } from "node:child_process";
import { createHash, webcrypto } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AcmeClient, AcmeClientError, type AcmeIdentifier } from "@attested/device-sim";
import { createPlatform, platformProfile, updatePlatform } from "@attested/platforms";
import { startTestbed, testAdmin as admin } from "./testing";

// Standard ACME clients (http-01) on a platform whose default template is the guide's: the
// certificate names only what the order proved, whatever the CSR or the account asks for.

let bed: Awaited<ReturnType<typeof startTestbed>>;
let directoryUrl = "";
const served = new Map<string, string>();
const challenges = http.createServer((req, res) => {
  const ka = served.get((req.url ?? "").replace("/.well-known/acme-challenge/", ""));
  res.writeHead(ka ? 200 : 404).end(ka ?? "not found");
});

beforeAll(async () => {
  await new Promise<void>((r) => challenges.listen(0, "127.0.0.1", r));
  bed = await startTestbed(
    {
      name: "Guide",
      subject: "CN=${/csr/subject/commonname}",
      validityDays: 90,
      extendedKeyUsages: ["clientAuth"],
      sanOtherName: "${/csr/san/othername}",
      sanRfc822: "${/csr/san/rfc822name}",
      sanDns: "${/csr/san/dnsname}",
      sanUri: "${/account/contact}",
    },
    { port: (challenges.address() as AddressInfo).port, address: "127.0.0.1" },
  );
  const db = bed.db.prisma;
  const platform = await createPlatform(db, admin, { name: "Servers", type: "acme-enrollment-token", vendor: "kandji" });
  await updatePlatform(db, admin, platform.id, {
    name: "Servers",
    description: "",
    allowServerNames: true,
    defaultCaId: bed.caId,
    defaultTemplateId: bed.templateId,
  });
  const profile = (await platformProfile(db, admin, platform.id, bed.publicUrl)).xml;
  directoryUrl = /<key>DirectoryURL<\/key>\s*<string>([^<]+)<\/string>/.exec(profile)![1];
}, 120_000);
afterAll(async () => {
  challenges.close();
  await bed?.close();
});

/** An http-01 order for `identifier`, finalized with an OpenSSL CSR; the certificate's text, or the client error. */
async function order(identifier: AcmeIdentifier, subj: string, san: string, contact?: string[]) {
  const accountKey = (await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const { crv, kty, x, y } = await webcrypto.subtle.exportKey("jwk", accountKey.publicKey);
  const thumbprint = createHash("sha256").update(JSON.stringify({ crv, kty, x, y })).digest("base64url"); // RFC 7638
  const client = new AcmeClient({ directoryUrl, accountKey, pollIntervalMs: 50 });
  await client.createAccount({ contact });
  const { url, order } = await client.newOrder([identifier]);
  for (const authzUrl of order.authorizations) {
    const ch = (await client.getAuthorization(authzUrl)).challenges.find((c) => c.type === "http-01")!;
    served.set(ch.token!, `${ch.token}.${thumbprint}`);
    await client.post(ch.url, {});
    await client.waitForAuthorization(authzUrl);
  }
  const csr = execFileSync(
    "openssl",
    [
      "req",
      "-new",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      "/dev/null",
      "-outform",
      "DER",
      "-subj",
      subj,
      "-addext",
      `subjectAltName=${san}`,
    ],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  try {
    await client.finalize(order.finalize, csr);
    const done = await client.waitForOrder(url, ["valid"]);
    const pem = await client.downloadCertificate(done.certificate!);
    return { text: execFileSync("openssl", ["x509", "-noout", "-text"], { input: pem, encoding: "utf8" }), orderUrl: url };
  } catch (e) {
    if (e instanceof AcmeClientError) return { error: e, orderUrl: url };
    throw e;
  }
}

describe("a standard ACME client gets only what it proved", () => {
  it("refuses a Common Name the order did not prove (an IP order asking for CN=administrator) with badCSR and an Enrollment Denied event", async () => {
    const before = await bed.db.prisma.certificate.count();
    const r = await order({ type: "ip", value: "192.0.2.10" }, "/CN=administrator", "IP:192.0.2.10");
    expect(r.error?.problem?.type).toBe("urn:ietf:params:acme:error:badCSR");
    expect(r.error?.problem?.detail).toContain('CN "administrator"');
    expect(await bed.db.prisma.certificate.count()).toBe(before);
    const denied = await bed.db.prisma.event.findFirstOrThrow({
      where: { type: "Enrollment Denied", details: { path: ["code"], equals: "unprovenName" } },
      orderBy: { id: "desc" },
    });
    expect(denied.details).toMatchObject({ unproven: [{ kind: "CN", value: "administrator" }], identifiers: [{ type: "ip", value: "192.0.2.10" }] });
  });

  it("issues the proven name alone: the account's contact (written by the client) never lands in the certificate", async () => {
    const r = await order({ type: "dns", value: "web1.example.test" }, "/CN=web1.example.test", "DNS:web1.example.test", ["mailto:ceo@victim.example"]);
    expect(r.error).toBeUndefined();
    expect(r.text).toMatch(/Subject: CN\s*=\s*web1.example.test\n/);
    expect(/Subject Alternative Name: *\n *(.*)\n/.exec(r.text!)?.[1]).toBe("DNS:web1.example.test");
    const issued = await bed.db.prisma.event.findFirstOrThrow({
      where: { type: "Certificate Issued", details: { path: ["subject"], equals: "CN=web1.example.test" } },
    });
    expect(issued.details).toMatchObject({ omitted: expect.arrayContaining([{ field: "sanUri", reason: "URI left out: ${/account/contact} has no value" }]) });
  });
});
