import { getPlatform, updatePlatform } from "@attested/platforms";
import { apiRoute } from "@/lib/api";

type P = { id: string };
export const GET = apiRoute<P>({}, async ({ db, params }) => getPlatform(db, params.id));
export const PATCH = apiRoute<P>({ write: "change device management platforms" }, async ({ db, actor, params, body }) =>
  updatePlatform(db, actor, params.id, await body()),
);
