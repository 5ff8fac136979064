"use client";
import { useSearchParams } from "next/navigation";
import { Suspense } from "react";
import { RequireAuth } from "@/components/RequireAuth";
import { SessionDetail } from "@/components/sessions/SessionDetail";
import { EmptyState, Loading } from "@/components/StatusMessage";

function SessionView() {
  const params = useSearchParams();
  const id = params.get("id");
  const t = params.get("t");
  if (!id) return <EmptyState title="No session was named." />;
  const startAtS = t !== null && Number.isFinite(Number(t)) ? Number(t) : null;
  return <SessionDetail key={id} id={id} startAtS={startAtS} />;
}

export default function SessionViewPage() {
  return (
    <RequireAuth>
      <Suspense fallback={<Loading />}>
        <SessionView />
      </Suspense>
    </RequireAuth>
  );
}
