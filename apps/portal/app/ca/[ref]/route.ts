import { binary, derOf, notFound, publicChain } from "@/lib/public-pki";

// /ca/<id>.cer (DER, the AIA caIssuers URL) and /ca/<id>.pem
export async function GET(_: Request, { params }: { params: Promise<{ ref: string }> }) {
  const m = /^(.+)\.(cer|pem)$/.exec((await params).ref);
  const chain = m && (await publicChain(m[1]));
  if (!chain) return notFound();
  const ca = chain[0];
  const name = ca.commonName.replace(/[^A-Za-z0-9._-]+/g, "_");
  return m[2] === "cer"
    ? binary(derOf(ca.certificatePem), "application/pkix-cert", `${name}.cer`)
    : binary(Buffer.from(ca.certificatePem), "application/x-pem-file", `${name}.pem`);
}
