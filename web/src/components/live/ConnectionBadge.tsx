import { ConnectionState } from "@/lib/listen";

const LOOK: Record<ConnectionState, { label: string; className: string }> = {
  [ConnectionState.Idle]: { label: "Not connected", className: "bg-slate-100 text-slate-700" },
  [ConnectionState.Connecting]: { label: "Connecting…", className: "bg-amber-100 text-amber-900" },
  [ConnectionState.Open]: { label: "Connected", className: "bg-emerald-100 text-emerald-900" },
  [ConnectionState.Reconnecting]: { label: "Reconnecting…", className: "bg-amber-100 text-amber-900" },
  [ConnectionState.Closing]: { label: "Finishing…", className: "bg-sky-100 text-sky-900" },
  [ConnectionState.Closed]: { label: "Finished", className: "bg-slate-100 text-slate-700" },
  [ConnectionState.Failed]: { label: "Connection failed", className: "bg-red-100 text-red-900" },
};

export function ConnectionBadge({ state, detail }: { state: ConnectionState; detail: string | null }) {
  const look = LOOK[state];
  return (
    <p role="status" aria-live="polite" data-state={state} className={`inline-flex items-center gap-2 rounded-full px-3 py-1 text-sm font-medium ${look.className}`}>
      {look.label}
      {detail && state === ConnectionState.Reconnecting ? <span className="font-normal">({detail})</span> : null}
    </p>
  );
}
