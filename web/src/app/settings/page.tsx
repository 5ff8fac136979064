import { RequireAuth } from "@/components/RequireAuth";
import { ApiKeysPanel } from "@/components/settings/ApiKeysPanel";
import { WebhooksPanel } from "@/components/settings/WebhooksPanel";
import { PageTitle } from "@/components/ui";

export default function SettingsPage() {
  return (
    <RequireAuth>
      <PageTitle>Settings</PageTitle>
      <div className="space-y-6">
        <ApiKeysPanel />
        <WebhooksPanel />
      </div>
    </RequireAuth>
  );
}
