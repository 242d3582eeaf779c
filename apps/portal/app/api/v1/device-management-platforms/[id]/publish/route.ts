import { publishToKandji } from "@attested/platforms";
import { apiError, apiRoute } from "@/lib/api";
import { publishContext } from "@/lib/config";

// Publish to Kandji with a Core Platform's Kandji token; Kandji's refusal is a 502 naming its answer.
export const POST = apiRoute<{ id: string }>({ write: "publish profiles to Kandji" }, async ({ db, actor, params, body }) => {
  const r = await publishToKandji(db, actor, params.id, await body(), await publishContext());
  return r.ok ? Response.json({ data: r }) : apiError(502, r.reason);
});
