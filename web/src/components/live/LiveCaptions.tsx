"use client";
import { useEffect, useRef } from "react";
import { speakerRuns, type CaptionSnapshot } from "@/lib/captions";
import { speakerName, speakerStyle } from "@/lib/format";

/** Finals in speaker colours, the interim line lighter after them; follows the newest text. */
export function LiveCaptions({ captions }: { captions: CaptionSnapshot }) {
  const endRef = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const boxRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (stick.current) endRef.current?.scrollIntoView?.({ block: "nearest" });
  }, [captions]);
  const onScroll = () => {
    const box = boxRef.current;
    if (box) stick.current = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  };
  const empty = captions.finals.length === 0 && !captions.interim;
  return (
    <div
      ref={boxRef}
      onScroll={onScroll}
      data-testid="live-captions"
      aria-label="Live captions"
      aria-live="polite"
      role="log"
      className="h-[50vh] min-h-64 overflow-y-auto rounded-lg border border-slate-200 bg-white p-4 text-lg leading-relaxed"
    >
      {empty ? <p className="text-slate-500">Captions appear here while you speak.</p> : null}
      {captions.finals.map((caption) =>
        speakerRuns(caption).map((run, i) => {
          const style = speakerStyle(run.speaker);
          return (
            <p key={`${caption.index}-${i}`} data-final className={`mb-2 border-l-4 pl-3 ${style.border}`}>
              <span className={`mr-2 text-sm font-semibold ${style.text}`}>{speakerName(run.speaker)}</span>
              <span className="text-slate-900">{run.text}</span>
            </p>
          );
        }),
      )}
      {captions.interim ? (
        <p data-interim className="border-l-4 border-transparent pl-3 italic text-slate-500">
          {captions.interim.transcript}
        </p>
      ) : null}
      <div ref={endRef} />
    </div>
  );
}
