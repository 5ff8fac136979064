"use client";
// One lead: who, how good (score and reasons), what was said (evidence linking into the session), status.
import Link from "next/link";
import { useState } from "react";
import { api } from "@/lib/api";
import { formatClock, formatDateTime } from "@/lib/format";
import { LEAD_STATUSES, type Lead, type LeadStatus } from "@/lib/types";
import { ErrorMessage } from "../StatusMessage";

function scoreLook(score: number): string {
  if (score >= 70) return "bg-emerald-100 text-emerald-900";
  if (score >= 40) return "bg-amber-100 text-amber-900";
  return "bg-slate-200 text-slate-800";
}

const FIELDS: [keyof Lead, string][] = [
  ["intent", "Intent"],
  ["budget", "Budget"],
  ["timeline", "Timeline"],
  ["next_step", "Next step"],
  ["email", "Email"],
  ["phone", "Phone"],
];

export function LeadCard({ lead, onChange }: { lead: Lead; onChange: (lead: Lead) => void }) {
  const [error, setError] = useState<Error | null>(null);
  const [saving, setSaving] = useState(false);
  const setStatus = async (status: LeadStatus) => {
    setSaving(true);
    setError(null);
    try {
      onChange(await api().updateLead(lead.id, { status }));
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      setSaving(false);
    }
  };
  const who = [lead.person, lead.company].filter(Boolean).join(" · ") || "Unnamed lead";
  const statusId = `lead-status-${lead.id}`;
  return (
    <article className="flex flex-col gap-3 rounded-lg border border-slate-200 bg-white p-4 shadow-sm" data-testid="lead-card">
      <header className="flex items-start justify-between gap-3">
        <div className="min-w-0">
          <h2 className="font-semibold text-slate-900">{who}</h2>
          {lead.role ? <p className="text-sm text-slate-600">{lead.role}</p> : null}
        </div>
        <span className={`shrink-0 rounded-full px-2.5 py-1 text-sm font-bold ${scoreLook(lead.score)}`} aria-label={`Score ${lead.score} of 100`}>
          {lead.score}
        </span>
      </header>
      <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-sm">
        {FIELDS.filter(([k]) => lead[k]).map(([k, label]) => (
          <div key={k} className="contents">
            <dt className="text-slate-600">{label}</dt>
            <dd className="text-slate-900">{String(lead[k])}</dd>
          </div>
        ))}
      </dl>
      {lead.score_reasons.length > 0 ? (
        <ul className="list-disc pl-5 text-sm text-slate-700" aria-label="Why this score">
          {lead.score_reasons.map((r, i) => (
            <li key={i}>{r}</li>
          ))}
        </ul>
      ) : null}
      {lead.evidence.length > 0 ? (
        <div className="space-y-2">
          {lead.evidence.map((e, i) => (
            <blockquote key={i} className="border-l-4 border-indigo-300 pl-3 text-sm">
              <p className="italic text-slate-800">“{e.quote}”</p>
              <Link href={`/sessions/view/?id=${encodeURIComponent(lead.session_id)}&t=${e.start_s}`} className="text-xs font-medium text-indigo-800 underline">
                Hear it at {formatClock(e.start_s)}
              </Link>
            </blockquote>
          ))}
        </div>
      ) : null}
      {lead.email_draft ? (
        <details className="text-sm">
          <summary className="cursor-pointer font-medium text-slate-800">Follow-up email draft</summary>
          <p className="mt-2 font-medium">{lead.email_draft.subject}</p>
          <p className="mt-1 whitespace-pre-wrap text-slate-700">{lead.email_draft.body}</p>
        </details>
      ) : null}
      <footer className="mt-auto flex flex-wrap items-center justify-between gap-2 border-t border-slate-100 pt-3">
        <div className="flex items-center gap-2">
          <label htmlFor={statusId} className="text-sm text-slate-700">
            Status
          </label>
          <select id={statusId} value={lead.status} disabled={saving} onChange={(e) => void setStatus(e.target.value as LeadStatus)} className="rounded-md border border-slate-300 bg-white px-2 py-1 text-sm">
            {LEAD_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <span className="text-xs text-slate-500">{formatDateTime(lead.created_at)}{lead.finalized ? "" : " · draft"}</span>
      </footer>
      {error ? <ErrorMessage error={error} /> : null}
    </article>
  );
}
