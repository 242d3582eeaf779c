import { handleWebRequest, problem, toWebResponse } from "@attested/acme";
import { logger } from "@attested/log";
import { acmeFailure, acmeService } from "@/lib/acme";

export const dynamic = "force-dynamic";

type Ctx = { params: Promise<{ secret: string }> };

// ACME (RFC 8555) for one Device Management Platform, addressed by its enrollment secret.
async function handle(request: Request, ctx: Ctx): Promise<Response> {
  try {
    return await serve(request, ctx);
  } catch (err) {
    logger().error({ err }, "acme request failed");
    const out = await acmeFailure(err);
    return new Response(out.body, { status: out.status, headers: out.headers });
  }
}

async function serve(request: Request, { params }: Ctx): Promise<Response> {
  const { server, platformFor } = await acmeService();
  const platform = await platformFor((await params).secret);
  if (!platform) {
    const p = problem.malformed("No ACME directory here: the enrollment URL is unknown or was rotated", { status: 404 });
    return toWebResponse({ status: 404, headers: { "content-type": "application/problem+json", "cache-control": "no-store" }, body: JSON.stringify(p.toJSON()) });
  }
  return handleWebRequest(server, request, platform);
}

export const GET = handle;
export const HEAD = handle;
export const POST = handle;
