import { type Captions, EMPTY_CAPTIONS, applyMessage } from './captions';
import { FrameRing } from './frameRing';
import {
  CLOSE_STREAM,
  FINALIZE,
  KEEP_ALIVE,
  type ListenOptions,
  type NoticeMessage,
  ProtocolError,
  type ServerMessage,
  buildListenUrl,
  parseServerMessage,
} from './protocol';

/** Where the stream stands. */
export enum ConnectionState {
  Idle = 'idle',
  Connecting = 'connecting',
  Open = 'open',
  Reconnecting = 'reconnecting',
  Closing = 'closing',
  Closed = 'closed',
  /** Reconnecting gave up, or the server refused the stream: the caller should keep the audio. */
  Failed = 'failed',
}

/** The part of the WebSocket API the client uses (React Native's, the browser's, a test fake). */
export interface SocketLike {
  binaryType?: string;
  send(data: string | ArrayBuffer): void;
  close(code?: number, reason?: string): void;
  onopen: (() => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

/** Opens a socket; React Native's WebSocket takes headers as a third argument. */
export type SocketFactory = (url: string, headers: Record<string, string>) => SocketLike;

export interface ReconnectPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface LiveClientOptions {
  listenUrl: string;
  /** A fresh short-lived listen token (from `POST /v1/auth/grant`); called for every connect. */
  grantToken: () => Promise<string>;
  openSocket: SocketFactory;
  listen?: ListenOptions;
  /** How many recent frames are kept for resending after a reconnect (default 600 = 60 s). */
  ringFrames?: number;
  /** Frames sent just before a drop that are resent on resume: the socket may have lost them. */
  resendFrames?: number;
  keepAliveMs?: number;
  closeTimeoutMs?: number;
  reconnect?: Partial<ReconnectPolicy>;
}

/**
 * Close codes after which reconnecting cannot help: the server refused us on purpose (README "Close
 * codes"): policy/auth 1008, unsupported data 1003, undecodable audio 1007, oversized frame 1009, and
 * the gateway's 4000-range (bad parameter, session ended, too long, audio after close).
 */
const FATAL_CLOSE_CODES = new Set([1003, 1007, 1008, 1009, 4000, 4001, 4002, 4003]);

export interface LiveClientEvents {
  state: (state: ConnectionState) => void;
  captions: (captions: Captions) => void;
  message: (message: ServerMessage) => void;
  notice: (notice: NoticeMessage) => void;
}

type Listeners = { [K in keyof LiveClientEvents]: Set<LiveClientEvents[K]> };

/**
 * A live transcription stream over `/v1/listen`: sends 100 ms PCM frames, turns server messages
 * into captions, keeps the connection alive, and reconnects with `session_id` + `resume_seq`,
 * resending the frames the server may have missed. No React in here.
 */
export class LiveClient {
  private socket: SocketLike | null = null;
  private stateValue = ConnectionState.Idle;
  private captionsValue: Captions = EMPTY_CAPTIONS;
  private sessionIdValue: string | null = null;
  private readonly ring: FrameRing;
  private nextSeq = 0;
  /** The first frame not yet handed to an open socket. */
  private firstUnsentSeq = 0;
  private attempts = 0;
  private lastSendAt = 0;
  private keepAliveTimer: ReturnType<typeof setInterval> | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private closeWaiter: (() => void) | null = null;
  private readonly policy: ReconnectPolicy;
  private readonly listeners: Listeners = {
    state: new Set(),
    captions: new Set(),
    message: new Set(),
    notice: new Set(),
  };

  constructor(private readonly options: LiveClientOptions) {
    this.ring = new FrameRing(options.ringFrames ?? 600);
    this.policy = { maxAttempts: 8, baseDelayMs: 500, maxDelayMs: 8000, ...options.reconnect };
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  get captions(): Captions {
    return this.captionsValue;
  }

  get sessionId(): string | null {
    return this.sessionIdValue;
  }

  /** Frames lost because the ring overflowed while the connection was down. */
  get droppedFrames(): number {
    return this.ring.droppedCount;
  }

  on<K extends keyof LiveClientEvents>(event: K, listener: LiveClientEvents[K]): () => void {
    const set = this.listeners[event] as Set<LiveClientEvents[K]>;
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Opens the stream. Resolves once the connection attempt is under way. */
  async start(): Promise<void> {
    if (this.stateValue !== ConnectionState.Idle) throw new Error('LiveClient can start only once');
    await this.connect(ConnectionState.Connecting);
  }

  /** Queues one 100 ms frame; it is sent now when the socket is open, else after the reconnect. */
  sendFrame(bytes: Uint8Array): number {
    const seq = this.nextSeq++;
    this.ring.push({ seq, bytes });
    if (this.stateValue === ConnectionState.Open && this.socket && this.firstUnsentSeq === seq) {
      this.transmit(bytes);
      this.firstUnsentSeq = seq + 1;
    }
    return seq;
  }

  /** Frames captured but never handed to an open socket (to keep them when the stream fails). */
  unsentFrames(): Uint8Array[] {
    return this.ring.since(this.firstUnsentSeq).map((frame) => frame.bytes);
  }

  /** Asks the server to finalize what it has heard so far. */
  finalize(): void {
    if (this.stateValue === ConnectionState.Open) this.socket?.send(FINALIZE);
  }

  /** Ends the stream: CloseStream, then waits for the server to send its last results and close. */
  async stop(): Promise<void> {
    this.clearTimers();
    const socket = this.socket;
    if (!socket || this.stateValue !== ConnectionState.Open) {
      this.socket?.close(1000, 'client stopped');
      this.detach();
      this.setState(ConnectionState.Closed);
      return;
    }
    this.setState(ConnectionState.Closing);
    const closed = new Promise<void>((resolve) => {
      this.closeWaiter = resolve;
    });
    socket.send(CLOSE_STREAM);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.options.closeTimeoutMs ?? 10_000);
    });
    const outcome = await Promise.race([closed, timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      socket.close(1000, 'client stopped');
      this.detach();
      this.setState(ConnectionState.Closed);
    }
  }

  // ---------------------------------------------------------------- connection

  private async connect(state: ConnectionState): Promise<void> {
    this.setState(state);
    let token: string;
    try {
      token = await this.options.grantToken();
    } catch {
      this.scheduleReconnect();
      return;
    }
    if (this.stateValue !== state) return; // stopped meanwhile
    const resume = this.sessionIdValue
      ? { sessionId: this.sessionIdValue, resumeSeq: this.resumeSeq() }
      : null;
    const url = buildListenUrl(this.options.listenUrl, this.options.listen ?? {}, resume);
    const socket = this.options.openSocket(url, { Authorization: `Bearer ${token}` });
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    socket.onopen = () => this.handleOpen(resume?.resumeSeq ?? 0);
    socket.onmessage = (event) => this.handleMessage(event.data);
    socket.onerror = () => undefined; // onclose follows and decides
    socket.onclose = (event) => this.handleClose(event.code, event.reason);
  }

  /** Resend from a little before the first unsent frame, but never before the ring's oldest. */
  private resumeSeq(): number {
    const wanted = Math.max(0, this.firstUnsentSeq - (this.options.resendFrames ?? 50));
    return Math.max(wanted, this.ring.oldestSeq ?? this.nextSeq);
  }

  private handleOpen(fromSeq: number): void {
    this.attempts = 0;
    this.setState(ConnectionState.Open);
    for (const frame of this.ring.since(fromSeq)) this.transmit(frame.bytes);
    this.firstUnsentSeq = this.nextSeq;
    this.startKeepAlive();
  }

  private handleMessage(data: unknown): void {
    if (typeof data !== 'string') return; // the server sends text only
    let message: ServerMessage;
    try {
      message = parseServerMessage(data);
    } catch (error) {
      if (error instanceof ProtocolError) return; // newer server, older app: ignore what we don't know
      throw error;
    }
    if (message.type === 'Metadata' && message.session_id) this.sessionIdValue = message.session_id;
    if (message.type === 'Warning' || message.type === 'Error') this.emit('notice', message);
    const next = applyMessage(this.captionsValue, message);
    if (next !== this.captionsValue) {
      this.captionsValue = next;
      this.emit('captions', next);
    }
    this.emit('message', message);
  }

  private handleClose(code: number, _reason: string): void {
    this.detach();
    if (this.stateValue === ConnectionState.Closing || code === 1000) {
      this.clearTimers();
      this.setState(ConnectionState.Closed);
      this.closeWaiter?.();
      this.closeWaiter = null;
      return;
    }
    if (FATAL_CLOSE_CODES.has(code)) {
      this.clearTimers();
      this.setState(ConnectionState.Failed);
      return;
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.stopKeepAlive();
    if (this.stateValue === ConnectionState.Closing || this.stateValue === ConnectionState.Closed) {
      return;
    }
    if (this.attempts >= this.policy.maxAttempts) {
      this.setState(ConnectionState.Failed);
      return;
    }
    const delayMs = Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** this.attempts);
    this.attempts += 1;
    this.setState(ConnectionState.Reconnecting);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect(ConnectionState.Reconnecting);
    }, delayMs);
  }

