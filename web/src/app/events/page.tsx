"use client";
import { useSearchParams } from "next/navigation";
import { Suspense } from "react";
import { EventList } from "@/components/events/EventList";
import { RequireAuth } from "@/components/RequireAuth";
import { Loading } from "@/components/StatusMessage";

function Events() {
  return <EventList sessionId={useSearchParams().get("session_id")} />;
}

export default function EventsPage() {
  return (
    <RequireAuth>
      <Suspense fallback={<Loading />}>
        <Events />
      </Suspense>
    </RequireAuth>
  );
}
