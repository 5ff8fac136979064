"use client";
import { useState } from "react";
import { api } from "@/lib/api";
import { formatDateTime } from "@/lib/format";
import { useLoad } from "@/hooks/useLoad";
import { EmptyState, ErrorMessage, Loading } from "../StatusMessage";
import { Button } from "../ui";

/** Recent deliveries of one endpoint, each with a replay button. */
export function DeliveryLog({ endpointId }: { endpointId: string }) {
  const log = useLoad(() => api().deliveries(endpointId), endpointId);
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const replay = async (deliveryId: string) => {
    setError(null);
    try {
      await api().replayDelivery(endpointId, deliveryId);
      setNote("Replay queued.");
      log.reload();
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    }
  };
  return (
    <div className="mt-3">
      <div className="mb-2 flex items-center gap-2">
        <h3 className="text-sm font-semibold">Deliveries</h3>
        <Button variant="ghost" onClick={log.reload}>
          Refresh
        </Button>
        {note ? <span role="status" className="text-sm text-emerald-800">{note}</span> : null}
      </div>
      {error ? <ErrorMessage error={error} /> : null}
      {log.loading ? <Loading /> : null}
      {log.error ? <ErrorMessage error={log.error} onRetry={log.reload} /> : null}
      {log.data && log.data.items.length === 0 ? <EmptyState title="Nothing delivered yet." /> : null}
      {log.data && log.data.items.length > 0 ? (
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <thead className="text-slate-600">
              <tr>
                <th scope="col" className="py-1 pr-3 font-medium">Event</th>
                <th scope="col" className="py-1 pr-3 font-medium">Status</th>
                <th scope="col" className="py-1 pr-3 font-medium">Attempts</th>
                <th scope="col" className="py-1 pr-3 font-medium">HTTP</th>
                <th scope="col" className="py-1 pr-3 font-medium">Created</th>
                <th scope="col" className="py-1 font-medium"><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {log.data.items.map((d) => (
                <tr key={d.id}>
                  <td className="py-1 pr-3 font-mono">{d.event_type}</td>
                  <td className="py-1 pr-3">{d.status}{d.last_error ? <span className="block text-xs text-red-800">{d.last_error}</span> : null}</td>
                  <td className="py-1 pr-3">{d.attempts}</td>
                  <td className="py-1 pr-3">{d.last_status_code ?? "—"}</td>
                  <td className="py-1 pr-3">{formatDateTime(d.created_at)}</td>
                  <td className="py-1">
                    <Button variant="ghost" onClick={() => void replay(d.id)} aria-label={`Replay delivery ${d.id}`}>
                      Replay
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}
