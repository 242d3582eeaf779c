import { getCertificate } from "@attested/ca";
import { apiRoute } from "@/lib/api";
import { caContext } from "@/lib/ca";

export const GET = apiRoute<{ id: string }>({}, async ({ params }) => getCertificate(await caContext(), params.id));
