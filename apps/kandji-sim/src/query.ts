import type { SimDevice } from "./model";

// Query semantics of GET /api/v1/devices, per the parameter descriptions in the OpenAPI reference.
// Kandji is a Django REST Framework service, so its filters behave like django-filter's: an empty
// value (`?serial_number=`) is ignored rather than matching nothing, unknown parameters are ignored,
// and an invalid `limit`/`offset` falls back to the default.

export const MAX_LIMIT = 300;

// Lower-cased forms, remembered: a lookup compares its value with every device of the fleet.
const lowered = new Map<string, string>();
function lower(s: string): string {
  let l = lowered.get(s);
  if (l === undefined) {
    if (lowered.size >= 100_000) lowered.clear();
    lowered.set(s, (l = s.toLowerCase()));
  }
  return l;
}
const icontains = (have: string, want: string) => lower(have).includes(lower(want));
const iexact = (have: string, want: string) => lower(have) === lower(want);
const csv = (v: string) =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

type Filter = (d: SimDevice, value: string, tagIds: ReadonlyMap<string, string>) => boolean;

export const FILTERS: Record<string, Filter> = {
  asset_tag: (d, v) => d.record.asset_tag === v,
  // "Return results containing the specified blueprint id"
  blueprint_id: (d, v) => icontains(d.record.blueprint_id, v),
  device_id: (d, v) => iexact(d.record.device_id, v),
  device_name: (d, v) => icontains(d.record.device_name, v),
  // macOS only: other platforms never match either value.
  filevault_enabled: (d, v) => d.extras.filevault_enabled !== null && String(d.extras.filevault_enabled) === v.toLowerCase(),
  mac_address: (d, v) => iexact(d.extras.mac_address, v),
  model: (d, v) => icontains(d.record.model, v),
  os_version: (d, v) => icontains(d.record.os_version, v),
  platform: (d, v) => iexact(d.record.platform, v),
  // "If partial serial number is provided in the query, all device containing the partial string will be returned."
  serial_number: (d, v) => icontains(d.record.serial_number, v),
  // Tag filters are documented as case sensitive.
  tag_name: (d, v) => d.record.tags.includes(v),
  tag_name_in: (d, v) => csv(v).some((t) => d.record.tags.includes(t)),
  tag_id: (d, v, ids) => d.record.tags.some((t) => ids.get(t) === v),
  tag_id_in: (d, v, ids) => {
    const want = new Set(csv(v));
    return d.record.tags.some((t) => want.has(ids.get(t) ?? ""));
  },
  user: (d, v) => d.record.user !== "" && icontains(d.record.user.name, v),
  user_email: (d, v) => d.record.user !== "" && icontains(d.record.user.email, v),
  user_email_exact: (d, v) => d.record.user !== "" && iexact(d.record.user.email, v),
  user_id: (d, v) => d.record.user !== "" && d.record.user.id === v,
  user_name: (d, v) => d.record.user !== "" && icontains(d.record.user.name, v),
};

const ORDER_KEYS: Record<string, (d: SimDevice) => string> = {
  asset_tag: (d) => d.record.asset_tag,
  blueprint_id: (d) => d.record.blueprint_id,
  device_id: (d) => d.record.device_id,
  device_name: (d) => d.record.device_name,
  last_check_in: (d) => d.record.last_check_in,
  model: (d) => d.record.model,
  platform: (d) => d.record.platform,
  os_version: (d) => d.record.os_version,
  serial_number: (d) => d.record.serial_number,
  user: (d) => (d.record.user === "" ? "" : d.record.user.name),
};

function nonNegativeInt(raw: string | null, fallback: number): number {
  if (raw === null || !/^\d+$/.test(raw)) return fallback;
  return Number.parseInt(raw, 10);
}

/** Applies filters, `ordering` (comma list, `-` for descending; unknown fields ignored), limit and offset. */
export function queryDevices(all: readonly SimDevice[], params: URLSearchParams, tagIds: ReadonlyMap<string, string>): SimDevice[] {
  // The parameters are read once, not once per device (a fleet of thousands is scanned per lookup).
  const active = Object.entries(FILTERS).flatMap(([name, filter]) => {
    const v = params.get(name);
    return v !== null && v !== "" ? [[filter, v] as const] : [];
  });
  let out = active.length === 0 ? [...all] : all.filter((d) => active.every(([filter, v]) => filter(d, v, tagIds)));

  const ordering = (params.get("ordering") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => ORDER_KEYS[s.replace(/^-/, "")]);
  if (ordering.length > 0) {
    out = [...out].sort((a, b) => {
      for (const o of ordering) {
        const desc = o.startsWith("-");
        const key = ORDER_KEYS[o.replace(/^-/, "")]!;
        const c = key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
        if (c !== 0) return desc ? -c : c;
      }
      return 0;
    });
  }

  const limit = Math.min(nonNegativeInt(params.get("limit"), MAX_LIMIT) || MAX_LIMIT, MAX_LIMIT);
  const offset = nonNegativeInt(params.get("offset"), 0);
  return out.slice(offset, offset + limit);
}
