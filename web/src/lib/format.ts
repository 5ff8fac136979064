// Small display helpers shared by the pages.

/** 75.4 -> "1:15"; 3725 -> "1:02:05". */
export function formatClock(seconds: number | null | undefined): string {
  const total = Math.max(0, Math.floor(seconds ?? 0));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function formatDate(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleDateString(undefined, { weekday: "short", year: "numeric", month: "short", day: "numeric" });
}

/** Speaker colours with readable contrast on white (text) and a matching left border. */
const SPEAKER_STYLES = [
  { text: "text-sky-800", border: "border-sky-600", dot: "bg-sky-600" },
  { text: "text-rose-800", border: "border-rose-600", dot: "bg-rose-600" },
  { text: "text-emerald-800", border: "border-emerald-600", dot: "bg-emerald-600" },
  { text: "text-amber-900", border: "border-amber-600", dot: "bg-amber-600" },
  { text: "text-violet-800", border: "border-violet-600", dot: "bg-violet-600" },
  { text: "text-teal-800", border: "border-teal-600", dot: "bg-teal-600" },
] as const;

const UNKNOWN_SPEAKER = { text: "text-slate-700", border: "border-slate-400", dot: "bg-slate-400" };

export function speakerStyle(label: number | null | undefined): { text: string; border: string; dot: string } {
  if (label === null || label === undefined || label < 0) return UNKNOWN_SPEAKER;
  return SPEAKER_STYLES[label % SPEAKER_STYLES.length] ?? UNKNOWN_SPEAKER;
}

/** The name shown for a speaker label: a custom name when set, else "Speaker N" (label 0 -> 1). */
export function speakerName(label: number | null | undefined, names?: ReadonlyMap<number, string>): string {
  if (label === null || label === undefined) return "Speaker";
  return names?.get(label) ?? `Speaker ${label + 1}`;
}

export function sessionTitle(session: { title: string | null; created_at: string }): string {
  return session.title?.trim() || `Session of ${formatDateTime(session.created_at)}`;
}
