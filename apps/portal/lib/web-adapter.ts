// Next's door to the machine protocols: a WHATWG Request in, a Response out (see lib/acme.ts).
import { readBodyLimited } from "@attested/acme";
import type { MachineRequest, MachineResponse } from "./acme";

export function machineRequest(request: Request): MachineRequest {
  const url = new URL(request.url);
  return {
    method: request.method,
    url: url.pathname + url.search,
    headers: request.headers,
    readBody: async (limit) => {
      const r = await readBodyLimited(request, limit);
      return r.tooLarge ? null : (r.body ?? new Uint8Array(0));
    },
    skipBody: () => {},
  };
}

/** null: no such resource here (what Next answers for a path without a route). */
export function machineResponse(out: MachineResponse | null): Response {
  if (!out) return new Response(null, { status: 404 });
  const body = out.body === undefined ? null : typeof out.body === "string" ? out.body : new Uint8Array(out.body);
  return new Response(body, { status: out.status, headers: out.headers });
}
