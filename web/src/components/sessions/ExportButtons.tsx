"use client";
import { useState } from "react";
import { api } from "@/lib/api";
import { saveTextFile } from "@/lib/download";
import type { TranscriptFormat } from "@/lib/types";
import { ErrorMessage } from "../StatusMessage";
import { Button } from "../ui";

const MIME: Record<TranscriptFormat, string> = { txt: "text/plain", srt: "application/x-subrip", vtt: "text/vtt" };

export function ExportButtons({ sessionId }: { sessionId: string }) {
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState<TranscriptFormat | null>(null);
  const exportAs = async (format: TranscriptFormat) => {
    setBusy(format);
    setError(null);
    try {
      saveTextFile(`transcript-${sessionId}.${format}`, await api().transcriptText(sessionId, format), MIME[format]);
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      setBusy(null);
    }
  };
  return (
    <div>
      <div className="flex flex-wrap gap-2" role="group" aria-label="Export transcript">
        {(["txt", "srt", "vtt"] as const).map((f) => (
          <Button key={f} onClick={() => void exportAs(f)} disabled={busy !== null}>
            {busy === f ? "Exporting…" : `Export ${f.toUpperCase()}`}
          </Button>
        ))}
      </div>
      {error ? <ErrorMessage error={error} /> : null}
    </div>
  );
}
