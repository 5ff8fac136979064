"use client";
// API keys for scripts and Deepgram SDKs: create (the key is shown once), list, revoke.
import { useState, type FormEvent } from "react";
import { api } from "@/lib/api";
import { formatDateTime } from "@/lib/format";
import type { ApiKeyScope, CreatedApiKey } from "@/lib/types";
import { useLoad } from "@/hooks/useLoad";
import { EmptyState, ErrorMessage, Loading } from "../StatusMessage";
import { Button, Card, TextField } from "../ui";
import { CopyButton } from "./CopyButton";

const SCOPES: ApiKeyScope[] = ["listen", "read", "write", "admin"];

export function ApiKeysPanel() {
  const keys = useLoad(() => api().listApiKeys(), "keys");
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<ApiKeyScope[]>(["listen", "read"]);
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);

  const onCreate = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const key = await api().createApiKey(name.trim(), scopes);
      setCreated(key);
      setName("");
      keys.reload();
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      setBusy(false);
    }
  };
  const onRevoke = async (id: string, keyName: string) => {
    if (!window.confirm(`Revoke the key "${keyName}"? Programs using it stop working.`)) return;
    try {
      await api().revokeApiKey(id);
      keys.reload();
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    }
  };
  const toggle = (scope: ApiKeyScope) => setScopes((s) => (s.includes(scope) ? s.filter((x) => x !== scope) : [...s, scope]));

  return (
    <Card>
      <h2 className="mb-3 text-lg font-semibold">API keys</h2>
      <form onSubmit={onCreate} className="flex flex-wrap items-end gap-3">
        <TextField id="key-name" label="Key name" required value={name} onChange={(e) => setName(e.target.value)} className="min-w-48 flex-1" />
        <fieldset className="flex flex-wrap gap-3">
          <legend className="mb-1 text-sm font-medium text-slate-800">Scopes</legend>
          {SCOPES.map((s) => (
            <label key={s} className="flex items-center gap-1 text-sm">
              <input type="checkbox" checked={scopes.includes(s)} onChange={() => toggle(s)} className="h-4 w-4" />
              {s}
            </label>
          ))}
        </fieldset>
        <Button type="submit" variant="primary" disabled={busy || !name.trim() || scopes.length === 0}>
          Create key
        </Button>
      </form>
      {created ? (
        <div role="status" className="mt-4 rounded-md border border-emerald-300 bg-emerald-50 p-3 text-sm">
          <p className="font-medium text-emerald-950">Copy the key now: it is shown only once.</p>
          <div className="mt-2 flex flex-wrap items-center gap-2">
            <code className="break-all rounded bg-white px-2 py-1 font-mono" data-testid="new-api-key">
              {created.key}
            </code>
            <CopyButton text={created.key} />
            <Button variant="ghost" onClick={() => setCreated(null)}>
              Done
            </Button>
          </div>
        </div>
      ) : null}
      {error ? <div className="mt-3"><ErrorMessage error={error} /></div> : null}
      <div className="mt-4">
        {keys.loading ? <Loading /> : null}
        {keys.error ? <ErrorMessage error={keys.error} onRetry={keys.reload} /> : null}
        {keys.data && keys.data.items.length === 0 ? <EmptyState title="No API keys yet." /> : null}
        {keys.data && keys.data.items.length > 0 ? (
          <ul className="divide-y divide-slate-200">
            {keys.data.items.map((k) => (
              <li key={k.id} className="flex flex-wrap items-center gap-3 py-2 text-sm">
                <span className="font-medium">{k.name}</span>
                <code className="font-mono text-slate-700">{k.prefix}…</code>
                <span className="text-slate-600">{k.scopes.join(", ")}</span>
                <span className="text-slate-600">{formatDateTime(k.created_at)}</span>
                <Button variant="danger" className="ml-auto" onClick={() => void onRevoke(k.id, k.name)} aria-label={`Revoke key ${k.name}`}>
                  Revoke
                </Button>
              </li>
            ))}
          </ul>
        ) : null}
      </div>
    </Card>
  );
}
