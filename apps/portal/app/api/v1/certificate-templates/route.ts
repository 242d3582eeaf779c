import { createTemplate, listTemplates } from "@attested/ca";
import { apiRoute } from "@/lib/api";
import { caContext } from "@/lib/ca";

export const GET = apiRoute({}, async () => ({ data: await listTemplates(await caContext()) }));
export const POST = apiRoute({ write: "create certificate templates" }, async ({ actor, body }) => createTemplate(await caContext(), actor, await body()));
