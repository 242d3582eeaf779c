import { handleOcsp } from "../../../../lib/ocsp";
import { machineRequest, machineResponse } from "../../../../lib/web-adapter";
import { services } from "../../../../server/services";

export const dynamic = "force-dynamic";

// GET {url}/{url-encoding of base-64 encoding of the DER request} (RFC 6960 §A.1); the base64 may hold "/".
export async function GET(request: Request): Promise<Response> {
  return machineResponse(await handleOcsp(await services(), machineRequest(request)));
}
