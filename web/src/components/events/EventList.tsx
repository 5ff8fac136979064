"use client";
// Events mentioned in calls (meetings, demos, deadlines), grouped by the day they happen.
import Link from "next/link";
import { api } from "@/lib/api";
import { formatClock, formatDate } from "@/lib/format";
import { groupByDay } from "@/lib/events";
import type { AppEvent } from "@/lib/types";
import { useLoad } from "@/hooks/useLoad";
import { EmptyState, ErrorMessage, Loading } from "../StatusMessage";
import { PageTitle } from "../ui";

function timeOf(e: AppEvent): string {
  if (!e.starts_at || e.starts_at.length <= 10) return "All day";
  const time = e.starts_at.slice(11, 16);
  const end = e.ends_at && e.ends_at.length > 10 ? `–${e.ends_at.slice(11, 16)}` : "";
  return `${time}${end}${e.timezone ? ` ${e.timezone}` : ""}`;
}

export function EventList({ sessionId }: { sessionId: string | null }) {
  const events = useLoad(() => api().listEvents(sessionId ? { session_id: sessionId } : {}), `events:${sessionId ?? ""}`);
  const items = events.data?.items ?? [];
  return (
    <div>
      <PageTitle>Events</PageTitle>
      {sessionId ? (
        <p className="mb-3 text-sm text-slate-700">
          From one session. <Link href="/events/" className="font-medium text-indigo-800 underline">Show all events</Link>
        </p>
      ) : null}
      {events.loading ? <Loading /> : null}
      {events.error ? <ErrorMessage error={events.error} onRetry={events.reload} /> : null}
      {!events.loading && !events.error && items.length === 0 ? <EmptyState title="No events yet.">Meetings and dates mentioned in calls appear here.</EmptyState> : null}
      <div className="space-y-6">
        {groupByDay(items).map((group) => (
          <section key={group.day ?? "undated"} aria-labelledby={`day-${group.day ?? "undated"}`}>
            <h2 id={`day-${group.day ?? "undated"}`} className="mb-2 text-sm font-semibold uppercase tracking-wide text-slate-600">
              {group.day ? formatDate(`${group.day}T12:00:00`) : "No date"}
            </h2>
            <ul className="space-y-2">
              {group.events.map((e) => (
                <li key={e.id} className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
                  <div className="flex flex-wrap items-baseline justify-between gap-2">
                    <h3 className="font-semibold text-slate-900">{e.name}</h3>
                    <span className="font-mono text-sm text-slate-700">{timeOf(e)}</span>
                  </div>
                  {e.location ? <p className="text-sm text-slate-700">{e.location}</p> : null}
                  {e.url ? (
                    <a href={e.url} className="text-sm text-indigo-800 underline" rel="noreferrer noopener" target="_blank">
                      {e.url}
                    </a>
                  ) : null}
                  {e.evidence.slice(0, 2).map((ev, i) => (
                    <blockquote key={i} className="mt-2 border-l-4 border-indigo-300 pl-3 text-sm">
                      <p className="italic text-slate-800">“{ev.quote}”</p>
                      <Link href={`/sessions/view/?id=${encodeURIComponent(e.session_id)}&t=${ev.start_s}`} className="text-xs font-medium text-indigo-800 underline">
                        Hear it at {formatClock(ev.start_s)}
                      </Link>
                    </blockquote>
                  ))}
                </li>
              ))}
            </ul>
          </section>
        ))}
      </div>
    </div>
  );
}
