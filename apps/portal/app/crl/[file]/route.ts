import { currentCrl } from "@attested/ca";
import { caContext } from "@/lib/ca";
import { notFound } from "@/lib/public-pki";

// /crl/<caId>.crl — the CA's current CRL (DER), republished when close to its nextUpdate.
export async function GET(_: Request, { params }: { params: Promise<{ file: string }> }) {
  const m = /^([0-9a-f-]{36})\.crl$/.exec((await params).file);
  const der = m && (await currentCrl(await caContext(), m[1]));
  if (!der) return notFound();
  return new Response(new Uint8Array(der), {
    headers: { "content-type": "application/pkix-crl", "cache-control": "public, max-age=300" },
  });
}
