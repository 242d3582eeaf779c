import type { PrismaClient } from "./generated/prisma/client";

// Configuration read on every enrollment (Key Attestation Platforms, Enrollment Policies with their
// Device Roles, Roles and Core Providers, CAs, templates, Signal Sources) is kept in memory for
// CONFIG_CACHE_MS instead of being read again by each finalize. Within a process the cache is exact:
// every change made by a person (a user or an API token: all configuration changes are, and each records
// an event) clears it, here and, through the cluster broadcast, in the host's other server processes.
// Other hosts of a deployment see a change within CONFIG_CACHE_MS.
export const CONFIG_CACHE_MS = 2_000;

interface Entry {
  until: number;
  generation: number;
  value: Promise<unknown>;
}

// Shared through globalThis by every copy of this module (the Next.js bundle and the server's own ACME
// path load separate copies); per database, since tests open several in one process.
const G = globalThis as Record<symbol, unknown>;
const caches = (G[Symbol.for("attested.configCache")] ??= new WeakMap()) as WeakMap<PrismaClient, Map<string, Entry>>;
const state = (G[Symbol.for("attested.configGeneration")] ??= { generation: 0 }) as { generation: number };

/** `load()`'s result, read at most once per CONFIG_CACHE_MS and again after any change (a failed load is not kept). */
export function cachedConfig<T>(db: PrismaClient, key: string, load: () => Promise<T>, now = Date.now()): Promise<T> {
  let cache = caches.get(db);
  if (!cache) caches.set(db, (cache = new Map()));
  const hit = cache.get(key);
  if (hit && hit.until > now && hit.generation === state.generation) return hit.value as Promise<T>;
  const entry: Entry = { until: now + CONFIG_CACHE_MS, generation: state.generation, value: load() };
  cache.set(key, entry);
  entry.value.catch(() => cache.get(key) === entry && cache.delete(key));
  return entry.value as Promise<T>;
}

/** This process only (see forgetCachedConfig). */
export function dropCachedConfig(): void {
  state.generation++;
}

/** After a configuration change: later reads load it again, in every server process of this host. */
export function forgetCachedConfig(): void {
  dropCachedConfig();
  const broadcast = G[Symbol.for("attested.broadcast")] as ((m: object) => void) | undefined;
  broadcast?.({ what: "config" });
}
