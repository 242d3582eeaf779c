import { revokeCertificate } from "@attested/ca";
import { apiRoute } from "@/lib/api";
import { caContext } from "@/lib/ca";

export const POST = apiRoute<{ id: string }>({ write: "revoke certificates" }, async ({ actor, params, body }) =>
  revokeCertificate(await caContext(), actor, params.id, await body()),
);
