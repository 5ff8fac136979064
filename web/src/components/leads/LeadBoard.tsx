"use client";
// Leads as cards, filtered by their place in the pipeline, with CSV export.
import Link from "next/link";
import { useState } from "react";
import { api } from "@/lib/api";
import { saveTextFile } from "@/lib/download";
import { LEAD_STATUSES, type LeadStatus } from "@/lib/types";
import { useLoad } from "@/hooks/useLoad";
import { EmptyState, ErrorMessage, Loading } from "../StatusMessage";
import { Button, PageTitle } from "../ui";
import { LeadCard } from "./LeadCard";

export function LeadBoard({ sessionId }: { sessionId: string | null }) {
  const [filter, setFilter] = useState<LeadStatus | "all">("all");
  const [exportError, setExportError] = useState<Error | null>(null);
  const leads = useLoad(() => api().listLeads(sessionId ? { session_id: sessionId } : {}), `leads:${sessionId ?? ""}`);
  const all = leads.data?.items ?? [];
  const shown = filter === "all" ? all : all.filter((l) => l.status === filter);
  const count = (s: LeadStatus) => all.filter((l) => l.status === s).length;
  const onExport = async () => {
    setExportError(null);
    try {
      saveTextFile("leads.csv", await api().leadsCsv(), "text/csv");
    } catch (err) {
      setExportError(err instanceof Error ? err : new Error(String(err)));
    }
  };
  return (
    <div>
      <PageTitle actions={<Button onClick={() => void onExport()}>Export CSV</Button>}>Leads</PageTitle>
      {sessionId ? (
        <p className="mb-3 text-sm text-slate-700">
          From one session. <Link href="/leads/" className="font-medium text-indigo-800 underline">Show all leads</Link>
        </p>
      ) : null}
      {exportError ? <ErrorMessage error={exportError} /> : null}
      <div role="group" aria-label="Filter by pipeline status" className="mb-4 flex flex-wrap gap-1">
        {(["all", ...LEAD_STATUSES] as const).map((s) => (
          <button
            key={s}
            type="button"
            aria-pressed={filter === s}
            onClick={() => setFilter(s)}
            className={`rounded-full px-3 py-1 text-sm font-medium ${filter === s ? "bg-indigo-700 text-white" : "border border-slate-300 bg-white text-slate-800 hover:bg-slate-100"}`}
          >
            {s} ({s === "all" ? all.length : count(s)})
          </button>
        ))}
      </div>
      {leads.loading ? <Loading /> : null}
      {leads.error ? <ErrorMessage error={leads.error} onRetry={leads.reload} /> : null}
      {!leads.loading && !leads.error && shown.length === 0 ? (
        <EmptyState title={all.length === 0 ? "No leads yet." : `No leads are ${filter}.`}>{all.length === 0 ? "Leads appear here after a call in which someone shows buying interest." : null}</EmptyState>
      ) : null}
      <div className="grid gap-4 md:grid-cols-2">
        {shown.map((lead) => (
          <LeadCard key={lead.id} lead={lead} onChange={(l) => leads.setData((d) => d && { ...d, items: d.items.map((x) => (x.id === l.id ? l : x)) })} />
        ))}
      </div>
    </div>
  );
}
