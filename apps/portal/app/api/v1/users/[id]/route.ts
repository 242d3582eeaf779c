import { getUser, updateUser } from "@attested/identity";
import { apiRoute } from "@/lib/api";

type P = { id: string };
export const GET = apiRoute<P>({}, async ({ db, params }) => getUser(db, params.id));
export const PATCH = apiRoute<P>({ write: "change users" }, async ({ db, actor, params, body }) => updateUser(db, actor, params.id, await body()));
