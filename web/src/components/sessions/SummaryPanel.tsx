import type { Summary } from "@/lib/types";

export function SummaryPanel({ summary }: { summary: Summary }) {
  return (
    <div className="space-y-3 text-sm text-slate-800">
      {summary.abstract ? <p>{summary.abstract}</p> : null}
      {summary.bullets.length > 0 ? (
        <ul className="list-disc space-y-1 pl-5">
          {summary.bullets.map((b, i) => (
            <li key={i}>{b}</li>
          ))}
        </ul>
      ) : null}
      {summary.action_items.length > 0 ? (
        <div>
          <h3 className="font-semibold text-slate-900">Action items</h3>
          <ul className="mt-1 list-disc space-y-1 pl-5">
            {summary.action_items.map((a, i) => (
              <li key={i}>
                {a.text}
                {a.owner ? <span className="text-slate-600"> — {a.owner}</span> : null}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <p className="text-xs text-slate-500">Summary by {summary.engine}</p>
    </div>
  );
}
