// Resource URLs. All of them are built from the platform's configured base URL, never from the
// request's Host header, so a proxy in front cannot change what the server advertises or accepts.

const ID = /^[A-Za-z0-9_-]{1,64}$/;

export class PlatformUrls {
  readonly base: string;
  readonly basePath: string;

  constructor(baseUrl: string) {
    const u = new URL(baseUrl);
    if (u.search || u.hash) throw new Error("ACME base URL must not have a query or fragment");
    this.base = u.toString().replace(/\/+$/, "");
    this.basePath = u.pathname.replace(/\/+$/, "");
  }

  get directory() {
    return `${this.base}/directory`;
  }
  get newNonce() {
    return `${this.base}/new-nonce`;
  }
  get newAccount() {
    return `${this.base}/new-account`;
  }
  get newOrder() {
    return `${this.base}/new-order`;
  }
  get revokeCert() {
    return `${this.base}/revoke-cert`;
  }
  get keyChange() {
    return `${this.base}/key-change`;
  }
  account(id: string) {
    return `${this.base}/acct/${id}`;
  }
  accountOrders(id: string) {
    return `${this.base}/acct/${id}/orders`;
  }
  order(id: string) {
    return `${this.base}/order/${id}`;
  }
  finalize(id: string) {
    return `${this.base}/order/${id}/finalize`;
  }
  authorization(id: string) {
    return `${this.base}/authz/${id}`;
  }
  challenge(id: string) {
    return `${this.base}/chall/${id}`;
  }
  certificate(orderId: string) {
    return `${this.base}/cert/${orderId}`;
  }

  /** The account id in a `kid`, or null when the kid is not an account URL of this platform. */
  accountIdFromKid(kid: string): string | null {
    const prefix = `${this.base}/acct/`;
    if (!kid.startsWith(prefix)) return null;
    const id = kid.slice(prefix.length);
    return ID.test(id) ? id : null;
  }

  /**
   * Matches a request URL to a resource. Only the path is used: it must lie under the base URL's
   * path. Returns the canonical URL the JWS "url" must equal (RFC 8555 §6.4).
   */
  match(requestUrl: string): RouteMatch | null {
    let path: string;
    try {
      path = new URL(requestUrl).pathname;
    } catch {
      return null;
    }
    if (path !== this.basePath && !path.startsWith(`${this.basePath}/`)) return null;
    const rest = path.slice(this.basePath.length).replace(/^\/+/, "");
    const seg = rest === "" ? [] : rest.split("/");
    const canonical = rest === "" ? this.base : `${this.base}/${rest}`;
    const route = matchSegments(seg);
    return route ? { ...route, canonicalUrl: canonical } : null;
  }
}

export type RouteName =
  | "directory"
  | "newNonce"
  | "newAccount"
  | "newOrder"
  | "revokeCert"
  | "keyChange"
  | "account"
  | "accountOrders"
  | "order"
  | "finalize"
  | "authorization"
  | "challenge"
  | "certificate";

export interface RouteMatch {
  name: RouteName;
  id?: string;
  canonicalUrl: string;
}

function matchSegments(seg: string[]): Omit<RouteMatch, "canonicalUrl"> | null {
  if (seg.length === 0) return { name: "directory" };
  const [a, b, c] = seg;
  if (seg.length === 1) {
    const fixed: Record<string, RouteName> = {
      directory: "directory",
      "new-nonce": "newNonce",
      "new-account": "newAccount",
      "new-order": "newOrder",
      "revoke-cert": "revokeCert",
      "key-change": "keyChange",
    };
    return Object.hasOwn(fixed, a) ? { name: fixed[a] } : null;
  }
  if (!ID.test(b)) return null;
  if (seg.length === 2) {
    const byId: Record<string, RouteName> = {
      acct: "account",
      order: "order",
      authz: "authorization",
      chall: "challenge",
      cert: "certificate",
    };
    return Object.hasOwn(byId, a) ? { name: byId[a], id: b } : null;
  }
  if (seg.length === 3) {
    if (a === "acct" && c === "orders") return { name: "accountOrders", id: b };
    if (a === "order" && c === "finalize") return { name: "finalize", id: b };
  }
  return null;
}

/**
 * A request path fit for logs: the enrollment secret in `/acme/<secret>/...` is the platform's
 * credential, so it is replaced (a path elsewhere is returned as it is).
 */
export const redactAcmePath = (path: string) => path.replace(/^\/+acme\/+[^/?#]*/i, "/acme/[secret]");
