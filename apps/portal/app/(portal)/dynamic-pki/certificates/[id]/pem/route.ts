import { getCertificate } from "@attested/ca";
import { caContext } from "@/lib/ca";
import { currentActor } from "@/lib/session";

export async function GET(_: Request, { params }: { params: Promise<{ id: string }> }) {
  if (!(await currentActor())) return new Response("sign in first\n", { status: 401 });
  try {
    const c = await getCertificate(await caContext(), (await params).id);
    return new Response(c.pem, {
      headers: { "content-type": "application/x-pem-file", "content-disposition": `attachment; filename="${c.serialNumber}.pem"` },
    });
  } catch {
    return new Response("not found\n", { status: 404 });
  }
}
