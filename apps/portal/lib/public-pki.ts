import "reflect-metadata";
import { X509Certificate, X509Certificates } from "@peculiar/x509";
import { caChain, type CaRecord } from "@attested/ca";
import { caContext } from "./ca";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Public CA material (certificates are public by nature): the CA and its chain up to the root. */
export async function publicChain(id: string): Promise<CaRecord[] | null> {
  if (!UUID.test(id)) return null;
  try {
    return await caChain(await caContext(), id);
  } catch {
    return null;
  }
}

export const derOf = (pem: string) => Buffer.from(new X509Certificate(pem).rawData);
export const pkcs7Of = (pems: string[]) => Buffer.from(new X509Certificates(pems.map((p) => new X509Certificate(p))).export("raw"));

export const notFound = () => new Response("not found\n", { status: 404, headers: { "content-type": "text/plain" } });
export const binary = (body: Buffer, type: string, filename: string, maxAge = 3600) =>
  new Response(new Uint8Array(body), {
    headers: { "content-type": type, "content-disposition": `attachment; filename="${filename}"`, "cache-control": `public, max-age=${maxAge}` },
  });
