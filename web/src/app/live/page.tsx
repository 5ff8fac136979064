import { LiveRecorder } from "@/components/live/LiveRecorder";
import { RequireAuth } from "@/components/RequireAuth";
import { PageTitle } from "@/components/ui";

export default function LivePage() {
  return (
    <RequireAuth>
      <PageTitle>Live captions</PageTitle>
      <LiveRecorder />
    </RequireAuth>
  );
}
