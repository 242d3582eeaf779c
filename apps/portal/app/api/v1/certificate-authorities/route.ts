import { createCa, listCas } from "@attested/ca";
import { apiRoute } from "@/lib/api";
import { caContext } from "@/lib/ca";

export const GET = apiRoute({}, async () => ({ data: await listCas(await caContext()) }));
export const POST = apiRoute({ write: "create certificate authorities" }, async ({ actor, body }) => createCa(await caContext(), actor, await body()));
