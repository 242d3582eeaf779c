import Link from "next/link";
import type { EventPage } from "@attested/events";
import { Badge, formatTime, outcomeColor } from "@/components/ui";

/** Events as a timeline, newest first: time, outcome, type (to the event), actor and summary. */
export function Timeline({ events, testId, empty = "Nothing recorded yet." }: { events: EventPage["events"]; testId?: string; empty?: string }) {
  if (!events.length) return <p className="text-sm text-slate-500">{empty}</p>;
  return (
    <ol className="relative border-l border-slate-200 pl-5 text-sm" data-testid={testId}>
      {events.map((e) => (
        <li key={e.id} className="mb-4 last:mb-0">
          <span
            className={`absolute -left-[5px] mt-1.5 h-2.5 w-2.5 rounded-full ${e.outcome === "success" ? "bg-emerald-500" : e.outcome === "denied" ? "bg-amber-500" : "bg-red-500"}`}
            aria-hidden
          />
          <div className="flex flex-wrap items-center gap-2">
            <span className="font-mono text-xs text-slate-500">{formatTime(e.time)}</span>
            <Badge color={outcomeColor(e.outcome)}>{e.outcome}</Badge>
            <Link className="link font-medium" href={`/data-and-monitoring/general-events/${e.id}`}>
              {e.type}
            </Link>
            <span className="text-xs text-slate-500">by {e.actorName ?? e.actorType}</span>
          </div>
          <p className="mt-0.5 text-slate-700">{e.summary}</p>
        </li>
      ))}
    </ol>
  );
}
