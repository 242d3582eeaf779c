import { rotateEnrollmentSecret } from "@attested/platforms";
import { apiRoute } from "@/lib/api";
import { publishContext } from "@/lib/config";

// On a platform published to Kandji the answer tells how the republish went.
export const POST = apiRoute<{ id: string }>({ write: "rotate enrollment secrets" }, async ({ db, actor, params }) => {
  const { published } = await rotateEnrollmentSecret(db, actor, params.id, await publishContext());
  return published ? Response.json({ data: { published } }) : new Response(null, { status: 204 });
});
