import { getKeyAttestationPlatform, setTestTrustedRoots } from "@attested/platforms";
import { apiRoute } from "@/lib/api";

type P = { id: string };
export const GET = apiRoute<P>({}, async ({ db, params }) => getKeyAttestationPlatform(db, params.id));
// Only the explicit testing setting can change: extra trusted roots besides Apple's.
export const PATCH = apiRoute<P>({ write: "change attestation trust" }, async ({ db, actor, params, body }) =>
  setTestTrustedRoots(db, actor, params.id, await body()),
);
