import { platformProfile } from "@attested/platforms";
import { apiRoute } from "@/lib/api";
import { publicUrl } from "@/lib/config";

// The profile carries the enrollment secret: Admin tokens only.
export const GET = apiRoute<{ id: string }>({ write: "download enrollment profiles" }, async ({ db, actor, params }) => {
  const p = await platformProfile(db, actor, params.id, await publicUrl());
  return new Response(p.xml, {
    headers: { "content-type": "application/x-apple-aspen-config", "content-disposition": `attachment; filename="${p.filename}"`, "cache-control": "no-store" },
  });
});
