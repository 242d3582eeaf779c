import { publicUrl } from "@/lib/config";
import { openApiDocument } from "@/lib/openapi";

export async function GET() {
  return Response.json(openApiDocument(await publicUrl()));
}
