import { useCallback, useEffect, useRef, useState } from 'react';

import { describeError } from '../api/errors';
import { type Captions, EMPTY_CAPTIONS } from '../live/captions';
import { ConnectionState, type LiveClient } from '../live/liveClient';
import { type Recorder, RecorderMode } from '../recording/recorder';
import { useServices } from '../servicesContext';

export interface RecordingView {
  mode: RecorderMode;
  connection: ConnectionState;
  captions: Captions;
  error: string | null;
  /** The server's latest Warning (e.g. a worker failover), shown until the next recording. */
  notice: string | null;
  busy: boolean;
  start: () => void;
  stop: () => void;
}

/** The Record screen's state: the recorder's mode, the stream's state and its captions. */
export function useRecording(): RecordingView {
  const { createRecorder } = useServices();
  const recorder = useRef<Recorder | null>(null);
  const [mode, setMode] = useState(RecorderMode.Idle);
  const [connection, setConnection] = useState(ConnectionState.Idle);
  const [captions, setCaptions] = useState<Captions>(EMPTY_CAPTIONS);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const detach = useRef<(() => void)[]>([]);

  const watchLive = useCallback((live: LiveClient) => {
    detach.current.push(
      live.on('state', setConnection),
      live.on('captions', setCaptions),
      live.on('notice', (n) => setNotice(n.message)),
    );
    setConnection(live.state);
    setCaptions(live.captions);
  }, []);

  useEffect(
    () => () => {
      for (const off of detach.current) off();
      void recorder.current?.stop();
    },
    [],
  );

  const start = useCallback(() => {
    if (recorder.current && recorder.current.mode !== RecorderMode.Idle) return;
    for (const off of detach.current) off();
    detach.current = [];
    const next = createRecorder();
    recorder.current = next;
    setError(null);
    setNotice(null);
    setCaptions(EMPTY_CAPTIONS);
    setConnection(ConnectionState.Idle);
    let watched: LiveClient | null = null;
    detach.current.push(
      next.subscribe((nextMode, live) => {
        setMode(nextMode);
        if (live && live !== watched) {
          watched = live;
          watchLive(live);
        }
      }),
    );
    setBusy(true);
    next
      .start()
      .catch((e: unknown) => setError(describeError(e)))
      .finally(() => setBusy(false));
  }, [createRecorder, watchLive]);

  const stop = useCallback(() => {
    const current = recorder.current;
    if (!current) return;
    setBusy(true);
    current
      .stop()
      .catch((e: unknown) => setError(describeError(e)))
      .finally(() => setBusy(false));
  }, []);

  return { mode, connection, captions, error, notice, busy, start, stop };
}
