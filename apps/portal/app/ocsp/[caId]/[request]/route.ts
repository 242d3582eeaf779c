import { answerOcsp, isMalformedOcspAnswer, ocspGetRequest } from "@attested/ca";
import { caContext } from "@/lib/ca";

// RFC 6960 §A.1: GET {url}/{url-encoding of base-64 encoding of the DER request}.
export async function GET(_: Request, { params }: { params: Promise<{ caId: string; request: string }> }) {
  const { caId, request } = await params;
  const body = await answerOcsp(await caContext(), caId, ocspGetRequest(request));
  const malformed = isMalformedOcspAnswer(body);
  return new Response(new Uint8Array(body), {
    status: malformed ? 400 : 200,
    headers: { "content-type": "application/ocsp-response", "cache-control": malformed ? "no-store" : "public, max-age=300" },
  });
}
