import { binary, notFound, pkcs7Of, publicChain } from "@/lib/public-pki";

// /ca/<id>/chain.pem (the CA then its parents up to the root) and /ca/<id>/chain.p7c (DER PKCS#7)
export async function GET(_: Request, { params }: { params: Promise<{ ref: string; format: string }> }) {
  const { ref, format } = await params;
  const chain = await publicChain(ref);
  if (!chain || !["chain.pem", "chain.p7c"].includes(format)) return notFound();
  const name = chain[0].commonName.replace(/[^A-Za-z0-9._-]+/g, "_");
  const pems = chain.map((c) => c.certificatePem.trim());
  return format === "chain.pem"
    ? binary(Buffer.from(`${pems.join("\n")}\n`), "application/x-pem-file", `${name}-chain.pem`)
    : binary(pkcs7Of(pems), "application/pkcs7-mime", `${name}-chain.p7c`);
}
