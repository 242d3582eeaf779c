// OCSP (RFC 6960 §A.1) for one CA: the one handler behind the server's fast route and Next's route
// handlers under app/ocsp (see lib/acme.ts for the request and response shapes).
import { answerOcsp, isMalformedOcspAnswer, ocspGetRequest } from "@attested/ca";
import { MAX_OCSP_BODY_BYTES } from "../server/body-limit";
import type { Services } from "../server/services";
import type { MachineRequest, MachineResponse } from "./acme";

/**
 * POST /ocsp/{caId} with the DER request as the body, or GET (HEAD) /ocsp/{caId}/{url-encoded base64 of
 * the DER request}. Null for anything else: that is Next's to answer (404, 405).
 */
export async function handleOcsp(s: Services, req: MachineRequest): Promise<MachineResponse | null> {
  const parts = req.url.split("?")[0]!.split("/");
  const method = req.method.toUpperCase();
  if (method === "POST" && parts.length === 3) {
    const body = await req.readBody(MAX_OCSP_BODY_BYTES);
    if (!body) return { status: 413, headers: { "content-type": "text/plain" }, body: "request too large\n", closeConnection: true };
    const der = await answerOcsp(s.ca, parts[2]!, body);
    return { status: isMalformedOcspAnswer(der) ? 400 : 200, headers: { "content-type": "application/ocsp-response", "cache-control": "no-cache" }, body: der };
  }
  if ((method === "GET" || method === "HEAD") && parts.length >= 4) {
    req.skipBody();
    const der = await answerOcsp(s.ca, parts[2]!, ocspGetRequest(parts.slice(3).join("/")));
    const malformed = isMalformedOcspAnswer(der);
    return {
      status: malformed ? 400 : 200,
      headers: { "content-type": "application/ocsp-response", "cache-control": malformed ? "no-store" : "public, max-age=300" },
      body: method === "HEAD" ? undefined : der,
    };
  }
  return null;
}
