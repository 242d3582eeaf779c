import { corePlatformUsage, deleteCorePlatform, getCorePlatform, updateCorePlatform } from "@attested/policy";
import { apiRoute } from "@/lib/api";

type P = { id: string };
export const GET = apiRoute<P>({}, async ({ db, params }) => ({ ...(await getCorePlatform(db, params.id)), usedBy: await corePlatformUsage(db, params.id) }));
export const PATCH = apiRoute<P>({ write: "change core platforms" }, async ({ db, actor, params, body }) =>
  updateCorePlatform(db, actor, params.id, await body()),
);
export const DELETE = apiRoute<P>({ write: "delete core platforms" }, async ({ db, actor, params }) => {
  await deleteCorePlatform(db, actor, params.id);
  return new Response(null, { status: 204 });
});
