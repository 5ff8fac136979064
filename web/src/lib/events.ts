// Pure helpers for the Events page.
import type { AppEvent } from "./types";

/** Groups by calendar day of starts_at (as written, so the event's own zone is kept); undated last. */
export function groupByDay(events: AppEvent[]): { day: string | null; events: AppEvent[] }[] {
  const groups = new Map<string | null, AppEvent[]>();
  const sorted = [...events].sort((a, b) => (a.starts_at ?? "9999").localeCompare(b.starts_at ?? "9999"));
  for (const e of sorted) {
    const day = e.starts_at ? e.starts_at.slice(0, 10) : null;
    groups.set(day, [...(groups.get(day) ?? []), e]);
  }
  return [...groups.entries()].map(([day, list]) => ({ day, events: list }));
}
