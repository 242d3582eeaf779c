// Security headers on every response: portal pages, REST API, ACME, OCSP, CRL, static files, errors.
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/** What no response may do, whatever it is: be framed, sniffed, leak the URL or use device features. */
const COMMON: Array<[string, string]> = [
  ["x-content-type-options", "nosniff"],
  ["referrer-policy", "no-referrer"],
  ["x-frame-options", "DENY"],
  ["permissions-policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"],
  ["cross-origin-opener-policy", "same-origin"],
];

/** Machine answers (ACME, OCSP, health, metrics) load nothing. */
const NOTHING = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * A page may run only the scripts Next.js renders with this response's nonce: Next reads the nonce from
 * the request's Content-Security-Policy header and puts it on every script and style it emits.
 */
function pagePolicy(nonce: string, dev: boolean): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ""}`,
    `style-src 'self' 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** HSTS only where browsers reach us over https (PUBLIC_URL), as a plain-http dev setup must keep working. */
const hsts = (publicUrl: string) => (publicUrl.startsWith("https://") ? "max-age=31536000" : null);

/** `dev`: Next's development mode (NODE_ENV=development), whose compiler needs eval. */
export function securityHeaders(publicUrl: string, dev = false) {
  const common = [...COMMON];
  const sts = hsts(publicUrl);
  if (sts) common.push(["strict-transport-security", sts]);
  return {
    /** A response the server answers itself, without Next.js. */
    machine(res: ServerResponse) {
      for (const [k, v] of common) res.setHeader(k, v);
      res.setHeader("content-security-policy", NOTHING);
    },
    /** A response Next.js renders: a fresh nonce, handed to Next through the request. */
    page(req: IncomingMessage, res: ServerResponse) {
      for (const [k, v] of common) res.setHeader(k, v);
      const policy = pagePolicy(randomBytes(16).toString("base64"), dev);
      req.headers["content-security-policy"] = policy;
      delete req.headers["content-security-policy-report-only"];
      res.setHeader("content-security-policy", policy);
    },
  };
}
