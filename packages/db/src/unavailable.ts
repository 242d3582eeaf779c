// Errors that mean "the database cannot answer right now" (it is restarting, unreachable, or out of
// connections), as opposed to a bug or bad data: callers answer 503 with Retry-After instead of 500.

// Node socket errors and postgres.js's own connection errors.
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
]);
// PostgreSQL SQLSTATEs: class 08 (connection exception), 57P01-57P03 (shutdown, crash shutdown, cannot
// connect now: starting up or shutting down), 53300 (too many connections).
const SQLSTATES = /^(08[0-9A-Z]{3}|57P0[1-3]|53300)$/;
// Prisma: P1001 can't reach the server, P1002 timed out, P1017 server closed the connection, P2024 pool timeout.
const PRISMA_CODES = new Set(["P1001", "P1002", "P1017", "P2024"]);
// Prisma driver adapters report the underlying failure as a `kind`.
const ADAPTER_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections", "DatabaseUnavailable"]);

/** True when `err` (or an error it wraps) says the database is unavailable for now. */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === "object" && depth < 5; depth++) {
    const { code, kind, cause, meta } = e as { code?: unknown; kind?: unknown; cause?: unknown; meta?: { driverAdapterError?: unknown } };
    if (typeof code === "string" && (CONNECTION_CODES.has(code) || SQLSTATES.test(code) || PRISMA_CODES.has(code))) return true;
    if (typeof kind === "string" && ADAPTER_KINDS.has(kind)) return true;
    // Prisma wraps the driver adapter's error (meta.driverAdapterError), which wraps PostgreSQL's (cause).
    e = cause ?? meta?.driverAdapterError;
  }
  return false;
}
