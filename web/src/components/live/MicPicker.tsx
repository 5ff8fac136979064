"use client";
import { useEffect, useState } from "react";
import { listMicrophones, type Microphone } from "@/lib/audio/capture";

/** Choose the microphone; labels appear once the browser has granted access. */
export function MicPicker({ value, onChange, disabled, refreshKey }: { value: string; onChange: (deviceId: string) => void; disabled: boolean; refreshKey: string }) {
  const [mics, setMics] = useState<Microphone[]>([]);
  useEffect(() => {
    let live = true;
    const refresh = () => void listMicrophones().then((list) => live && setMics(list), () => undefined);
    refresh();
    navigator.mediaDevices?.addEventListener?.("devicechange", refresh);
    return () => {
      live = false;
      navigator.mediaDevices?.removeEventListener?.("devicechange", refresh);
    };
  }, [refreshKey]);
  return (
    <div>
      <label htmlFor="mic" className="mb-1 block text-sm font-medium text-slate-800">
        Microphone
      </label>
      <select
        id="mic"
        value={value}
        disabled={disabled}
        onChange={(e) => onChange(e.target.value)}
        className="w-full max-w-xs rounded-md border border-slate-300 bg-white px-3 py-2 text-sm disabled:bg-slate-100"
      >
        <option value="">Default microphone</option>
        {mics
          .filter((m) => m.deviceId && m.deviceId !== "default")
          .map((m) => (
            <option key={m.deviceId} value={m.deviceId}>
              {m.label}
            </option>
          ))}
      </select>
    </div>
  );
}
