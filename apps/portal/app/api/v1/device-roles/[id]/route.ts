import { deleteDeviceRole, deviceRoleUsage, getDeviceRole, updateDeviceRole } from "@attested/policy";
import { apiRoute } from "@/lib/api";

type P = { id: string };
export const GET = apiRoute<P>({}, async ({ db, params }) => ({ ...(await getDeviceRole(db, params.id)), usedBy: await deviceRoleUsage(db, params.id) }));
export const PATCH = apiRoute<P>({ write: "change device roles" }, async ({ db, actor, params, body }) => updateDeviceRole(db, actor, params.id, await body()));
export const DELETE = apiRoute<P>({ write: "delete device roles" }, async ({ db, actor, params }) => {
  await deleteDeviceRole(db, actor, params.id);
  return new Response(null, { status: 204 });
});
