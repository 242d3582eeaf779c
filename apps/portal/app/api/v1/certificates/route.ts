import { searchCertificates } from "@attested/ca";
import { apiRoute } from "@/lib/api";
import { caContext } from "@/lib/ca";

export const GET = apiRoute({}, async ({ req }) => {
  const page = await searchCertificates(await caContext(), Object.fromEntries(new URL(req.url).searchParams));
  return { data: page.certificates, nextCursor: page.nextCursor };
});
