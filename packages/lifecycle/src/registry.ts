import { databaseOf, type Database } from "@attested/db";

// The lifecycle worker serving a database in this process, if any, listens on that Database's `jobs`
// signal: code handed only a Prisma client (the enrollment path, portal actions) finds it from there.

export type QueueName = "mail" | "unused" | "revoke-on-failure" | "expiry" | "retention";

export function setNudge(database: Database, fn: ((queue: QueueName) => void) | null) {
  database.jobs.nudge = fn as ((queue: string) => void) | null;
}

/** Asks the local worker to run a queue's job now instead of at its next scheduled time. */
export function nudge(db: object, queue: QueueName) {
  databaseOf(db).jobs.nudge?.(queue);
}
