// The live protocol client for /v1/listen (Deepgram's live API plus AYKA's additions).
// Audio frames get a sequence number (0-based, one per 100 ms frame) and wait in a bounded ring buffer
// until a Results message covers them; when the socket drops, the client reconnects with
// ?session_id=&resume_seq=&resume_final= and resends from the oldest unacknowledged frame. No React here.

import { CaptionBook, type CaptionSnapshot, type ResultsMessage, type SpeakerUpdateMessage } from "./captions";

export enum ConnectionState {
  Idle = "idle",
  Connecting = "connecting",
  Open = "open",
  Reconnecting = "reconnecting",
  Closing = "closing",
  Closed = "closed",
  Failed = "failed",
}

/** The part of the browser WebSocket this client uses (tests pass a fake). */
export interface SocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: string | ArrayBuffer | ArrayBufferView): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string; wasClean?: boolean }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type SocketFactory = (url: string, protocols: string[]) => SocketLike;

export interface ServerNotice {
  code: string;
  message: string;
}

export interface ListenHandlers {
  onState?: (state: ConnectionState, detail: { code?: number; reason?: string; attempt?: number }) => void;
  onCaptions?: (captions: CaptionSnapshot) => void;
  onSessionId?: (sessionId: string) => void;
  onWarning?: (notice: ServerNotice) => void;
  onMessage?: (message: Record<string, unknown>) => void;
}

export interface ListenOptions {
  /** ws:// or wss:// URL of /v1/listen, without a query string. */
  url: string;
  /** A fresh short-lived token (from /v1/auth/grant) for each connection attempt. */
  getToken: () => Promise<string>;
  /** Extra query parameters (language, model, ...), added to the defaults. */
  params?: Record<string, string>;
  createSocket?: SocketFactory;
  /** Unacknowledged frames kept for resending; 600 frames = 60 s (1.9 MB). */
  bufferFrames?: number;
  reconnectDelaysMs?: number[];
  maxReconnectAttempts?: number;
  keepAliveIntervalMs?: number;
  closeTimeoutMs?: number;
}

export const DEFAULT_PARAMS: Readonly<Record<string, string>> = {
  encoding: "linear16",
  sample_rate: "16000",
  channels: "1",
  interim_results: "true",
  punctuate: "true",
  smart_format: "true",
  diarize: "true",
  vad_events: "true",
  utterance_end_ms: "1000",
};

export const FRAME_SECONDS = 0.1;
const OPEN = 1;

/** Close codes after which reconnecting cannot help: unsupported data (1003), bad audio (1007),
 * policy/auth (1008), frame too big (1009), and the 4000-4499 range (bad parameter, session ended,
 * too long, audio after CloseStream). 1001, 1006, 1011, 1013 (try again) and the rest reconnect. */
export function isFatalClose(code: number): boolean {
  return code === 1003 || code === 1007 || code === 1008 || code === 1009 || (code >= 4000 && code < 4500);
}

interface BufferedFrame {
  seq: number;
  data: ArrayBuffer;
}

export class ListenClient {
  readonly captions = new CaptionBook();
  private readonly opts: Required<Omit<ListenOptions, "params">> & { params: Record<string, string> };
  private readonly handlers: ListenHandlers;
  private socket: SocketLike | null = null;
  private ring: BufferedFrame[] = [];
  private nextSeq = 0;
  // Our number of the frame the server calls 0: frames dropped from a full buffer before the first
  // connection opened never reach the server, so the two numberings can differ by a constant.
  private seqBase = 0;
  private openingNewSession = false;
  private sessionIdValue: string | null = null;
  private stateValue = ConnectionState.Idle;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private keepAliveTimer: ReturnType<typeof setInterval> | null = null;
  private closeTimer: ReturnType<typeof setTimeout> | null = null;
  private lastSendAt = 0;
  private finishing = false;
  private finished: Promise<void> | null = null;
  private resolveFinished: (() => void) | null = null;

