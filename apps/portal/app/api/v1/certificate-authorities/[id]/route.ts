import { getCa, updateCaSettings } from "@attested/ca";
import { apiRoute } from "@/lib/api";
import { caContext } from "@/lib/ca";

type P = { id: string };
export const GET = apiRoute<P>({}, async ({ params }) => getCa(await caContext(), params.id));
export const PATCH = apiRoute<P>({ write: "change certificate authorities" }, async ({ actor, params, body }) =>
  updateCaSettings(await caContext(), actor, params.id, await body()),
);
