/** The public base URL: every URL we hand out (ACME, CRL, OCSP, profiles) is built from it. */
export function publicUrl(): string {
  const raw = process.env.PUBLIC_URL ?? `http://localhost:${process.env.PORT ?? 3000}`;
  return raw.replace(/\/+$/, "");
}
