import { getPlatform, readNetworkPayloads, updateNetworkPayloads } from "@attested/platforms";
import { apiRoute } from "@/lib/api";

type P = { id: string };
export const GET = apiRoute<P>({}, async ({ db, params }) => readNetworkPayloads((await getPlatform(db, params.id)).networkPayloads));
export const PUT = apiRoute<P>({ write: "change device management platforms" }, async ({ db, actor, params, body }) =>
  updateNetworkPayloads(db, actor, params.id, await body()),
);
