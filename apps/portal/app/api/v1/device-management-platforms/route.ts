import { createPlatform, listPlatforms } from "@attested/platforms";
import { apiRoute } from "@/lib/api";

export const GET = apiRoute({}, async ({ db }) => ({ data: await listPlatforms(db) }));
export const POST = apiRoute({ write: "create device management platforms" }, async ({ db, actor, body }) => createPlatform(db, actor, await body()));
