"use client";
// Searchable list of sessions, newest first, with "load more".
import Link from "next/link";
import { useEffect, useState } from "react";
import { api } from "@/lib/api";
import { formatClock, formatDateTime, sessionTitle } from "@/lib/format";
import type { Session } from "@/lib/types";
import { useLoad } from "@/hooks/useLoad";
import { EmptyState, ErrorMessage, Loading } from "../StatusMessage";
import { Button } from "../ui";
import { SessionStatusBadge } from "./SessionStatusBadge";

export function SessionList() {
  const [query, setQuery] = useState("");
  const [search, setSearch] = useState("");
  const [more, setMore] = useState<{ items: Session[]; cursor: string | null; loading: boolean; error: Error | null }>({ items: [], cursor: null, loading: false, error: null });
  useEffect(() => {
    const timer = setTimeout(() => setSearch(query.trim()), 300);
    return () => clearTimeout(timer);
  }, [query]);
  const first = useLoad(
    async () => {
      const page = await api().listSessions({ q: search || undefined, limit: 25 });
      setMore({ items: [], cursor: page.next_cursor ?? null, loading: false, error: null });
      return page;
    },
    `q=${search}`,
  );
  const loadMore = async () => {
    if (!more.cursor) return;
    setMore((m) => ({ ...m, loading: true, error: null }));
    try {
      const page = await api().listSessions({ q: search || undefined, limit: 25, cursor: more.cursor });
      setMore((m) => ({ items: [...m.items, ...page.items], cursor: page.next_cursor ?? null, loading: false, error: null }));
    } catch (err) {
      setMore((m) => ({ ...m, loading: false, error: err instanceof Error ? err : new Error(String(err)) }));
    }
  };
  const items = [...(first.data?.items ?? []), ...more.items];

  return (
    <div>
      <div className="mb-4">
        <label htmlFor="search" className="mb-1 block text-sm font-medium text-slate-800">
          Search sessions
        </label>
        <input
          id="search"
          type="search"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          placeholder="Words from a transcript or a title"
          className="w-full max-w-md rounded-md border border-slate-300 bg-white px-3 py-2"
        />
      </div>
      {first.loading ? <Loading /> : null}
      {first.error ? <ErrorMessage error={first.error} onRetry={first.reload} /> : null}
      {!first.loading && !first.error && items.length === 0 ? (
        <EmptyState title={search ? "No session matches your search." : "No sessions yet."}>
          {search ? "Try other words." : <Link href="/live/" className="font-medium text-indigo-800 underline">Start a live recording</Link>}
        </EmptyState>
      ) : null}
      {items.length > 0 ? (
        <ul className="divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white" aria-label="Sessions">
          {items.map((s) => (
            <li key={s.id} data-testid="session-row">
              <Link href={`/sessions/view/?id=${encodeURIComponent(s.id)}`} className="flex flex-wrap items-center gap-x-4 gap-y-1 px-4 py-3 hover:bg-slate-50">
                <span className="min-w-0 flex-1 font-medium text-slate-900">{sessionTitle(s)}</span>
                <SessionStatusBadge status={s.status} />
                <span className="text-sm text-slate-600">{formatDateTime(s.created_at)}</span>
                <span className="font-mono text-sm text-slate-600">{formatClock(s.duration_s)}</span>
                <span className="text-sm text-slate-600">
                  {s.speaker_count} speaker{s.speaker_count === 1 ? "" : "s"}
                </span>
              </Link>
            </li>
          ))}
        </ul>
      ) : null}
      {more.error ? <ErrorMessage error={more.error} onRetry={loadMore} /> : null}
      {more.cursor ? (
        <Button className="mt-4" onClick={loadMore} disabled={more.loading}>
          {more.loading ? "Loading…" : "Load more"}
        </Button>
      ) : null}
    </div>
  );
}
