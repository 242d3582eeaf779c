import type { InvalidationBus } from "./invalidation";

// Configuration read on every enrollment (Key Attestation Platforms, Enrollment Policies with their
// Device Roles, Roles and Core Providers, CAs, templates, Signal Sources) is kept in memory for
// CONFIG_CACHE_MS instead of being read again by each finalize. Within a process the cache is exact:
// every change made by a person (a user or an API token: all configuration changes are, and each records
// an event) clears it, here and, through the invalidation bus, in the host's other server processes.
// Other hosts of a deployment see a change within CONFIG_CACHE_MS.
export const CONFIG_CACHE_MS = 2_000;

interface Entry {
  until: number;
  generation: number;
  value: Promise<unknown>;
}

/** The configuration cache of one database (Database.configCache), cleared by {kind:"config"} on its bus. */
export class ConfigCache {
  private readonly entries = new Map<string, Entry>();
  private generation = 0;

  constructor(private readonly bus: InvalidationBus) {
    bus.subscribe((i) => {
      if (i.kind === "config") this.generation++;
    });
  }

  /** `load()`'s result, read at most once per CONFIG_CACHE_MS and again after any change (a failed load is not kept). */
  get<T>(key: string, load: () => Promise<T>, now = Date.now()): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && hit.until > now && hit.generation === this.generation) return hit.value as Promise<T>;
    const entry: Entry = { until: now + CONFIG_CACHE_MS, generation: this.generation, value: load() };
    this.entries.set(key, entry);
    entry.value.catch(() => this.entries.get(key) === entry && this.entries.delete(key));
    return entry.value as Promise<T>;
  }

  /** After a configuration change: later reads load it again, in every server process of this host. */
  forget(): void {
    this.bus.publish({ kind: "config" });
  }
}
