import { RequireAuth } from "@/components/RequireAuth";
import { SessionList } from "@/components/sessions/SessionList";
import { PageTitle } from "@/components/ui";

export default function SessionsPage() {
  return (
    <RequireAuth>
      <PageTitle>Sessions</PageTitle>
      <SessionList />
    </RequireAuth>
  );
}
