// ACME and OCSP served by the process's HTTP server directly, without Next.js's request pipeline.
// These are machine protocols with no page, session or React involved; the profile of an enrollment
// benchmark showed Next's per-request work (routing, Web Request/Response adaptation, streams) costing
// more CPU than the ACME logic itself. This is the Node door to the same handlers Next's route handlers
// under app/acme and app/ocsp call (lib/acme.ts, lib/ocsp.ts): only the transport differs.
import type { IncomingMessage, ServerResponse } from "node:http";
import { handleAcme, type MachineRequest, type MachineResponse } from "../lib/acme";
import { handleOcsp } from "../lib/ocsp";
import type { Services } from "./services";

/**
 * Reads the body up to `limit` bytes; null as soon as it is longer, leaving the rest unread (answered
 * with the connection closed: reading on would let one client stream gigabytes).
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

export function machineRequest(req: IncomingMessage, url: string): MachineRequest {
  return {
    method: req.method ?? "GET",
    url,
    headers: req.headers,
    readBody: (limit) => readBody(req, limit),
    skipBody: () => void req.resume(),
  };
}

export function send(req: IncomingMessage, res: ServerResponse, out: MachineResponse): void {
  const headers = out.closeConnection ? { ...out.headers, connection: "close" } : out.headers;
  // A request whose body was left unread: drop the connection rather than read the rest.
  if (out.closeConnection) res.on("finish", () => req.socket.destroy());
  res.writeHead(out.status, out.body === undefined ? headers : { ...headers, "content-length": String(Buffer.byteLength(out.body)) });
  res.end(out.body);
}

/** /acme/{secret}/... */
export async function serveAcme(s: Services, req: IncomingMessage, res: ServerResponse, url: string): Promise<void> {
  send(req, res, await handleAcme(s, machineRequest(req, url)));
}

/** /ocsp/{caId} (POST) and /ocsp/{caId}/{base64 request} (GET, HEAD); false for anything else (Next answers). */
export async function serveOcsp(s: Services, req: IncomingMessage, res: ServerResponse, url: string): Promise<boolean> {
  const out = await handleOcsp(s, machineRequest(req, url));
  if (!out) return false;
  send(req, res, out);
  return true;
}
