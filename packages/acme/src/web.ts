import type { AcmeRequest, AcmeResponse, AcmeServer } from "./server";
import type { AcmePlatform } from "./types";

// Adapters between the framework-free core and the WHATWG Request/Response that Next.js route
// handlers (and any fetch-style server) use.

/** Reads at most `limit` bytes; `tooLarge` when the body is longer (checked before and while reading). */
export async function readBodyLimited(request: Request, limit: number): Promise<{ body: Uint8Array | null; tooLarge: boolean }> {
  const declared = Number(request.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > limit) {
    await request.body?.cancel().catch(() => {});
    return { body: null, tooLarge: true };
  }
  if (!request.body) return { body: null, tooLarge: false };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return { body: null, tooLarge: true };
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    body.set(c, off);
    off += c.length;
  }
  return { body, tooLarge: false };
}

export function toWebResponse(res: AcmeResponse): Response {
  const body = res.body === undefined ? null : typeof res.body === "string" ? res.body : Buffer.from(res.body);
  return new Response(body, { status: res.status, headers: res.headers });
}

/** Handles a WHATWG Request for `platform` (body size limit applied while reading). */
export async function handleWebRequest(server: AcmeServer, request: Request, platform: AcmePlatform): Promise<Response> {
  const method = request.method.toUpperCase();
  const { body, tooLarge } = method === "POST" ? await readBodyLimited(request, server.maxBodyBytes) : { body: null, tooLarge: false };
  const req: AcmeRequest = { method, url: request.url, headers: request.headers, body, bodyTooLarge: tooLarge };
  return toWebResponse(await server.handle(req, platform));
}
