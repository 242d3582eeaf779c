import { createEnrollmentPolicy, listEnrollmentPolicies } from "@attested/policy";
import { apiRoute } from "@/lib/api";

// Listed in the order the engine tries them: priority (lower first), then name.
export const GET = apiRoute({}, async ({ db }) => ({ data: await listEnrollmentPolicies(db) }));
export const POST = apiRoute({ write: "create enrollment policies" }, async ({ db, actor, body }) => createEnrollmentPolicy(db, actor, await body()));
