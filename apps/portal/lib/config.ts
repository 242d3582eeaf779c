import { services } from "../server/services";

/** The public base URL (PUBLIC_URL, no trailing slash): every URL we hand out (ACME, CRL, OCSP, profiles) is built from it. */
export async function publicUrl(): Promise<string> {
  return (await services()).config.publicUrl;
}

/** What Publish to Kandji needs from the server's settings (a rotation republishes too). */
export async function publishContext(): Promise<{ publicUrl: string; graceSeconds: number }> {
  const { config } = await services();
  return { publicUrl: config.publicUrl, graceSeconds: config.publishGraceSeconds };
}
