import { deleteEnrollmentPolicy, getEnrollmentPolicy, updateEnrollmentPolicy } from "@attested/policy";
import { apiRoute } from "@/lib/api";

type P = { id: string };
export const GET = apiRoute<P>({}, async ({ db, params }) => getEnrollmentPolicy(db, params.id));
export const PATCH = apiRoute<P>({ write: "change enrollment policies" }, async ({ db, actor, params, body }) =>
  updateEnrollmentPolicy(db, actor, params.id, await body()),
);
export const DELETE = apiRoute<P>({ write: "delete enrollment policies" }, async ({ db, actor, params }) => {
  await deleteEnrollmentPolicy(db, actor, params.id);
  return new Response(null, { status: 204 });
});
