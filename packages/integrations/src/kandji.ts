// Kandji's public API for the Library custom profiles and Blueprint assignment (docs/kandji.md,
// "Publishing the profile"): what Publish to Kandji calls with a Core Platform's Kandji API token.
// The token goes to the Core Platform's own origin only (no redirects followed) and never appears in
// an error: errors quote Kandji's answer (Django REST framework's `detail` or field errors).

import { fetch, FormData } from "undici";
import { openCorePlatformSecret, type CorePlatformRecord } from "./secret";
import { allowHttpFromEnv, uriOrigin } from "./schema";

export interface KandjiApi {
  /** The tenant's API origin, e.g. https://example.api.kandji.io (from the Core Platform's URI). */
  baseUrl: string;
  token: string;
  timeoutMs: number;
}

/** Kandji refused or could not be reached; `status` is Kandji's HTTP status (null: no answer). */
export class KandjiApiError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
  }
}

/** Why a Core Platform cannot publish to Kandji, or null when it can. */
export function kandjiPublishProblem(rec: Pick<CorePlatformRecord, "authMethod" | "secret" | "uri">, allowHttp = allowHttpFromEnv()): string | null {
  if (rec.authMethod !== "bearer" || !rec.secret || rec.secret.length === 0) return "its Authentication Method must be Bearer Token with Kandji's API token";
  const origin = uriOrigin(rec.uri);
  if (!origin || origin === "null") return "its URI must be the tenant's API URL (https://<subdomain>.api.kandji.io/...)";
  if (!origin.startsWith("https://") && !(allowHttp && origin.startsWith("http://"))) return "its URI must use https";
  return null;
}

/** The Kandji API a Core Platform reaches: its URI's origin and its Bearer Token (opened here). */
export function kandjiApiFromRecord(rec: CorePlatformRecord, key?: Buffer): KandjiApi {
  const problem = kandjiPublishProblem(rec);
  if (problem) throw new KandjiApiError(`The Core Platform cannot publish to Kandji: ${problem}`, null);
  return { baseUrl: uriOrigin(rec.uri)!, token: openCorePlatformSecret(rec.secret!, rec.id, key), timeoutMs: Math.max(rec.timeoutMs, 10_000) };
}

/** Kandji's error answer as one line: `detail`, a JSON string, or DRF field errors ("name: This field is required."). */
function errorText(body: unknown): string {
  if (typeof body === "string") return body;
  if (Array.isArray(body)) return body.map(errorText).join("; ");
  if (body && typeof body === "object") {
    const o = body as Record<string, unknown>;
    if (typeof o.detail === "string") return o.detail;
    return Object.entries(o)
      .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(" ") : typeof v === "string" ? v : JSON.stringify(v)}`)
      .join("; ");
  }
  return "";
}

async function call(api: KandjiApi, method: string, path: string, body?: FormData | object): Promise<{ status: number; json: unknown }> {
  const url = new URL(path, api.baseUrl);
  let res: Awaited<ReturnType<typeof fetch>>;
  try {
    res = await fetch(url, {
      method,
      redirect: "manual",
      signal: AbortSignal.timeout(api.timeoutMs),
      headers: {
        authorization: `Bearer ${api.token}`,
        accept: "application/json",
        ...(body && !(body instanceof FormData) ? { "content-type": "application/json" } : {}),
      },
      body: body instanceof FormData ? body : body ? JSON.stringify(body) : undefined,
    });
  } catch (e) {
    const reason = e instanceof Error && e.name === "TimeoutError" ? `no answer within ${api.timeoutMs} ms` : "could not connect";
    throw new KandjiApiError(`Kandji ${method} ${url.pathname}: ${reason}`, null);
  }
  const text = (await res.text()).slice(0, 64 * 1024);
  let json: unknown = text;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {}
  if (res.status >= 300) {
    const why = typeof json === "string" && /^\s*</.test(json) ? "" : errorText(json).slice(0, 300);
    throw new KandjiApiError(`Kandji answered ${res.status} to ${method} ${url.pathname}${why ? `: ${why}` : ""}`, res.status);
  }
  return { status: res.status, json };
}

export interface KandjiBlueprint {
  id: string;
  name: string;
}

/** GET /api/v1/blueprints, following `next` on the same origin (at most 20 pages). */
export async function listKandjiBlueprints(api: KandjiApi): Promise<KandjiBlueprint[]> {
  const out: KandjiBlueprint[] = [];
  let path: string | null = "/api/v1/blueprints?limit=300";
  for (let page = 0; path && page < 20; page++) {
    const { json } = await call(api, "GET", path);
    const r = json as { results?: Array<{ id?: unknown; name?: unknown }>; next?: unknown };
    for (const b of r.results ?? []) if (typeof b.id === "string" && typeof b.name === "string") out.push({ id: b.id, name: b.name });
    const next = typeof r.next === "string" ? new URL(r.next, api.baseUrl) : null;
    path = next && next.origin === new URL(api.baseUrl).origin ? `${next.pathname}${next.search}` : null;
  }
  return out;
}

export interface CustomProfileInput {
  name: string;
  /** The .mobileconfig. */
  profile: string;
  filename: string;
  active: boolean;
}

export interface KandjiCustomProfile {
  id: string;
  name: string;
  active: boolean;
  profile: string;
  mdm_identifier?: string;
}

function profileForm(p: CustomProfileInput): FormData {
  const f = new FormData();
  f.set("name", p.name);
  f.set("file", new Blob([p.profile], { type: "application/x-apple-aspen-config" }), p.filename);
  f.set("active", String(p.active));
  // The ACME payload installs on macOS, iOS and iPadOS (device-attest-01 needs those).
  for (const os of ["mac", "iphone", "ipad"]) f.set(`runs_on_${os}`, "true");
  return f;
}

/** POST /api/v1/library/custom-profiles (multipart: name, file, active, runs_on_*). */
export async function createCustomProfile(api: KandjiApi, p: CustomProfileInput): Promise<KandjiCustomProfile> {
  return (await call(api, "POST", "/api/v1/library/custom-profiles", profileForm(p))).json as KandjiCustomProfile;
}

/** PATCH /api/v1/library/custom-profiles/{library_item_id}; null when Kandji no longer has the item (404). */
export async function updateCustomProfile(api: KandjiApi, libraryItemId: string, p: CustomProfileInput): Promise<KandjiCustomProfile | null> {
  try {
    return (await call(api, "PATCH", `/api/v1/library/custom-profiles/${encodeURIComponent(libraryItemId)}`, profileForm(p))).json as KandjiCustomProfile;
  } catch (e) {
    if (e instanceof KandjiApiError && e.status === 404) return null;
    throw e;
  }
}

/**
 * POST /api/v1/blueprints/{blueprint_id}/assign-library-item {library_item_id}. Kandji answers 400
 * "Library Item already exists on Blueprint" when it is assigned already: that is the state we want.
 */
export async function assignLibraryItem(api: KandjiApi, blueprintId: string, libraryItemId: string): Promise<"assigned" | "already"> {
  try {
    await call(api, "POST", `/api/v1/blueprints/${encodeURIComponent(blueprintId)}/assign-library-item`, { library_item_id: libraryItemId });
    return "assigned";
  } catch (e) {
    if (e instanceof KandjiApiError && e.status === 400 && e.message.includes("Library Item already exists on Blueprint")) return "already";
    throw e;
  }
}
