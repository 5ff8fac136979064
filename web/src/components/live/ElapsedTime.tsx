"use client";
import { useEffect, useState } from "react";
import { formatClock } from "@/lib/format";

/** Time since the recording started; frozen once it stopped. */
export function ElapsedTime({ startedAt, stoppedAt }: { startedAt: number | null; stoppedAt: number | null }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (startedAt === null || stoppedAt !== null) return;
    const timer = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(timer);
  }, [startedAt, stoppedAt]);
  const seconds = startedAt === null ? 0 : ((stoppedAt ?? now) - startedAt) / 1000;
  return (
    <p className="font-mono text-2xl tabular-nums text-slate-900" aria-label={`Elapsed time ${formatClock(seconds)}`}>
      <span aria-hidden>{formatClock(seconds)}</span>
    </p>
  );
}
