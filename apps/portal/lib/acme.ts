// ACME (RFC 8555) for one Device Management Platform, addressed by its enrollment secret: the one
// handler behind both doors, the server's fast route (server/fast-routes.ts) and Next's route handler
// (app/acme/[secret]/[[...path]]/route.ts). Each door only turns its request into a MachineRequest and
// writes the MachineResponse back, so both answer identically by construction.
import { problem, toProblem, type AcmeRequest } from "@attested/acme";
import { isDatabaseUnavailable } from "@attested/db";
import { logger } from "@attested/log";
import type { Services } from "../server/services";

export type HeadersLike = AcmeRequest["headers"];

/** A request to a machine protocol (ACME, OCSP), whichever server received it. */
export interface MachineRequest {
  method: string;
  /** The path and query as received, e.g. "/acme/{secret}/new-order". */
  url: string;
  headers: HeadersLike;
  /** The body, read up to `limit` bytes; null when it is longer (the rest is left unread). */
  readBody(limit: number): Promise<Uint8Array | null>;
  /** The body is not needed: let it go. */
  skipBody(): void;
}

export interface MachineResponse {
  status: number;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  /** The body was left unread (over the limit): the connection is dropped once answered, not read on. */
  closeConnection?: boolean;
}

/** /acme/{secret}/... */
export async function handleAcme(s: Services, req: MachineRequest): Promise<MachineResponse> {
  try {
    return await acme(s, req);
  } catch (err) {
    // The database is unreachable or similar: an ACME problem the client understands.
    logger().error({ err }, "acme request failed");
    return acmeFailure(s, err);
  }
}

async function acme(s: Services, req: MachineRequest): Promise<MachineResponse> {
  const { server, platformFor } = s.acme;
  let secret = req.url.split("?")[0]!.split("/")[2] ?? "";
  try {
    secret = decodeURIComponent(secret);
  } catch {
    secret = ""; // malformed %-escape: no such platform
  }
  const platform = await platformFor(secret);
  if (!platform) {
    const p = problem.malformed("No ACME directory here: the enrollment URL is unknown or was rotated", { status: 404 });
    return { status: 404, headers: { "content-type": "application/problem+json", "cache-control": "no-store" }, body: JSON.stringify(p.toJSON()) };
  }
  const method = req.method.toUpperCase();
  let body: Uint8Array | null = null;
  let tooLarge = false;
  if (method === "POST") {
    body = await req.readBody(server.maxBodyBytes);
    tooLarge = body === null;
  } else req.skipBody();
  // The core reads only the path of an absolute URL (scheme and host come from the platform's base URL).
  const acmeReq: AcmeRequest = { method, url: `http://acme.invalid${req.url}`, headers: req.headers, body, bodyTooLarge: tooLarge };
  const out = await server.handle(acmeReq, platform);
  return tooLarge ? { ...out, closeConnection: true } : out;
}

/**
 * The answer when a request fails before the ACME core could answer it (the platform lookup, say):
 * 503 with Retry-After while the database is unavailable, else a bare serverInternal. Either carries a
 * fresh nonce (RFC 8555 §6.5), which needs no database.
 */
export function acmeFailure(s: Services, err: unknown): MachineResponse {
  const p = toProblem(err, isDatabaseUnavailable(err));
  return {
    status: p.status,
    headers: { "content-type": "application/problem+json", "cache-control": "no-store", ...p.headers, "replay-nonce": s.acme.server.replayNonce() },
    body: JSON.stringify(p.toJSON()),
  };
}
