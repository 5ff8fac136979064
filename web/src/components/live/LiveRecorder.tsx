"use client";
// The Live page's body: controls, status and captions for one recording at a time.
import { useState } from "react";
import { RecordingPhase, useLiveSession } from "@/hooks/useLiveSession";
import { ErrorMessage } from "../StatusMessage";
import { Button, Card } from "../ui";
import { AfterCallLinks } from "./AfterCallLinks";
import { ConnectionBadge } from "./ConnectionBadge";
import { ElapsedTime } from "./ElapsedTime";
import { LevelMeter } from "./LevelMeter";
import { LiveCaptions } from "./LiveCaptions";
import { MicPicker } from "./MicPicker";
import { RecordButton } from "./RecordButton";

export function LiveRecorder() {
  const live = useLiveSession();
  const [deviceId, setDeviceId] = useState("");
  const [processing, setProcessing] = useState(false);
  const active = live.phase === RecordingPhase.Starting || live.phase === RecordingPhase.Recording || live.phase === RecordingPhase.Stopping;

  return (
    <div className="space-y-4">
      <Card>
        <div className="flex flex-wrap items-center gap-4">
          <RecordButton phase={live.phase} onStart={() => void live.start({ deviceId, processing })} onStop={() => void live.stop()} />
          <ElapsedTime startedAt={live.startedAt} stoppedAt={live.stoppedAt} />
          <ConnectionBadge state={live.connection} detail={live.connectionDetail} />
          {live.phase === RecordingPhase.Done ? (
            <Button onClick={live.reset} variant="secondary">
              New recording
            </Button>
          ) : null}
        </div>
        <div className="mt-4 grid gap-4 sm:grid-cols-2">
          <MicPicker value={deviceId} onChange={setDeviceId} disabled={active} refreshKey={live.phase} />
          <LevelMeter rms={live.level} />
        </div>
        <div className="mt-3 flex items-center gap-2">
          <input id="processing" type="checkbox" checked={processing} disabled={active} onChange={(e) => setProcessing(e.target.checked)} className="h-4 w-4" />
          <label htmlFor="processing" className="text-sm text-slate-800">
            Browser voice processing (echo cancellation, noise suppression, auto gain)
          </label>
        </div>
      </Card>
      {live.error ? <ErrorMessage error={live.error} /> : null}
      {live.warnings.length > 0 ? (
        <ul className="space-y-1 text-sm text-amber-900" aria-label="Server warnings">
          {live.warnings.map((w, i) => (
            <li key={i} className="rounded border border-amber-300 bg-amber-50 px-3 py-1">
              {w.message || w.code}
            </li>
          ))}
        </ul>
      ) : null}
      {live.phase === RecordingPhase.Done && live.sessionId ? <AfterCallLinks sessionId={live.sessionId} /> : null}
      <LiveCaptions captions={live.captions} />
    </div>
  );
}
