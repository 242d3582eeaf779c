import { currentCrl, isKeyStoreUnavailable, KEY_STORE_RETRY_AFTER_SECONDS } from "@attested/ca";
import { caContext } from "@/lib/ca";
import { notFound } from "@/lib/public-pki";

// /crl/<caId>.crl — the CA's current CRL (DER), republished when close to its nextUpdate.
export async function GET(_: Request, { params }: { params: Promise<{ file: string }> }) {
  const m = /^([0-9a-f-]{36})\.crl$/.exec((await params).file);
  let der: Buffer | null;
  try {
    der = m && (await currentCrl(await caContext(), m[1]));
  } catch (e) {
    // The CA's HSM cannot sign the due CRL now: come back (the outage is a CA Key Unavailable event).
    if (!isKeyStoreUnavailable(e)) throw e;
    return new Response("The CA's key is unavailable; retry later\n", {
      status: 503,
      headers: { "content-type": "text/plain", "retry-after": String(KEY_STORE_RETRY_AFTER_SECONDS) },
    });
  }
  if (!der) return notFound();
  return new Response(new Uint8Array(der), {
    headers: { "content-type": "application/pkix-crl", "cache-control": "public, max-age=300" },
  });
}
