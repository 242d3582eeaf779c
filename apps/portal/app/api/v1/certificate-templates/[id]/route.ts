import { deleteTemplate, getTemplate, updateTemplate } from "@attested/ca";
import { apiRoute } from "@/lib/api";
import { caContext } from "@/lib/ca";

type P = { id: string };
export const GET = apiRoute<P>({}, async ({ params }) => getTemplate(await caContext(), params.id));
export const PUT = apiRoute<P>({ write: "change certificate templates" }, async ({ actor, params, body }) =>
  updateTemplate(await caContext(), actor, params.id, await body()),
);
export const DELETE = apiRoute<P>({ write: "delete certificate templates" }, async ({ actor, params }) => {
  await deleteTemplate(await caContext(), actor, params.id);
  return new Response(null, { status: 204 });
});