  constructor(options: ListenOptions, handlers: ListenHandlers = {}) {
    this.opts = {
      createSocket: (url, protocols) => new WebSocket(url, protocols) as unknown as SocketLike,
      bufferFrames: 600,
      reconnectDelaysMs: [250, 500, 1000, 2000, 4000, 8000],
      maxReconnectAttempts: 30,
      keepAliveIntervalMs: 5000,
      closeTimeoutMs: 10_000,
      ...options,
      params: { ...DEFAULT_PARAMS, ...(options.params ?? {}) },
    };
    this.handlers = handlers;
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  get sessionId(): string | null {
    return this.sessionIdValue;
  }

  /** Sequence number the next frame will get (= frames sent so far). */
  get framesSent(): number {
    return this.nextSeq;
  }

  /** Frames still waiting for a Results message to cover them. */
  get unacknowledged(): number {
    return this.ring.length;
  }

  /** The resume point, in the server's numbering: the first frame the server may not have. */
  get resumeSeq(): number {
    return (this.ring[0]?.seq ?? this.nextSeq) - this.seqBase;
  }

  start(): void {
    if (this.stateValue !== ConnectionState.Idle) throw new Error("ListenClient.start() called twice");
    this.keepAliveTimer = setInterval(() => this.keepAlive(), this.opts.keepAliveIntervalMs);
    void this.connect();
  }

  /** Queue one 100 ms PCM16 frame; it goes out now when the socket is open, else after reconnecting. */
  sendFrame(pcm: ArrayBuffer): void {
    if (this.finishing || this.isOver()) return;
    const frame = { seq: this.nextSeq++, data: pcm };
    this.ring.push(frame);
    if (this.ring.length > this.opts.bufferFrames) this.ring.shift();
    if (this.socket?.readyState === OPEN && this.stateValue === ConnectionState.Open) this.transmit(frame.data);
  }

  /** Stop: Finalize, then CloseStream; resolves when the server has closed (or after a timeout). */
  finish(): Promise<void> {
    if (this.finished) return this.finished;
    this.finishing = true;
    this.finished = new Promise<void>((resolve) => (this.resolveFinished = resolve));
    if (this.isOver()) {
      this.settle(this.stateValue);
    } else if (this.socket?.readyState === OPEN && this.stateValue === ConnectionState.Open) {
      this.sendCloseMessages();
    } // else: the next successful open sends them after resending the buffered frames
    this.closeTimer = setTimeout(() => {
      this.socket?.close(1000, "client finished");
      this.settle(ConnectionState.Closed);
    }, this.opts.closeTimeoutMs);
    return this.finished;
  }

  /** Drop the connection without finishing the stream (leaving the page). */
  abort(): void {
    this.finishing = true;
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, "client aborted");
    this.settle(ConnectionState.Closed);
  }

  private isOver(): boolean {
    return this.stateValue === ConnectionState.Closed || this.stateValue === ConnectionState.Failed;
  }

  private buildUrl(): string {
    const query = new URLSearchParams(this.opts.params);
    this.openingNewSession = !this.sessionIdValue;
    if (this.sessionIdValue) {
      query.set("session_id", this.sessionIdValue);
      query.set("resume_seq", String(this.resumeSeq));
      query.set("resume_final", String(this.captions.finalsReceived)); // the server replays finals from there
    }
    return `${this.opts.url}?${query.toString()}`;
  }

  private setState(state: ConnectionState, detail: { code?: number; reason?: string; attempt?: number } = {}): void {
    if (this.stateValue === state && state !== ConnectionState.Reconnecting) return;
    this.stateValue = state;
    this.handlers.onState?.(state, detail);
  }

  private async connect(): Promise<void> {
    this.setState(this.attempt === 0 ? ConnectionState.Connecting : ConnectionState.Reconnecting, { attempt: this.attempt });
    let token: string;
    try {
      token = await this.opts.getToken();
    } catch (err) {
      if (this.isOver()) return;
      this.scheduleReconnect(0, err instanceof Error ? err.message : "could not get a token");
      return;
    }
    if (this.isOver()) return;
    const socket = this.opts.createSocket(this.buildUrl(), ["token", token]);
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    socket.onopen = () => this.handleOpen(socket);
    socket.onmessage = (ev) => this.handleMessage(ev.data);
    socket.onclose = (ev) => this.handleClose(socket, ev.code, ev.reason);
    socket.onerror = () => undefined; // a close event always follows
  }

