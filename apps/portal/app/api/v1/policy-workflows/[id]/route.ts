import { deleteWorkflow, getWorkflow, updateWorkflow, workflowUsage } from "@attested/policy";
import { apiRoute } from "@/lib/api";

type P = { id: string };
export const GET = apiRoute<P>({}, async ({ db, params }) => ({ ...(await getWorkflow(db, params.id)), usedBy: await workflowUsage(db, params.id) }));
export const PATCH = apiRoute<P>({ write: "change policy workflows" }, async ({ db, actor, params, body }) =>
  updateWorkflow(db, actor, params.id, await body()),
);
export const DELETE = apiRoute<P>({ write: "delete policy workflows" }, async ({ db, actor, params }) => {
  await deleteWorkflow(db, actor, params.id);
  return new Response(null, { status: 204 });
});
