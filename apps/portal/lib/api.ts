import { ZodError } from "zod";
import { actorForApiToken, assertCanRead, assertCanWrite, type Actor } from "@attested/identity";
import { isDatabaseUnavailable, type Db } from "@attested/db";
import { KEY_STORE_RETRY_AFTER_SECONDS } from "@attested/ca";
import { DomainError, PkiError, UnsupportedMediaTypeError } from "@attested/errors";
import { logger } from "@attested/log";
import { getDb } from "./db";

export interface ApiContext<P> {
  req: Request;
  actor: Actor;
  db: Db;
  params: P;
  /** The parsed JSON body (only for methods that carry one). */
  body: () => Promise<unknown>;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(
    JSON.stringify(body, (_, v) => (typeof v === "bigint" ? v.toString() : v)),
    {
      status,
      headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
    },
  );

/** JSON.parse reviver: PostgreSQL text cannot hold NUL, so a string carrying one is refused up front. */
function noNul(_key: string, value: unknown) {
  if (typeof value === "string" && value.includes("\0")) throw new DomainError("A string in the request body contains a NUL character", 400);
  return value;
}

export const apiError = (status: number, error: string, field?: string) => json(status, field ? { error, field } : { error });

/**
 * Wraps a REST handler: bearer-token authentication, the role check (`write` names the action for
 * the audit trail), and errors as {error, field?} with a proper status. Never a stack trace.
 */
export function apiRoute<P = Record<string, string>>(opts: { write?: string }, handler: (ctx: ApiContext<P>) => Promise<unknown>) {
  return async (req: Request, route: { params: Promise<P> }): Promise<Response> => {
    try {
      const db = await getDb();
      const auth = req.headers.get("authorization") ?? "";
      const m = /^Bearer\s+(\S+)$/i.exec(auth);
      const actor = m ? await actorForApiToken(db, m[1]) : null;
      if (!actor) return apiError(401, "A valid API token is required (Authorization: Bearer <token>)");
      assertCanRead(actor);
      if (opts.write) await assertCanWrite(db, actor, opts.write);
      const body = async () => {
        const type = req.headers.get("content-type") ?? "";
        if (!type.includes("application/json")) throw new UnsupportedMediaTypeError("Content-Type must be application/json");
        let text: string;
        try {
          text = await req.text();
        } catch {
          throw new DomainError("The request body could not be read", 400);
        }
        try {
          return JSON.parse(text, noNul);
        } catch (e) {
          throw e instanceof DomainError ? e : new DomainError("The request body is not valid JSON", 400);
        }
      };
      const result = await handler({ req, actor, db, params: (await route.params) ?? ({} as P), body });
      if (result instanceof Response) return result;
      return json(req.method === "POST" ? 201 : 200, result);
    } catch (e) {
      if (e instanceof ZodError) {
        const issue = e.issues[0];
        return apiError(400, issue.message, issue.path.join(".") || undefined);
      }
      if (e instanceof DomainError) return apiError(e.status, e.message, e.field);
      // The HSM cannot do it now (token missing, locked, refusing): temporary, nothing was changed.
      if (e instanceof PkiError && e.code === "keyStoreUnavailable")
        return json(503, { error: e.message, ...(e.field ? { field: e.field } : {}) }, { "retry-after": String(KEY_STORE_RETRY_AFTER_SECONDS) });
      // Parameters the PKI refused (key size, template output): the client's to correct.
      if (e instanceof PkiError) return apiError(400, e.message, e.field);
      logger().error({ err: e }, "api request failed");
      // The database restarting or unreachable: a temporary condition the client should retry.
      if (isDatabaseUnavailable(e)) return json(503, { error: "temporarily unavailable; retry after the time in Retry-After" }, { "retry-after": "1" });
      return apiError(500, "internal error");
    }
  };
}
