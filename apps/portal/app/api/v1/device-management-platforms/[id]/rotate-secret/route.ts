import { rotateEnrollmentSecret } from "@attested/platforms";
import { apiRoute } from "@/lib/api";

export const POST = apiRoute<{ id: string }>({ write: "rotate enrollment secrets" }, async ({ db, actor, params }) => {
  await rotateEnrollmentSecret(db, actor, params.id);
  return new Response(null, { status: 204 });
});
