"use client";
import { useSearchParams } from "next/navigation";
import { Suspense } from "react";
import { LeadBoard } from "@/components/leads/LeadBoard";
import { RequireAuth } from "@/components/RequireAuth";
import { Loading } from "@/components/StatusMessage";

function Leads() {
  return <LeadBoard sessionId={useSearchParams().get("session_id")} />;
}

export default function LeadsPage() {
  return (
    <RequireAuth>
      <Suspense fallback={<Loading />}>
        <Leads />
      </Suspense>
    </RequireAuth>
  );
}
