import { rotateEnrollmentSecret } from "@attested/platforms";
import { apiRoute } from "@/lib/api";
import { publishContext } from "@/lib/config";

// Body optional: {"revokePrevious": true} when the secret leaked (no earlier profile enrolls from now
// on, even while the new one is not yet published). On a platform published to Kandji the answer
// tells how the republish went.
export const POST = apiRoute<{ id: string }>({ write: "rotate enrollment secrets" }, async ({ req, db, actor, params, body }) => {
  // Any body is read as JSON (else 415): a revocation sent some other way must not pass unnoticed.
  // No body (no length, or 0) is a plain rotation, whatever the Content-Type says.
  const sent = req.headers.has("transfer-encoding") || (req.headers.get("content-length") ?? "0") !== "0";
  const { published } = await rotateEnrollmentSecret(db, actor, params.id, await publishContext(), sent ? await body() : {});
  return published ? Response.json({ data: { published } }) : new Response(null, { status: 204 });
});
