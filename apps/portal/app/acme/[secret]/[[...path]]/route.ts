import { handleAcme } from "../../../../lib/acme";
import { machineRequest, machineResponse } from "../../../../lib/web-adapter";
import { services } from "../../../../server/services";

export const dynamic = "force-dynamic";

// ACME (RFC 8555) for one Device Management Platform, addressed by its enrollment secret (lib/acme.ts).
async function handle(request: Request): Promise<Response> {
  return machineResponse(await handleAcme(await services(), machineRequest(request)));
}

export const GET = handle;
export const HEAD = handle;
export const POST = handle;
