import type { SessionStatus } from "@/lib/types";

const LOOK: Record<SessionStatus, string> = {
  live: "bg-red-100 text-red-900",
  processing: "bg-amber-100 text-amber-900",
  completed: "bg-emerald-100 text-emerald-900",
  failed: "bg-slate-200 text-slate-800",
};

export function SessionStatusBadge({ status }: { status: SessionStatus }) {
  return <span className={`rounded-full px-2 py-0.5 text-xs font-semibold ${LOOK[status] ?? LOOK.failed}`}>{status}</span>;
}
