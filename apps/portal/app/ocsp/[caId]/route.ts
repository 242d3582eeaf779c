import { handleOcsp } from "../../../lib/ocsp";
import { machineRequest, machineResponse } from "../../../lib/web-adapter";
import { services } from "../../../server/services";

export const dynamic = "force-dynamic";

// POST with the DER request as the body (RFC 6960 §A.1).
export async function POST(request: Request): Promise<Response> {
  return machineResponse(await handleOcsp(await services(), machineRequest(request)));
}
