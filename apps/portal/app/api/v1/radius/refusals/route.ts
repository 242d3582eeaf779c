import { recordRadiusRefusal } from "@attested/policy";
import { apiRoute } from "@/lib/api";
import { caContext } from "@/lib/ca";

// Called by a RADIUS server that refused a client certificate in the EAP-TLS handshake (OCSP said
// revoked, an unknown CA, expired): the refusal becomes a RADIUS Authentication event. Admin-scope
// token, like /radius/authorize: it writes events and a certificate's last usage.
export const POST = apiRoute({ write: "record RADIUS authentications" }, async ({ actor, body }) =>
  Response.json(await recordRadiusRefusal(await caContext(), actor, await body()), { headers: { "cache-control": "no-store" } }),
);
