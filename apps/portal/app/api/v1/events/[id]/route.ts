import { getEvent } from "@attested/events";
import { apiRoute } from "@/lib/api";
import { NotFoundError } from "@attested/errors";

export const GET = apiRoute<{ id: string }>({}, async ({ db, params }) => {
  const e = await getEvent(db, params.id);
  if (!e) throw new NotFoundError("Event");
  return e;
});
