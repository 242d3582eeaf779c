import { createSignalSource, listSignalSources } from "@attested/policy";
import { apiRoute } from "@/lib/api";

export const GET = apiRoute({}, async ({ db }) => ({ data: await listSignalSources(db) }));
export const POST = apiRoute({ write: "create security signal sources" }, async ({ db, actor, body }) => createSignalSource(db, actor, await body()));
