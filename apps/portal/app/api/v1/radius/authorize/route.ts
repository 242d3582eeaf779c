import { authorizeRadius } from "@attested/policy";
import { apiRoute } from "@/lib/api";
import { caContext } from "@/lib/ca";

// Called by a RADIUS server after EAP-TLS: accept or reject a client certificate. Admin-scope token:
// an answer may revoke the certificate (Revoke On Failure) and records its last usage, which an
// Auditor token must never cause; a read-only scope would let a leaked token revoke nothing.
export const POST = apiRoute({ write: "authorize RADIUS authentications" }, async ({ actor, body }) =>
  Response.json(await authorizeRadius(await caContext(), actor, await body()), { headers: { "cache-control": "no-store" } }),
);
