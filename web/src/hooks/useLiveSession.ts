"use client";
// One live recording: microphone capture feeding the /v1/listen protocol client, as React state.
import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "@/lib/api";
import { Capture } from "@/lib/audio/capture";
import type { CaptionSnapshot } from "@/lib/captions";
import { ConnectionState, ListenClient, type ServerNotice } from "@/lib/listen";

export enum RecordingPhase {
  Idle = "idle",
  Starting = "starting",
  Recording = "recording",
  Stopping = "stopping",
  Done = "done",
}

export interface LiveSession {
  phase: RecordingPhase;
  connection: ConnectionState;
  connectionDetail: string | null;
  captions: CaptionSnapshot;
  sessionId: string | null;
  startedAt: number | null;
  stoppedAt: number | null;
  level: number;
  error: string | null;
  warnings: ServerNotice[];
  start: (opts: { deviceId?: string; processing: boolean; language?: string }) => Promise<void>;
  stop: () => Promise<void>;
  reset: () => void;
}

const EMPTY: CaptionSnapshot = { finals: [], interim: null };

export function useLiveSession(): LiveSession {
  const [phase, setPhase] = useState(RecordingPhase.Idle);
  const [connection, setConnection] = useState(ConnectionState.Idle);
  const [connectionDetail, setConnectionDetail] = useState<string | null>(null);
  const [captions, setCaptions] = useState<CaptionSnapshot>(EMPTY);
  const [sessionId, setSessionId] = useState<string | null>(null);
  const [startedAt, setStartedAt] = useState<number | null>(null);
  const [stoppedAt, setStoppedAt] = useState<number | null>(null);
  const [level, setLevel] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [warnings, setWarnings] = useState<ServerNotice[]>([]);
  const clientRef = useRef<ListenClient | null>(null);
  const captureRef = useRef<Capture | null>(null);

  const stop = useCallback(async () => {
    const client = clientRef.current;
    const capture = captureRef.current;
    if (!client) return;
    setPhase(RecordingPhase.Stopping);
    captureRef.current = null;
    await capture?.stop(); // the last partial frame goes to the client first
    setLevel(0);
    setStoppedAt(Date.now());
    await client.finish();
    setPhase(RecordingPhase.Done);
  }, []);

  const start = useCallback(async (opts: { deviceId?: string; processing: boolean; language?: string }) => {
    setPhase(RecordingPhase.Starting);
    setError(null);
    setWarnings([]);
    setCaptions(EMPTY);
    setSessionId(null);
    setStoppedAt(null);
    const client = new ListenClient(
      {
        url: api().listenUrl(),
        getToken: async () => (await api().grant(600)).access_token,
        params: opts.language ? { language: opts.language } : {},
      },
      {
        onState: (state, detail) => {
          setConnection(state);
          setConnectionDetail(detail.reason || (detail.attempt ? `attempt ${detail.attempt}` : null));
          if (state === ConnectionState.Failed) {
            setError(`The connection failed${detail.reason ? `: ${detail.reason}` : ""}.`);
            const capture = captureRef.current;
            captureRef.current = null;
            void capture?.stop();
            setPhase(RecordingPhase.Done);
          }
        },
        onCaptions: setCaptions,
        onSessionId: setSessionId,
        onWarning: (notice) => setWarnings((w) => [...w.slice(-4), notice]),
      },
    );
    clientRef.current = client;
    try {
      // Microphone first: no session is opened when the browser refuses it. Frames wait in the client.
      captureRef.current = await Capture.start({
        deviceId: opts.deviceId || undefined,
        processing: opts.processing,
        onFrame: (pcm) => client.sendFrame(pcm),
        onLevel: setLevel,
      });
    } catch (err) {
      clientRef.current = null;
      setError(err instanceof Error ? err.message : "Could not open the microphone.");
      setPhase(RecordingPhase.Idle);
      return;
    }
    client.start();
    setStartedAt(Date.now());
    setPhase(RecordingPhase.Recording);
  }, []);

  const reset = useCallback(() => {
    clientRef.current = null;
    setPhase(RecordingPhase.Idle);
    setConnection(ConnectionState.Idle);
    setConnectionDetail(null);
    setCaptions(EMPTY);
    setSessionId(null);
    setStartedAt(null);
    setStoppedAt(null);
    setError(null);
    setWarnings([]);
  }, []);

  useEffect(
    () => () => {
      // Leaving the page mid-call: release the microphone and end the stream properly.
      void captureRef.current?.stop();
      void clientRef.current?.finish();
    },
    [],
  );

  return { phase, connection, connectionDetail, captions, sessionId, startedAt, stoppedAt, level, error, warnings, start, stop, reset };
}
