"use client";
// Load data for a page: loading, error and reload in one place.
import { useCallback, useEffect, useRef, useState } from "react";

export interface Loaded<T> {
  data: T | undefined;
  error: Error | null;
  loading: boolean;
  reload: () => void;
  setData: (update: (previous: T | undefined) => T | undefined) => void;
}

interface LoadState<T> {
  key: string;
  data: T | undefined;
  error: Error | null;
  done: boolean;
}

/** Runs `load` whenever `key` changes (and on reload); a null key waits. */
export function useLoad<T>(load: () => Promise<T>, key: string | null): Loaded<T> {
  const loadRef = useRef(load);
  const [tick, setTick] = useState(0);
  const [state, setState] = useState<LoadState<T>>({ key: "", data: undefined, error: null, done: false });

  useEffect(() => {
    loadRef.current = load;
  });

  useEffect(() => {
    if (key === null) return;
    let live = true;
    loadRef.current().then(
      (data) => live && setState({ key, data, error: null, done: true }),
      (error: unknown) =>
        live && setState((s) => ({ key, data: s.key === key ? s.data : undefined, error: error instanceof Error ? error : new Error(String(error)), done: true })),
    );
    return () => {
      live = false;
    };
  }, [key, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  const setData = useCallback((update: (previous: T | undefined) => T | undefined) => setState((s) => ({ ...s, data: update(s.data) })), []);
  const current = state.key === key;
  return { data: current ? state.data : undefined, error: current ? state.error : null, loading: !current || !state.done, reload, setData };
}
