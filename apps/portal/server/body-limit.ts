// Request bodies are capped before anything parses them: Auth.js, server actions and the REST API read
// a whole body into memory, so an anonymous 300 MB POST would otherwise cost 300 MB or more of memory.
import http from "node:http";

const MiB = 1024 * 1024;
/** Portal forms, server actions and REST bodies; nothing in the portal uploads more (no file inputs). */
export const MAX_BODY_BYTES = 1 * MiB;
/** An OCSP request (RFC 6960) is a few hundred bytes. */
export const MAX_OCSP_BODY_BYTES = 16 * 1024;

/** The cap for a request, or null for ACME, whose adapter caps and answers with an RFC 8555 problem. */
export function bodyLimit(url: string): number | null {
  if (url.startsWith("/acme/")) return null;
  if (url.startsWith("/ocsp/")) return MAX_OCSP_BODY_BYTES;
  return MAX_BODY_BYTES;
}

/**
 * An IncomingMessage that counts body bytes as the HTTP parser hands them over, so a chunked body is
 * stopped as it streams, without buffering: past `limit`, chunks are dropped and `onTooLarge` runs once.
 */
export class CappedIncomingMessage extends http.IncomingMessage {
  limit: number | null = null;
  onTooLarge: (() => void) | null = null;
  private received = 0;

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (this.limit !== null && chunk !== null && chunk !== undefined) {
      this.received += (chunk as Buffer).length;
      if (this.received > this.limit) {
        const tooLarge = this.onTooLarge;
        this.onTooLarge = null;
        tooLarge?.();
        return false;
      }
    }
    return super.push(chunk, encoding);
  }
}

/**
 * Applies the cap to `req`: false when its declared Content-Length is already over (the caller then
 * answers 413 and stops); otherwise a chunked body over the cap is answered 413 when it crosses it.
 */
export function capBody(req: CappedIncomingMessage, res: http.ServerResponse): boolean {
  const limit = bodyLimit(req.url ?? "/");
  if (limit === null) return true;
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    refuse(req, res, limit);
    return false;
  }
  req.limit = limit;
  req.onTooLarge = () => refuse(req, res, limit);
  return true;
}

/** How long a refused connection stays open after its 413, so the client reads the answer. */
const LINGER_MS = 1000;

/** 413, and the connection closes once it is sent: the rest of the body is never read. */
function refuse(req: http.IncomingMessage, res: http.ServerResponse, limit: number) {
  // Whoever was reading the body (Next, Auth.js) must not answer after us.
  res.on("error", () => {});
  if (res.headersSent) return void req.socket.destroy();
  // Lingering close: the client is most likely still sending. Node closes a "connection: close" socket
  // as soon as the answer is flushed, and closing with unread bytes resets the connection, which can
  // discard the 413 before the client reads it. So the socket is ended (FIN after the answer) and
  // destroyed a moment later; nothing more of the body is read meanwhile.
  const socket = req.socket as typeof req.socket & { destroySoon?: () => void };
  socket.destroySoon = () => {
    socket.end();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  };
  const body = JSON.stringify({ error: `request body larger than ${limit} bytes` });
  res.writeHead(413, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), connection: "close" });
  res.end(body);
}
