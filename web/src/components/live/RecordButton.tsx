import { RecordingPhase } from "@/hooks/useLiveSession";

export function RecordButton({ phase, onStart, onStop }: { phase: RecordingPhase; onStart: () => void; onStop: () => void }) {
  const recording = phase === RecordingPhase.Recording;
  const busy = phase === RecordingPhase.Starting || phase === RecordingPhase.Stopping;
  const label = recording ? "Stop" : phase === RecordingPhase.Starting ? "Starting…" : phase === RecordingPhase.Stopping ? "Stopping…" : "Start recording";
  return (
    <button
      type="button"
      onClick={recording ? onStop : onStart}
      disabled={busy}
      aria-pressed={recording}
      className={`inline-flex min-h-12 items-center gap-3 rounded-full px-6 py-3 text-base font-semibold text-white shadow transition-colors disabled:cursor-wait disabled:opacity-70 ${
        recording ? "bg-red-700 hover:bg-red-800" : "bg-indigo-700 hover:bg-indigo-800"
      }`}
    >
      <span aria-hidden className={`h-3.5 w-3.5 ${recording ? "rounded-sm bg-white" : "rounded-full bg-red-300"}`} />
      {label}
    </button>
  );
}
