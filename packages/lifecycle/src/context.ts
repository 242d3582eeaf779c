import type { CaContext } from "@attested/ca";

/**
 * What the lifecycle jobs need: the CA service context (database, key store, public URL) and a clock.
 * Every sweep reads the time from `now`, so tests move the clock instead of waiting.
 */
export interface LifecycleContext extends CaContext {
  /** Master key override for sealed secrets (SMTP password, Core Platform tokens); tests pass one. */
  masterKey?: Buffer;
  /** Extra TLS options for SMTP (tests trust their own self-signed server certificate). */
  smtpTls?: { ca?: string | Buffer };
  /** Overrides of the Core Platform lookups' HTTP policy (tests shorten retries). */
  lookupHttp?: { retries?: number; maxTotalMs?: number };
  /** The operator's limits for the sweeps (LIFECYCLE_LOOKUPS_PER_HOUR, LIFECYCLE_DEVICE_RECHECK_MINUTES); defaults otherwise. */
  limits?: { lookupsPerHour?: number; deviceRecheckMinutes?: number };
  /** Accept http:// lookup URIs (the Kandji simulator in tests); default INTEGRATIONS_ALLOW_HTTP. */
  allowHttp?: boolean;
}

export const nowOf = (ctx: { now?: () => Date }) => ctx.now?.() ?? new Date();

export const DAY_MS = 86_400_000;