  private handleOpen(socket: SocketLike): void {
    if (socket !== this.socket) return;
    this.attempt = 0;
    if (this.openingNewSession) this.seqBase = this.ring[0]?.seq ?? this.nextSeq;
    this.setState(ConnectionState.Open);
    for (const frame of this.ring) this.transmit(frame.data);
    if (this.finishing) this.sendCloseMessages();
  }

  private sendCloseMessages(): void {
    this.socket?.send(JSON.stringify({ type: "Finalize" }));
    this.socket?.send(JSON.stringify({ type: "CloseStream" }));
    this.lastSendAt = Date.now();
    this.setState(ConnectionState.Closing);
  }

  private transmit(data: ArrayBuffer): void {
    this.socket?.send(data);
    this.lastSendAt = Date.now();
  }

  private keepAlive(): void {
    if (this.socket?.readyState !== OPEN || this.stateValue !== ConnectionState.Open) return;
    if (Date.now() - this.lastSendAt >= this.opts.keepAliveIntervalMs) {
      this.socket.send(JSON.stringify({ type: "KeepAlive" }));
      this.lastSendAt = Date.now();
    }
  }

  private handleMessage(data: unknown): void {
    if (typeof data !== "string") return;
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(data) as Record<string, unknown>;
    } catch {
      return;
    }
    this.handlers.onMessage?.(msg);
    switch (msg.type) {
      case "Metadata": {
        const id = msg.session_id;
        if (typeof id === "string" && id && id !== this.sessionIdValue) {
          this.sessionIdValue = id;
          this.handlers.onSessionId?.(id);
        }
        break;
      }
      case "Results": {
        const results = msg as unknown as ResultsMessage;
        this.acknowledge((results.start ?? 0) + (results.duration ?? 0));
        if (this.captions.applyResults(results)) this.handlers.onCaptions?.(this.captions.snapshot());
        break;
      }
      case "SpeakerUpdate":
        if (this.captions.applySpeakerUpdate(msg as unknown as SpeakerUpdateMessage)) {
          this.handlers.onCaptions?.(this.captions.snapshot());
        }
        break;
      case "Warning":
      case "Error":
        this.handlers.onWarning?.({ code: String(msg.code ?? msg.type), message: String(msg.message ?? "") });
        break;
      default:
        break; // UtteranceEnd, SpeechStarted: nothing to show
    }
  }

  /** Frames whose audio ends at or before endS are with the server for good. */
  private acknowledge(endS: number): void {
    while (this.ring.length > 0) {
      const first = this.ring[0];
      if (!first || (first.seq - this.seqBase + 1) * FRAME_SECONDS > endS + 1e-6) break;
      this.ring.shift();
    }
  }

  private handleClose(socket: SocketLike, code: number, reason: string): void {
    if (socket !== this.socket) return;
    this.socket = null;
    if (this.isOver()) return;
    if (this.finishing && this.stateValue === ConnectionState.Closing) {
      this.settle(ConnectionState.Closed, { code, reason });
      return;
    }
    if (isFatalClose(code)) {
      this.settle(ConnectionState.Failed, { code, reason });
      return;
    }
    this.scheduleReconnect(code, reason);
  }

  private scheduleReconnect(code: number, reason: string): void {
    if (this.attempt >= this.opts.maxReconnectAttempts) {
      this.settle(ConnectionState.Failed, { code, reason: reason || "gave up reconnecting" });
      return;
    }
    const delays = this.opts.reconnectDelaysMs;
    const delay = delays[Math.min(this.attempt, delays.length - 1)] ?? 1000;
    this.attempt += 1;
    this.setState(ConnectionState.Reconnecting, { code, reason, attempt: this.attempt });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, delay);
  }

  private settle(state: ConnectionState, detail: { code?: number; reason?: string } = {}): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.keepAliveTimer) clearInterval(this.keepAliveTimer);
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.reconnectTimer = this.keepAliveTimer = this.closeTimer = null;
    this.setState(state, detail);
    this.resolveFinished?.();
    this.resolveFinished = null;
  }
}
