"use client";
// Rename the speakers of a session ("Speaker 1" -> "Dana").
import { useState, type FormEvent } from "react";
import { api } from "@/lib/api";
import { speakerStyle } from "@/lib/format";
import type { Speaker } from "@/lib/types";
import { ErrorMessage } from "../StatusMessage";
import { Button } from "../ui";

export function SpeakerNames({ sessionId, speakers, onRenamed }: { sessionId: string; speakers: Speaker[]; onRenamed: (speaker: Speaker) => void }) {
  if (speakers.length === 0) return <p className="text-sm text-slate-600">No speakers yet.</p>;
  return (
    <ul className="space-y-2">
      {speakers.map((s) => (
        <SpeakerNameRow key={s.label} sessionId={sessionId} speaker={s} onRenamed={onRenamed} />
      ))}
    </ul>
  );
}

function SpeakerNameRow({ sessionId, speaker, onRenamed }: { sessionId: string; speaker: Speaker; onRenamed: (speaker: Speaker) => void }) {
  const [name, setName] = useState(speaker.name);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const id = `speaker-${speaker.label}`;
  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onRenamed(await api().renameSpeaker(sessionId, speaker.label, name.trim()));
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <li>
      <form onSubmit={onSubmit} className="flex flex-wrap items-center gap-2">
        <span aria-hidden className={`h-3 w-3 rounded-full ${speakerStyle(speaker.label).dot}`} />
        <label htmlFor={id} className="sr-only">
          Name of speaker {speaker.label + 1}
        </label>
        <input id={id} value={name} onChange={(e) => setName(e.target.value)} required className="min-w-0 flex-1 rounded-md border border-slate-300 px-2 py-1 text-sm" />
        <Button type="submit" disabled={busy || !name.trim() || name.trim() === speaker.name}>
          {busy ? "Saving…" : "Rename"}
        </Button>
      </form>
      {error ? <ErrorMessage error={error} /> : null}
    </li>
  );
}
