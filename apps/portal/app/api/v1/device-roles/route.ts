import { createDeviceRole, listDeviceRoles } from "@attested/policy";
import { apiRoute } from "@/lib/api";

export const GET = apiRoute({}, async ({ db }) => ({ data: await listDeviceRoles(db) }));
export const POST = apiRoute({ write: "create device roles" }, async ({ db, actor, body }) => createDeviceRole(db, actor, await body()));
