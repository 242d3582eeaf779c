import { answerOcsp, isMalformedOcspAnswer } from "@attested/ca";
import { caContext } from "@/lib/ca";

const MAX_REQUEST = 16 * 1024;
const ocsp = (body: Buffer) =>
  new Response(new Uint8Array(body), {
    status: isMalformedOcspAnswer(body) ? 400 : 200,
    headers: { "content-type": "application/ocsp-response", "cache-control": "no-cache" },
  });

// RFC 6960 §A.1: POST with the DER request as the body.
export async function POST(req: Request, { params }: { params: Promise<{ caId: string }> }) {
  const body = new Uint8Array(await req.arrayBuffer());
  if (body.byteLength > MAX_REQUEST) return new Response("request too large\n", { status: 413 });
  return ocsp(await answerOcsp(await caContext(), (await params).caId, body));
}
