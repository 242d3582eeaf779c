import { createCorePlatform, listCorePlatforms } from "@attested/policy";
import { apiRoute } from "@/lib/api";

// Secrets are write-only: views carry `hasSecret`, never the secret.
export const GET = apiRoute({}, async ({ db }) => ({ data: await listCorePlatforms(db) }));
export const POST = apiRoute({ write: "create core platforms" }, async ({ db, actor, body }) => createCorePlatform(db, actor, await body()));
