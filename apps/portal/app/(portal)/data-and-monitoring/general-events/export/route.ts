import { ZodError } from "zod";
import { assertCanRead } from "@attested/identity";
import { exportEventsCsv, exportQuery } from "@attested/lifecycle";
import { getDb } from "@/lib/db";
import { currentActor } from "@/lib/session";
import { DomainError } from "@attested/errors";
import { services } from "@/server/services";

// General Events > Export CSV: the filtered view (every page of it), streamed as text/csv.
// Admins and auditors only; the export itself is recorded in the trail.
export async function GET(req: Request) {
  const actor = await currentActor();
  if (!actor) return new Response("sign in first\n", { status: 401 });
  try {
    assertCanRead(actor);
    const query = exportQuery(new URL(req.url).searchParams);
    const stream = await exportEventsCsv(await getDb(), actor, query, { maxRows: (await services()).config.lifecycle.exportMaxRows });
    const stamp = new Date().toISOString().replace(/[-:]/g, "").slice(0, 15);
    return new Response(stream, {
      headers: {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="general-events-${stamp}.csv"`,
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
      },
    });
  } catch (e) {
    if (e instanceof ZodError) return new Response(`${e.issues[0].path.join(".")}: ${e.issues[0].message}\n`, { status: 400 });
    if (e instanceof DomainError) return new Response(`${e.message}\n`, { status: e.status });
    throw e;
  }
}
