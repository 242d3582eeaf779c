import { assertCanWrite } from "@attested/identity";
import { platformProfile } from "@attested/platforms";
import { publicUrl } from "@/lib/config";
import { getDb } from "@/lib/db";
import { currentActor } from "@/lib/session";
import { DomainError } from "@attested/errors";

// The profile carries the enrollment secret, so only admins download it.
export async function GET(_: Request, { params }: { params: Promise<{ id: string }> }) {
  const actor = await currentActor();
  if (!actor) return new Response("sign in first\n", { status: 401 });
  const db = await getDb();
  try {
    await assertCanWrite(db, actor, "download enrollment profiles");
    const profile = await platformProfile(db, actor, (await params).id, await publicUrl());
    return new Response(profile.xml, {
      headers: {
        "content-type": "application/x-apple-aspen-config",
        "content-disposition": `attachment; filename="${profile.filename}"`,
        "cache-control": "no-store",
      },
    });
  } catch (e) {
    if (e instanceof DomainError) return new Response(`${e.message}\n`, { status: e.status });
    throw e;
  }
}
