import { createWorkflow, listWorkflows } from "@attested/policy";
import { apiRoute } from "@/lib/api";

export const GET = apiRoute({}, async ({ db }) => ({ data: await listWorkflows(db) }));
export const POST = apiRoute({ write: "create policy workflows" }, async ({ db, actor, body }) => createWorkflow(db, actor, await body()));
