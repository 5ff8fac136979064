"use client";
import { useState, type FormEvent } from "react";
import { api } from "@/lib/api";
import { sessionTitle } from "@/lib/format";
import type { Session } from "@/lib/types";
import { ErrorMessage } from "../StatusMessage";
import { Button } from "../ui";

/** The session's title as a heading, editable in place. */
export function SessionTitleEditor({ session, onSaved }: { session: Session; onSaved: (s: Session) => void }) {
  const [editing, setEditing] = useState(false);
  const [title, setTitle] = useState(session.title ?? "");
  const [error, setError] = useState<Error | null>(null);
  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    try {
      onSaved(await api().renameSession(session.id, title.trim()));
      setEditing(false);
      setError(null);
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    }
  };
  if (!editing) {
    return (
      <div className="flex flex-wrap items-center gap-2">
        <h1 className="text-2xl font-semibold tracking-tight">{sessionTitle(session)}</h1>
        <Button variant="ghost" onClick={() => setEditing(true)} aria-label="Rename session">
          Rename
        </Button>
      </div>
    );
  }
  return (
    <form onSubmit={onSubmit} className="flex flex-wrap items-center gap-2">
      <label htmlFor="session-title" className="sr-only">
        Session title
      </label>
      <input id="session-title" value={title} onChange={(e) => setTitle(e.target.value)} className="min-w-0 flex-1 rounded-md border border-slate-300 px-3 py-1.5 text-lg" />
      <Button type="submit" variant="primary">
        Save
      </Button>
      <Button onClick={() => setEditing(false)}>Cancel</Button>
      {error ? <ErrorMessage error={error} /> : null}
    </form>
  );
}
