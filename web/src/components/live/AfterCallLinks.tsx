"use client";
// After a call: where the session, its leads and its events are; counts update as agents finish.
import Link from "next/link";
import { useEffect, useState } from "react";
import { api } from "@/lib/api";
import type { Session } from "@/lib/types";

const POLL_MS = 4000;
const POLL_FOR_MS = 5 * 60_000;

interface Progress {
  session: Session | null;
  leads: number;
  events: number;
}

export function AfterCallLinks({ sessionId }: { sessionId: string }) {
  const [progress, setProgress] = useState<Progress>({ session: null, leads: 0, events: 0 });
  useEffect(() => {
    let live = true;
    const until = Date.now() + POLL_FOR_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const [session, leads, events] = await Promise.all([
          api().getSession(sessionId),
          api().listLeads({ session_id: sessionId }),
          api().listEvents({ session_id: sessionId }),
        ]);
        if (!live) return;
        setProgress({ session, leads: leads.items.length, events: events.items.length });
        const settled = session.status === "completed" || session.status === "failed";
        const agentsDone = session.agents_status === "done" || session.agents_status === "failed" || session.agents_status === "off";
        if (settled && agentsDone) return;
      } catch {
        // not there yet (the session row may lag the socket by a moment): keep polling
      }
      if (live && Date.now() < until) timer = setTimeout(poll, POLL_MS);
    };
    void poll();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [sessionId]);

  const status = progress.session?.status ?? "processing";
  const q = encodeURIComponent(sessionId);
  return (
    <section aria-labelledby="after-call" className="rounded-lg border border-indigo-200 bg-indigo-50 p-4">
      <h2 id="after-call" className="font-semibold text-indigo-950">
        After the call
      </h2>
      <p className="mt-1 text-sm text-slate-700" role="status" aria-live="polite">
        Session is <strong>{status}</strong>
        {progress.session ? `; diarization ${progress.session.diarization_status}, agents ${progress.session.agents_status}` : ""}.
      </p>
      <ul className="mt-3 flex flex-wrap gap-2 text-sm">
        <li>
          <Link href={`/sessions/view/?id=${q}`} className="inline-block rounded-md bg-white px-3 py-1.5 font-medium text-indigo-800 underline">
            Open the session
          </Link>
        </li>
        <li>
          <Link href={`/leads/?session_id=${q}`} className="inline-block rounded-md bg-white px-3 py-1.5 font-medium text-indigo-800 underline">
            Leads ({progress.leads})
          </Link>
        </li>
        <li>
          <Link href={`/events/?session_id=${q}`} className="inline-block rounded-md bg-white px-3 py-1.5 font-medium text-indigo-800 underline">
            Events ({progress.events})
          </Link>
        </li>
      </ul>
    </section>
  );
}
