import { listEvents } from "@attested/events";
import { apiRoute } from "@/lib/api";

export const GET = apiRoute({}, async ({ db, req }) => {
  const q = Object.fromEntries(new URL(req.url).searchParams);
  const page = await listEvents(db, q);
  return { data: page.events, nextCursor: page.nextCursor };
});
