// What a change made in one process means for what other code keeps in memory. Caches subscribe to the
// bus of their process; the server's cluster wiring (apps/portal/server/cluster.ts) carries each
// published invalidation to the sibling server processes of the host, which deliver it to their bus.

/** Something cached is out of date: the configuration rows, the platforms by secret, or one CA's OCSP answers. */
export type Invalidation = { kind: "config" } | { kind: "platforms" } | { kind: "ocsp"; caId: string };

export const isInvalidation = (v: unknown): v is Invalidation => {
  const k = (v as { kind?: unknown } | null)?.kind;
  return k === "config" || k === "platforms" || (k === "ocsp" && typeof (v as { caId?: unknown }).caId === "string");
};

export class InvalidationBus {
  private readonly listeners: Array<(i: Invalidation) => void> = [];
  /** Where invalidations published here go beyond this process (set by the cluster wiring), if anywhere. */
  remote: ((i: Invalidation) => void) | null = null;

  subscribe(listener: (i: Invalidation) => void): void {
    this.listeners.push(listener);
  }

  /** After a change made here: this process's caches drop it, and so do the host's other server processes. */
  publish(i: Invalidation): void {
    this.deliver(i);
    this.remote?.(i);
  }

  /** An invalidation from a sibling process: applied here only. */
  deliver(i: Invalidation): void {
    for (const l of this.listeners) l(i);
  }
}
