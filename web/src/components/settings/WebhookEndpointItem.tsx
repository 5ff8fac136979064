"use client";
// One endpoint: reveal or rotate its secret, see its deliveries and replay one, delete it.
import { useState } from "react";
import { api } from "@/lib/api";
import type { WebhookEndpoint } from "@/lib/types";
import { ErrorMessage } from "../StatusMessage";
import { Button } from "../ui";
import { CopyButton } from "./CopyButton";
import { DeliveryLog } from "./DeliveryLog";

export function WebhookEndpointItem({ endpoint, onDeleted }: { endpoint: WebhookEndpoint; onDeleted: () => void }) {
  const [secret, setSecret] = useState<string | null>(null);
  const [showLog, setShowLog] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const run = async (action: () => Promise<void>) => {
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    }
  };
  const reveal = () => run(async () => setSecret(secret ? null : (await api().webhookSecret(endpoint.id)).secret));
  const rotate = () =>
    run(async () => {
      if (!window.confirm("Rotate the signing secret? The old one keeps working for 24 hours.")) return;
      setSecret((await api().rotateWebhookSecret(endpoint.id)).secret);
    });
  const remove = () =>
    run(async () => {
      if (!window.confirm(`Delete the endpoint ${endpoint.url}?`)) return;
      await api().deleteWebhook(endpoint.id);
      onDeleted();
    });
  return (
    <div className="rounded-md border border-slate-200 p-3">
      <div className="flex flex-wrap items-center gap-2">
        <code className="min-w-0 flex-1 break-all font-mono text-sm">{endpoint.url}</code>
        <Button onClick={() => void reveal()} aria-expanded={secret !== null}>
          {secret ? "Hide secret" : "Reveal secret"}
        </Button>
        <Button onClick={() => void rotate()}>Rotate secret</Button>
        <Button onClick={() => setShowLog((v) => !v)} aria-expanded={showLog}>
          {showLog ? "Hide deliveries" : "Deliveries"}
        </Button>
        <Button variant="danger" onClick={() => void remove()}>
          Delete
        </Button>
      </div>
      {endpoint.description ? <p className="mt-1 text-sm text-slate-700">{endpoint.description}</p> : null}
      <p className="mt-1 text-xs text-slate-600">Events: {endpoint.event_types.join(", ")}</p>
      {endpoint.enabled === false ? (
        <p className="mt-1 text-sm font-medium text-red-800">Disabled{endpoint.disabled_reason ? `: ${endpoint.disabled_reason}` : ""}</p>
      ) : null}
      {secret ? (
        <div className="mt-2 flex flex-wrap items-center gap-2 text-sm">
          <code className="break-all rounded bg-slate-100 px-2 py-1 font-mono">{secret}</code>
          <CopyButton text={secret} />
        </div>
      ) : null}
      {error ? <div className="mt-2"><ErrorMessage error={error} /></div> : null}
      {showLog ? <DeliveryLog endpointId={endpoint.id} /> : null}
    </div>
  );
}
