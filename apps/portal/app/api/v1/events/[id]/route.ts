import { getEvent } from "@attested/events";
import { NotFoundError } from "@attested/identity";
import { apiRoute } from "@/lib/api";

export const GET = apiRoute<{ id: string }>({}, async ({ db, params }) => {
  const e = await getEvent(db, params.id);
  if (!e) throw new NotFoundError("Event");
  return e;
});
