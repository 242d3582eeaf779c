import { deleteSignalSource, getSignalSource, updateSignalSource } from "@attested/policy";
import { apiRoute } from "@/lib/api";

type P = { id: string };
export const GET = apiRoute<P>({}, async ({ db, params }) => getSignalSource(db, params.id));
export const PATCH = apiRoute<P>({ write: "change security signal sources" }, async ({ db, actor, params, body }) =>
  updateSignalSource(db, actor, params.id, await body()),
);
export const DELETE = apiRoute<P>({ write: "delete security signal sources" }, async ({ db, actor, params }) => {
  await deleteSignalSource(db, actor, params.id);
  return new Response(null, { status: 204 });
});
