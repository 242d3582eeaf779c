// ACME and OCSP served by the process's HTTP server directly, without Next.js's request pipeline.
// These are machine protocols with no page, session or React involved; the profile of an enrollment
// benchmark showed Next's per-request work (routing, Web Request/Response adaptation, streams) costing
// more CPU than the ACME logic itself. The route handlers under app/acme and app/ocsp stay: they serve
// the same URLs under `next dev` and answer identically (same core, same helpers).
import type { IncomingMessage, ServerResponse } from "node:http";
import { problem, type AcmeRequest } from "@attested/acme";
import { answerOcsp, isMalformedOcspAnswer, ocspGetRequest } from "@attested/ca";
import { logger } from "@attested/log";
import { acmeFailure, acmeService } from "../lib/acme";
import { caContext } from "../lib/ca";

const MAX_OCSP_REQUEST = 16 * 1024;

/**
 * Reads the body up to `limit` bytes; null as soon as it is longer, leaving the rest unread (answer
 * with sendAndClose: reading on would let one client stream gigabytes).
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) return resolve(null);
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size <= limit) return void chunks.push(c);
      req.off("data", onData);
      req.pause();
      resolve(null);
    };
    req.on("data", onData);
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body?: string | Uint8Array) {
  res.writeHead(status, body === undefined ? headers : { ...headers, "content-length": String(Buffer.byteLength(body)) });
  res.end(body);
}

/** Answers a request whose body was left unread, then drops the connection rather than read the rest. */
function sendAndClose(req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string>, body?: string | Uint8Array) {
  res.on("finish", () => req.socket.destroy());
  send(res, status, { ...headers, connection: "close" }, body);
}

/** /acme/{secret}/... — the same as app/acme/[secret]/[[...path]]/route.ts. */
export async function serveAcme(req: IncomingMessage, res: ServerResponse, url: string): Promise<void> {
  try {
    await acme(req, res, url);
  } catch (err) {
    // The database is unreachable or similar: an ACME problem the client understands.
    if (res.headersSent) throw err;
    logger().error({ err }, "acme request failed");
    const out = await acmeFailure(err);
    send(res, out.status, out.headers, out.body);
  }
}

async function acme(req: IncomingMessage, res: ServerResponse, url: string): Promise<void> {
  const { server, platformFor } = await acmeService();
  let secret = url.split("?")[0]!.split("/")[2] ?? "";
  try {
    secret = decodeURIComponent(secret);
  } catch {
    secret = ""; // malformed %-escape: no such platform
  }
  const platform = await platformFor(secret);
  if (!platform) {
    const p = problem.malformed("No ACME directory here: the enrollment URL is unknown or was rotated", { status: 404 });
    return send(res, 404, { "content-type": "application/problem+json", "cache-control": "no-store" }, JSON.stringify(p.toJSON()));
  }
  const method = (req.method ?? "GET").toUpperCase();
  let body: Buffer | null = null;
  let tooLarge = false;
  if (method === "POST") {
    body = await readBody(req, server.maxBodyBytes);
    tooLarge = body === null;
  } else req.resume();
  // The core reads only the path of an absolute URL (scheme and host come from the platform's base URL).
  const acmeReq: AcmeRequest = { method, url: `http://acme.invalid${url}`, headers: req.headers, body, bodyTooLarge: tooLarge };
  const out = await server.handle(acmeReq, platform);
  if (tooLarge) return sendAndClose(req, res, out.status, out.headers, out.body);
  send(res, out.status, out.headers, out.body);
}

/** /ocsp/{caId} (POST) and /ocsp/{caId}/{base64 request} (GET) — as app/ocsp/[caId]/... */
export async function serveOcsp(req: IncomingMessage, res: ServerResponse, url: string): Promise<boolean> {
  const parts = url.split("?")[0]!.split("/");
  const method = (req.method ?? "GET").toUpperCase();
  if (method === "POST" && parts.length === 3) {
    const body = await readBody(req, MAX_OCSP_REQUEST);
    if (!body) {
      sendAndClose(req, res, 413, { "content-type": "text/plain" }, "request too large\n");
      return true;
    }
    const der = await answerOcsp(await caContext(), parts[2]!, new Uint8Array(body));
    send(res, isMalformedOcspAnswer(der) ? 400 : 200, { "content-type": "application/ocsp-response", "cache-control": "no-cache" }, der);
    return true;
  }
  if ((method === "GET" || method === "HEAD") && parts.length >= 4) {
    req.resume();
    const body = await answerOcsp(await caContext(), parts[2]!, ocspGetRequest(parts.slice(3).join("/")));
    const malformed = isMalformedOcspAnswer(body);
    send(res, malformed ? 400 : 200, { "content-type": "application/ocsp-response", "cache-control": malformed ? "no-store" : "public, max-age=300" }, method === "HEAD" ? undefined : body);
    return true;
  }
  return false; // anything else: let Next answer (405/404) as before
}
