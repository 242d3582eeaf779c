// The lifecycle worker running in this process, if any. Kept on globalThis because the portal's
// custom server and Next.js's bundled route code load separate copies of this module.

export type QueueName = "mail" | "unused" | "revoke-on-failure" | "expiry" | "retention";

const g = globalThis as unknown as { __attestedLifecycleNudge?: (queue: QueueName) => void };

export function setNudge(fn: ((queue: QueueName) => void) | undefined) {
  g.__attestedLifecycleNudge = fn;
}

/** Asks the local worker to run a queue's job now instead of at its next scheduled time. */
export function nudge(queue: QueueName) {
  g.__attestedLifecycleNudge?.(queue);
}
