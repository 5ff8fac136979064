"use client";
// The speaker-labelled transcript, one paragraph per speaker turn. Clicking a word (or a turn's time)
// seeks the audio there; the word being played is highlighted.
import { memo, useEffect, useMemo, type MouseEvent } from "react";
import { formatClock, speakerName, speakerStyle } from "@/lib/format";
import { blockAt, locate, toTurns, type Turn } from "@/lib/transcript";
import type { Segment } from "@/lib/types";

interface Props {
  segments: Segment[];
  names: ReadonlyMap<number, string>;
  currentTimeS: number;
  onSeek: (timeS: number) => void;
  /** Scroll this moment into view (opened from a lead's or event's evidence). */
  focusS?: number | null;
}

export function TranscriptView({ segments, names, currentTimeS, onSeek, focusS = null }: Props) {
  const turns = useMemo(() => toTurns(segments), [segments]);
  const playing = locate(turns, currentTimeS);
  useEffect(() => {
    if (focusS === null) return;
    const i = blockAt(turns, focusS);
    if (i >= 0) document.getElementById(`turn-${turns[i]?.key}`)?.scrollIntoView?.({ block: "center" });
  }, [focusS, turns]);
  // Keyboard users seek with each turn's time button; word clicks are a mouse shortcut.
  const onClick = (event: MouseEvent<HTMLDivElement>) => {
    const target = (event.target as HTMLElement).closest<HTMLElement>("[data-start]");
    if (target?.dataset.start) onSeek(Number(target.dataset.start));
  };
  return (
    <div onClick={onClick} data-testid="transcript" className="space-y-4">
      {turns.map((turn, i) => {
        const name = (turn.speaker !== null ? names.get(turn.speaker) : undefined) || turn.speakerName || speakerName(turn.speaker);
        return <TurnBlock key={turn.key} turn={turn} name={name} activeWord={playing.segment === i ? playing.word : -2} onSeek={onSeek} />;
      })}
    </div>
  );
}

const TurnBlock = memo(function TurnBlock({ turn, name, activeWord, onSeek }: { turn: Turn; name: string; activeWord: number; onSeek: (t: number) => void }) {
  const style = speakerStyle(turn.speaker);
  return (
    <div id={`turn-${turn.key}`} className={`border-l-4 pl-3 ${style.border} ${activeWord > -2 ? "bg-indigo-50/60" : ""}`}>
      <div className="flex items-baseline gap-3 text-sm">
        <span className={`font-semibold ${style.text}`} data-testid="segment-speaker" data-speaker={turn.speaker ?? ""}>
          {name}
        </span>
        <button type="button" onClick={() => onSeek(turn.start_s)} className="font-mono text-slate-600 underline-offset-2 hover:underline" aria-label={`Play from ${formatClock(turn.start_s)}`}>
          {formatClock(turn.start_s)}
        </button>
      </div>
      <p className="leading-relaxed text-slate-900">
        {turn.words.map((w, i) => (
          <span key={i}>
            <span data-start={w.start_s} data-active={i === activeWord || undefined} className={`cursor-pointer rounded ${i === activeWord ? "bg-yellow-300 text-slate-950" : "hover:bg-slate-200"}`}>
              {w.punctuated_word || w.word}
            </span>{" "}
          </span>
        ))}
      </p>
    </div>
  );
});
