import { DEFAULT_HTTP_POLICY, httpGet, isRetryableStatus, type HttpDeps, type HttpPolicy } from "./http";
import { authHeaders, errorDetail, parseBody, redactUrl, type LookupConfig } from "./lookup";
import { getAccessToken, tokenCacheKey } from "./oauth";
import { evaluatePath, parsePath, type ParsedPath } from "./paths";
import type { ListPaging } from "./schema";

// Fleet inventory: the whole device list of a Core Platform, read page by page, so that a sweep
// spends one request per page instead of one per certificate. Three paging styles, as the MDMs
// document them:
//   offset-limit - Kandji GET /api/v1/devices?limit=300&offset=600 (a plain JSON array per page);
//   page-size    - Jamf Pro GET /api/v1/computers-inventory?page=2&page-size=100 ({ totalCount, results });
//   next-link    - Microsoft Graph GET /v1.0/deviceManagement/managedDevices ({ value, @odata.nextLink }).
// An inventory is all or nothing: any failed, malformed or missing page makes the outcome "error",
// and the caller must not draw conclusions (revocations) from the devices read so far.

export const LIST_PAGING_LABELS: Record<ListPaging, string> = {
  "offset-limit": "Offset and limit (Kandji)",
  "page-size": "Page and page size (Jamf Pro)",
  "next-link": "@odata.nextLink (Microsoft Graph)",
};

/** A page of a large fleet is bigger than a single device's answer. */
const LIST_MAX_BYTES = 16 << 20;
/** A fleet larger than this is refused rather than held in memory without bound. */
export const MAX_INVENTORY_DEVICES = 2_000_000;

export interface ListConfig {
  /** Without paging parameters; they are added per page (none for next-link, which follows the links). */
  uri: string;
  paging: ListPaging;
  /** Where the page's items are, e.g. `data` (Kandji), `data.results` (Jamf), `data.value` (Graph). */
  itemsPath: string;
  /** Where an item's serial number is, with `data` standing for the item, e.g. `data.serial_number`. */
  serialPath: string;
  pageSize: number;
}

/** The request budget a pass draws from: one page costs up to `n` requests (first try and retries). */
export interface InventoryBudget {
  /** Resolves false when the pass must stop (its time is up); may wait for the next window. */
  take(n: number): Promise<boolean>;
  /** Requests taken but not sent. */
  giveBack(n: number): Promise<void>;
}

export interface InventoryOptions {
  allowHttp?: boolean;
  http?: Partial<Omit<HttpPolicy, "allowHttp">>;
  budget?: InventoryBudget;
  deps?: HttpDeps;
  /** Called after each page (for progress). */
  onPage?: (page: { number: number; items: number; url: string }) => void | Promise<void>;
}

export interface InventoryResult {
  outcome: "complete" | "error";
  /** Serial numbers listed; only meaningful when outcome is "complete". */
  serials: Set<string>;
  pages: number;
  items: number;
  /** Requests sent, retries included. */
  requests: number;
  timeMs: number;
  /** "complete", or what failed and on which page. */
  reason: string;
  /** With outcome "error": the pass ran out of budget or time, not into a bad answer. */
  budgetExhausted?: true;
  status?: number;
  url?: string;
}

type Auth = Pick<LookupConfig, "authMethod" | "secret" | "basicUsername" | "apiKeyHeader" | "oauthTokenUrl" | "oauthClientId" | "oauthScope" | "tokenOwner">;

function pageUrl(list: ListConfig, page: number, offset: number): string {
  const u = new URL(list.uri);
  if (list.paging === "offset-limit") {
    u.searchParams.set("limit", String(list.pageSize));
    u.searchParams.set("offset", String(offset));
  } else if (list.paging === "page-size") {
    u.searchParams.set("page", String(page));
    u.searchParams.set("page-size", String(list.pageSize));
  }
  return u.toString();
}

