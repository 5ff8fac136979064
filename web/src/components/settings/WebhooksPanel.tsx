"use client";
// Webhook endpoints: add one (choose the events), then per endpoint its secret and deliveries.
import { useState, type FormEvent } from "react";
import { api } from "@/lib/api";
import { WEBHOOK_EVENT_TYPES } from "@/lib/types";
import { useLoad } from "@/hooks/useLoad";
import { EmptyState, ErrorMessage, Loading } from "../StatusMessage";
import { Button, Card, TextField } from "../ui";
import { WebhookEndpointItem } from "./WebhookEndpointItem";

export function WebhooksPanel() {
  const hooks = useLoad(() => api().listWebhooks(), "webhooks");
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [types, setTypes] = useState<string[]>(["lead.finalized"]);
  const [error, setError] = useState<Error | null>(null);
  const [created, setCreated] = useState<string | null>(null);

  const onCreate = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      const hook = await api().createWebhook(url.trim(), types, description.trim() || undefined);
      setCreated(hook.secret ?? null);
      setUrl("");
      setDescription("");
      hooks.reload();
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    }
  };
  const toggle = (t: string) => setTypes((s) => (s.includes(t) ? s.filter((x) => x !== t) : [...s, t]));

  return (
    <Card>
      <h2 className="mb-3 text-lg font-semibold">Webhooks</h2>
      <form onSubmit={onCreate} className="space-y-3">
        <div className="flex flex-wrap gap-3">
          <TextField id="hook-url" label="Endpoint URL" type="url" required placeholder="https://example.com/ayka" value={url} onChange={(e) => setUrl(e.target.value)} className="min-w-64 flex-1" />
          <TextField id="hook-desc" label="Description (optional)" value={description} onChange={(e) => setDescription(e.target.value)} className="min-w-48 flex-1" />
        </div>
        <fieldset className="flex flex-wrap gap-3">
          <legend className="mb-1 text-sm font-medium text-slate-800">Events to send</legend>
          {WEBHOOK_EVENT_TYPES.map((t) => (
            <label key={t} className="flex items-center gap-1 text-sm">
              <input type="checkbox" checked={types.includes(t)} onChange={() => toggle(t)} className="h-4 w-4" />
              <code>{t}</code>
            </label>
          ))}
        </fieldset>
        <Button type="submit" variant="primary" disabled={!url.trim() || types.length === 0}>
          Add endpoint
        </Button>
      </form>
      {created ? (
        <p role="status" className="mt-3 rounded-md border border-emerald-300 bg-emerald-50 p-3 text-sm">
          Endpoint added. Its signing secret: <code className="break-all font-mono">{created}</code>
        </p>
      ) : null}
      {error ? <div className="mt-3"><ErrorMessage error={error} /></div> : null}
      <div className="mt-4 space-y-3">
        {hooks.loading ? <Loading /> : null}
        {hooks.error ? <ErrorMessage error={hooks.error} onRetry={hooks.reload} /> : null}
        {hooks.data && hooks.data.items.length === 0 ? <EmptyState title="No webhook endpoints yet." /> : null}
        {hooks.data?.items.map((h) => <WebhookEndpointItem key={h.id} endpoint={h} onDeleted={hooks.reload} />)}
      </div>
    </Card>
  );
}
