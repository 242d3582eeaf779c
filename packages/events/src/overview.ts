import type { Db } from "@attested/db";
import { EventType } from "./types";

/** What an auditor checks first: the enrollment outcomes since a time (the landing's last 24 hours). */
export interface EventsOverview {
  since: Date;
  issued: number;
  revoked: number;
  attestationFailed: number;
  /** Enrollment Denied events by their code (e.g. deviceNotFound), most frequent first. */
  denied: { code: string; count: number }[];
}

const COUNTED = [EventType.CertificateIssued, EventType.CertificateRevoked, EventType.AttestationFailed] as const;

/** Counts read through the (type, id) index and the time index: a day of events, never the whole trail. */
export async function eventsOverview(db: Db, since: Date): Promise<EventsOverview> {
  const [byType, denied] = await Promise.all([
    db.event.groupBy({ by: ["type"], where: { type: { in: [...COUNTED] }, time: { gte: since } }, _count: { _all: true } }),
    db.$queryRaw<{ code: string | null; count: number }[]>`
      SELECT details->>'code' AS code, count(*)::int AS count FROM "Event"
      WHERE type = ${EventType.EnrollmentDenied} AND time >= ${since}
      GROUP BY 1 ORDER BY 2 DESC, 1`,
  ]);
  const count = (type: string) => byType.find((r) => r.type === type)?._count._all ?? 0;
  return {
    since,
    issued: count(EventType.CertificateIssued),
    revoked: count(EventType.CertificateRevoked),
    attestationFailed: count(EventType.AttestationFailed),
    denied: denied.map((r) => ({ code: r.code ?? "unknown", count: Number(r.count) })),
  };
}