  private transmit(bytes: Uint8Array): void {
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    this.socket?.send(buffer as ArrayBuffer);
    this.lastSendAt = Date.now();
  }

  private startKeepAlive(): void {
    this.stopKeepAlive();
    const everyMs = this.options.keepAliveMs ?? 5000;
    this.keepAliveTimer = setInterval(() => {
      if (this.stateValue === ConnectionState.Open && Date.now() - this.lastSendAt >= everyMs) {
        this.socket?.send(KEEP_ALIVE);
        this.lastSendAt = Date.now();
      }
    }, everyMs);
  }

  private stopKeepAlive(): void {
    if (this.keepAliveTimer) clearInterval(this.keepAliveTimer);
    this.keepAliveTimer = null;
  }

  private clearTimers(): void {
    this.stopKeepAlive();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  private detach(): void {
    if (!this.socket) return;
    this.socket.onopen = null;
    this.socket.onmessage = null;
    this.socket.onclose = null;
    this.socket.onerror = null;
    this.socket = null;
  }

  private setState(state: ConnectionState): void {
    if (state === this.stateValue) return;
    this.stateValue = state;
    this.emit('state', state);
  }

  private emit<K extends keyof LiveClientEvents>(
    event: K,
    ...args: Parameters<LiveClientEvents[K]>
  ): void {
    for (const listener of this.listeners[event]) {
      (listener as (...a: Parameters<LiveClientEvents[K]>) => void)(...args);
    }
  }
}
