/** Input level as a bar; RMS mapped to a dB-like scale so quiet speech still moves it. */
export function LevelMeter({ rms }: { rms: number }) {
  const db = rms > 0 ? 20 * Math.log10(rms) : -100;
  const percent = Math.round(Math.max(0, Math.min(1, (db + 60) / 60)) * 100);
  return (
    <div className="w-full max-w-xs">
      <span id="level-label" className="mb-1 block text-sm font-medium text-slate-800">
        Input level
      </span>
      <div role="meter" aria-labelledby="level-label" aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent} className="h-3 w-full overflow-hidden rounded-full bg-slate-200">
        <div className={`h-full transition-[width] duration-100 ${percent > 90 ? "bg-red-600" : "bg-emerald-600"}`} style={{ width: `${percent}%` }} />
      </div>
    </div>
  );
}
