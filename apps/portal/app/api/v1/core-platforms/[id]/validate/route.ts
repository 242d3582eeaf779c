import { validateCorePlatform } from "@attested/policy";
import { apiRoute } from "@/lib/api";

type P = { id: string };
// "Validate": one real call; unsaved fields in the body are tried, nothing is saved. Admin tokens only.
export const POST = apiRoute<P>({ write: "validate core platforms" }, async ({ db, actor, params, body }) =>
  Response.json(await validateCorePlatform(db, actor, params.id, await body()), { headers: { "cache-control": "no-store" } }),
);
