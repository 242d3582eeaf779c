// Bench mode: many simulated devices enrolling at once against a real server.
import { performance } from "node:perf_hooks";
import { AcmeClientError, type Fetch } from "./acme-client";
import type { SimulatedAppleCa } from "./apple-ca";
import { generateDevices, type SimulatedDevice } from "./device";
import { enroll, prepareDevice, type PreparedDevice } from "./enroll";
import { createDeviceFetch } from "./http";

export interface FleetOptions {
  profile: string | Uint8Array;
  /** A number of generated devices (serials `<serialPrefix>000…`), or the devices themselves. */
  devices: number | SimulatedDevice[];
  concurrency: number;
  ca: SimulatedAppleCa;
  serialPrefix?: string;
  /** The transport; default: one createDeviceFetch() (keep-alive, light responses) shared by the fleet. */
  fetch?: Fetch;
  allowHttp?: boolean;
  /** First polling interval of each client (see AcmeClientOptions). */
  pollIntervalMs?: number;
  /**
   * Each device's key, CSR and account key, made before the clock starts (prepareDevices), in the order of `devices`:
   * the simulator's share of a machine it shares with the server is then only what answers the server
   * (attestations, which carry its challenge token, and every JWS).
   */
  prepared?: readonly PreparedDevice[];
  /** Called after each enrollment (e.g. for progress output). */
  onResult?: (r: { device: SimulatedDevice; ok: boolean; ms: number; error?: string }) => void;
}

export interface FleetResult {
  ok: number;
  failed: number;
  seconds: number;
  /** Successful enrollments per second. */
  throughput: number;
  /** Latency percentiles of successful enrollments, in ms. */
  p50: number;
  p95: number;
  p99: number;
  /** Failure messages and how often each occurred (problem type when the server sent one). */
  errors: Record<string, number>;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** prepareDevice for each device, one after the other. */
export async function prepareDevices(profile: string | Uint8Array, devices: readonly SimulatedDevice[]): Promise<PreparedDevice[]> {
  const out: PreparedDevice[] = [];
  for (const device of devices) out.push(await prepareDevice({ profile, device }));
  return out;
}

export async function runFleet(options: FleetOptions): Promise<FleetResult> {
  const devices = typeof options.devices === "number" ? generateDevices(options.devices, options.serialPrefix) : options.devices;
  const concurrency = Math.max(1, Math.min(options.concurrency, devices.length || 1));
  const fetch = options.fetch ?? createDeviceFetch({ maxSockets: Math.max(concurrency, 1) });
  const durations: number[] = [];
  const errors: Record<string, number> = {};
  let failed = 0;
  let next = 0;

  const worker = async () => {
    while (next < devices.length) {
      const i = next++;
      const device = devices[i]!;
      const start = performance.now();
      try {
        await enroll({
          profile: options.profile,
          device,
          ca: options.ca,
          fetch,
          allowHttp: options.allowHttp,
          pollIntervalMs: options.pollIntervalMs,
          prepared: options.prepared?.[i],
        });
        const ms = performance.now() - start;
        durations.push(ms);
        options.onResult?.({ device, ok: true, ms });
      } catch (e) {
        failed++;
        const key = e instanceof AcmeClientError && e.acmeType ? e.acmeType : (e as Error).message.slice(0, 120);
        errors[key] = (errors[key] ?? 0) + 1;
        options.onResult?.({ device, ok: false, ms: performance.now() - start, error: (e as Error).message });
      }
    }
  };

  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  durations.sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    ok: durations.length,
    failed,
    seconds: Math.round(seconds * 1000) / 1000,
    throughput: seconds > 0 ? round(durations.length / seconds) : 0,
    p50: round(percentile(durations, 50)),
    p95: round(percentile(durations, 95)),
    p99: round(percentile(durations, 99)),
    errors,
  };
}
