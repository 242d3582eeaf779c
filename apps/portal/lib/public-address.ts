/**
 * The origin the browser used when it is not PUBLIC_URL's, else null. Auth.js sends the browser to
 * PUBLIC_URL after signing in, so a session cookie set for another address (127.0.0.1 for localhost, a
 * proxy's other name) is never sent back: the admin would land on the sign-in form again.
 * Next.js fills x-forwarded-host/-proto from the request when no proxy did.
 */
export function otherAddress(publicUrl: string, headers: Headers): string | null {
  const first = (name: string) => headers.get(name)?.split(",")[0]?.trim().toLowerCase() || undefined;
  const host = first("x-forwarded-host") ?? first("host");
  if (!host) return null;
  const expected = new URL(publicUrl);
  const proto = first("x-forwarded-proto") ?? expected.protocol.slice(0, -1);
  const used = `${proto}://${host}`;
  return used === `${expected.protocol}//${expected.host}`.toLowerCase() ? null : used;
}
