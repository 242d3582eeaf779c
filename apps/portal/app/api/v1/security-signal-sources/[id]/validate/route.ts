import { validateSignalSource } from "@attested/policy";
import { apiRoute } from "@/lib/api";

type P = { id: string };
// "Validate Configuration" with an identity. Admin tokens only (it calls the MDM with the stored credential).
export const POST = apiRoute<P>({ write: "validate security signal sources" }, async ({ db, actor, params, body }) =>
  Response.json(await validateSignalSource(db, actor, params.id, await body()), { headers: { "cache-control": "no-store" } }),
);