/** Reads every page of the fleet. Remote trouble never throws; `reason` says what happened. */
export async function listInventory(list: ListConfig, auth: Auth, opts: InventoryOptions = {}): Promise<InventoryResult> {
  const started = Date.now();
  const serials = new Set<string>();
  let pages = 0;
  let items = 0;
  let requests = 0;
  const done = (outcome: InventoryResult["outcome"], reason: string, extra: Partial<InventoryResult> = {}): InventoryResult => ({
    outcome,
    serials,
    pages,
    items,
    requests,
    timeMs: Date.now() - started,
    reason: outcome === "error" ? `page ${pages + 1}: ${reason}` : reason,
    ...extra,
  });

  let itemsPath: ParsedPath;
  let serialPath: ParsedPath;
  let origin: string;
  try {
    itemsPath = parsePath(list.itemsPath);
    serialPath = parsePath(list.serialPath);
    origin = new URL(list.uri).origin;
  } catch (e) {
    return done("error", `invalid list configuration: ${(e as Error).message}`);
  }
  const policy = {
    ...DEFAULT_HTTP_POLICY,
    maxBytes: LIST_MAX_BYTES,
    ...opts.http,
    allowHttp: opts.allowHttp ?? false,
  };
  // OAuth 2.0 platforms (Jamf Pro, Intune): the same cached token as the lookups.
  let accessToken: string | null = null;
  if (auth.authMethod === "oauth2") {
    const credentials = { tokenUrl: auth.oauthTokenUrl!, clientId: auth.oauthClientId!, clientSecret: auth.secret!, scope: auth.oauthScope ?? null };
    const t = await getAccessToken(tokenCacheKey(auth.tokenOwner ?? "", credentials), credentials, { http: policy, deps: opts.deps });
    if (!t.ok) return done("error", `token request failed: ${t.reason}`, t.status ? { status: t.status } : {});
    accessToken = t.accessToken;
  }
  const headers = authHeaders(auth, accessToken);
  const maxRequests = 1 + policy.retries;

  let url = pageUrl(list, 0, 0);
  let previousLength = -1;
  for (;;) {
    if (opts.budget && !(await opts.budget.take(maxRequests))) {
      return done("error", "the request budget or time of this pass ran out before the last page", { budgetExhausted: true });
    }
    const http = await httpGet(url, headers, policy, opts.deps);
    requests += http.attempts;
    await opts.budget?.giveBack(maxRequests - Math.max(1, http.attempts));
    const shown = redactUrl(url);
    if (http.kind === "failure") return done("error", http.message, { url: shown });
    const body = parseBody(http.body, http.headers["content-type"] ?? "");
    if (http.status < 200 || http.status > 299) {
      const detail = body.ok ? errorDetail(body.data) : null;
      const retries = http.attempts - 1;
      const after = isRetryableStatus(http.status) && retries > 0 ? ` after ${retries} ${retries === 1 ? "retry" : "retries"}` : "";
      return done("error", `HTTP ${http.status}${after}${detail ? ` (${detail})` : ""}`, { status: http.status, url: shown });
    }
    if (!body.ok) return done("error", "response is not valid JSON", { status: http.status, url: shown });
    const view = { data: body.data, status: http.status, headers: http.headers };
    const found = evaluatePath(view, itemsPath);
    if (!found.found || !Array.isArray(found.value)) {
      return done("error", `${list.itemsPath} is not a list of devices${found.found ? "" : ` (${found.reason})`}`, { status: http.status, url: shown });
    }
    const page = found.value as unknown[];
    const before = serials.size;
    let identified = 0;
    for (const item of page) {
      const s = evaluatePath({ data: item, status: http.status, headers: {} }, serialPath);
      if (s.found && typeof s.value === "string" && s.value.trim() !== "") {
        serials.add(s.value.trim());
        identified++;
      }
    }
    // A page of devices none of which has a serial number means the Serial Path is wrong: reading
    // on would make every device look missing.
    if (page.length > 0 && identified === 0) {
      return done("error", `no item has a serial number at ${list.serialPath}`, { status: http.status, url: shown });
    }
    // A server that ignores the paging parameters answers the same page forever.
    if (identified > 0 && serials.size === before) return done("error", "the page repeats devices already listed (paging ignored?)", { url: shown });
    items += page.length;
    pages++;
    await opts.onPage?.({ number: pages, items: page.length, url: shown });
    if (serials.size > MAX_INVENTORY_DEVICES) return done("error", `more than ${MAX_INVENTORY_DEVICES} devices`, { url: shown });

    if (list.paging === "next-link") {
      const next = evaluatePath(view, "data['@odata.nextLink']");
      if (!next.found || next.value === null) break;
      if (typeof next.value !== "string") return done("error", "@odata.nextLink is not a URL", { url: shown });
      let nextUrl: URL;
      try {
        nextUrl = new URL(next.value);
      } catch {
        return done("error", "@odata.nextLink is not a URL", { url: shown });
      }
      // The credential goes with the next request: only to the list's own origin.
      if (nextUrl.origin !== origin) return done("error", `@odata.nextLink points to another host (${nextUrl.origin})`, { url: shown });
      url = nextUrl.toString();
      continue;
    }
    // The end is an empty page, or a page shorter than the one before. The first page alone cannot
    // tell: a server that caps the page size (Kandji: 300) returns fewer items than asked for.
    if (page.length === 0 || (previousLength >= 0 && page.length < previousLength)) break;
    previousLength = page.length;
    url = pageUrl(list, pages, items);
  }
  return done("complete", `${serials.size} device${serials.size === 1 ? "" : "s"} on ${pages} page${pages === 1 ? "" : "s"}`);
}
