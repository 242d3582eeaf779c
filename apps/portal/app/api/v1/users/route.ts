import { createUser, listUsers } from "@attested/identity";
import { apiRoute } from "@/lib/api";

export const GET = apiRoute({}, async ({ db }) => ({ data: await listUsers(db) }));
export const POST = apiRoute({ write: "create users" }, async ({ db, actor, body }) => createUser(db, actor, await body()));
