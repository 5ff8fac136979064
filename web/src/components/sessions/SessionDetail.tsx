"use client";
// One session: title, audio synced to the transcript, speakers, summary, export, delete.
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useCallback, useMemo, useRef, useState } from "react";
import { api, ApiError } from "@/lib/api";
import { formatClock, formatDateTime } from "@/lib/format";
import type { Speaker, Summary, Transcript } from "@/lib/types";
import { useLoad } from "@/hooks/useLoad";
import { EmptyState, ErrorMessage, Loading } from "../StatusMessage";
import { Button, Card } from "../ui";
import { AudioPlayer } from "./AudioPlayer";
import { ExportButtons } from "./ExportButtons";
import { SessionStatusBadge } from "./SessionStatusBadge";
import { SessionTitleEditor } from "./SessionTitleEditor";
import { SpeakerNames } from "./SpeakerNames";
import { SummaryPanel } from "./SummaryPanel";
import { TranscriptView } from "./TranscriptView";

interface SessionData {
  transcript: Transcript;
  speakers: Speaker[];
  summary: Summary | null;
  audioUrl: string | null;
}

async function optional<T>(promise: Promise<T>): Promise<T | null> {
  try {
    return await promise;
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 409)) return null;
    throw err;
  }
}

export function SessionDetail({ id, startAtS }: { id: string; startAtS: number | null }) {
  const router = useRouter();
  const session = useLoad(() => api().getSession(id), id);
  const details = useLoad<SessionData>(async () => {
    const [transcript, speakers, summary, audio] = await Promise.all([
      api().transcript(id),
      optional(api().speakers(id)),
      optional(api().summary(id)),
      optional(api().audio(id)),
    ]);
    const audioUrl = audio ? (audio.url.startsWith("/") ? api().url(audio.url) : audio.url) : null;
    // Empty finals (silence, a Finalize with nothing pending) carry no text worth a row.
    const segments = transcript.segments.filter((seg) => seg.text.trim() !== "" || seg.words.length > 0);
    return { transcript: { ...transcript, segments }, speakers: speakers?.items ?? [], summary, audioUrl };
  }, id);
  const audioRef = useRef<HTMLAudioElement>(null);
  const audioUrl = details.data?.audioUrl ?? null;
  const [currentTimeS, setCurrentTimeS] = useState(0);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<Error | null>(null);
  const names = useMemo(() => new Map((details.data?.speakers ?? []).map((s) => [s.label, s.name])), [details.data?.speakers]);

  const seek = useCallback((timeS: number) => {
    const audio = audioRef.current;
    if (!audio) return;
    audio.currentTime = timeS;
    void audio.play().catch(() => undefined);
  }, []);

  const onDelete = async () => {
    if (!window.confirm("Delete this session, its transcript and its audio? This cannot be undone.")) return;
    setDeleting(true);
    try {
      await api().deleteSession(id);
      router.replace("/sessions/");
    } catch (err) {
      setDeleteError(err instanceof Error ? err : new Error(String(err)));
      setDeleting(false);
    }
  };

  if (session.loading) return <Loading />;
  if (session.error) {
    const notFound = session.error instanceof ApiError && session.error.status === 404;
    return notFound ? (
      <EmptyState title="This session does not exist (or is not yours).">
        <Link href="/sessions/" className="font-medium text-indigo-800 underline">Back to sessions</Link>
      </EmptyState>
    ) : (
      <ErrorMessage error={session.error} onRetry={session.reload} />
    );
  }
  const s = session.data;
  if (!s) return null;

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div className="min-w-0 flex-1 basis-72">
          <SessionTitleEditor session={s} onSaved={(updated) => session.setData(() => updated)} />
          <p data-testid="session-meta" className="mt-1 flex flex-wrap items-center gap-3 text-sm text-slate-600">
            <SessionStatusBadge status={s.status} />
            <span>{formatDateTime(s.created_at)}</span>
            <span className="font-mono">{formatClock(s.duration_s)}</span>
            <span>diarization {s.diarization_status}</span>
            <span>agents {s.agents_status}</span>
          </p>
        </div>
        <div className="flex flex-wrap gap-2">
          <Link href={`/leads/?session_id=${encodeURIComponent(id)}`} className="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-800 hover:bg-slate-100">
            Leads
          </Link>
          <Link href={`/events/?session_id=${encodeURIComponent(id)}`} className="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-800 hover:bg-slate-100">
            Events
          </Link>
          <Button variant="danger" onClick={onDelete} disabled={deleting}>
            {deleting ? "Deleting…" : "Delete"}
          </Button>
        </div>
      </div>
      {s.status === "failed" && s.error ? <ErrorMessage error={`This session failed: ${s.error}`} /> : null}
      {deleteError ? <ErrorMessage error={deleteError} /> : null}
      {details.loading ? <Loading label="Loading the transcript…" /> : null}
      {details.error ? <ErrorMessage error={details.error} onRetry={details.reload} /> : null}
      {details.data ? (
        <div className="grid gap-4 lg:grid-cols-[1fr_18rem]">
          <div className="space-y-4">
            <Card className="sticky top-0 z-10">
              {audioUrl ? (
                <AudioPlayer src={audioUrl} audioRef={audioRef} startAtS={startAtS} onTime={setCurrentTimeS} />
              ) : (
                <p className="text-sm text-slate-600">The audio is not available (yet).</p>
              )}
            </Card>
            <Card>
              <h2 className="mb-3 font-semibold">Transcript</h2>
              {details.data.transcript.segments.length === 0 ? (
                <EmptyState title={s.status === "completed" ? "Nothing was said in this session." : "The transcript is still being written."} />
              ) : (
                <TranscriptView segments={details.data.transcript.segments} names={names} currentTimeS={currentTimeS} onSeek={seek} focusS={startAtS} />
              )}
            </Card>
          </div>
          <div className="space-y-4">
            <Card>
              <h2 className="mb-3 font-semibold">Speakers</h2>
              <SpeakerNames
                sessionId={id}
                speakers={details.data.speakers}
                onRenamed={(sp) => details.setData((d) => d && { ...d, speakers: d.speakers.map((x) => (x.label === sp.label ? sp : x)) })}
              />
            </Card>
            <Card>
              <h2 className="mb-3 font-semibold">Summary</h2>
              {details.data.summary ? <SummaryPanel summary={details.data.summary} /> : <p className="text-sm text-slate-600">No summary yet.</p>}
            </Card>
            <Card>
              <h2 className="mb-3 font-semibold">Export</h2>
              <ExportButtons sessionId={id} />
            </Card>
          </div>
        </div>
      ) : null}
    </div>
  );
}
