import { createKeyAttestationPlatform, listKeyAttestationPlatforms } from "@attested/platforms";
import { apiRoute } from "@/lib/api";

export const GET = apiRoute({}, async ({ db }) => ({ data: await listKeyAttestationPlatforms(db) }));
export const POST = apiRoute({ write: "create key attestation platforms" }, async ({ db, actor, body }) =>
  createKeyAttestationPlatform(db, actor, await body()),
);
