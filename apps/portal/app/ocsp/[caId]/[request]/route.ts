import { answerOcsp } from "@attested/ca";
import { caContext } from "@/lib/ca";

// RFC 6960 §A.1: GET {url}/{url-encoding of base-64 encoding of the DER request}.
export async function GET(_: Request, { params }: { params: Promise<{ caId: string; request: string }> }) {
  const { caId, request } = await params;
  const der = Buffer.from(decodeURIComponent(request), "base64");
  const body = await answerOcsp(await caContext(), caId, der);
  return new Response(new Uint8Array(body), {
    headers: { "content-type": "application/ocsp-response", "cache-control": "public, max-age=300" },
  });
}
