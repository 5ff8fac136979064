import type { SocketFactory, SocketLike } from '../../src/live/liveClient';

/** A WebSocket the test drives as the server would: open it, send it messages, close it. */
export class FakeSocket implements SocketLike {
  binaryType?: string;
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  readonly sentText: string[] = [];
  readonly sentFrames: Uint8Array[] = [];
  closedByClient: { code?: number; reason?: string } | null = null;

  constructor(
    readonly url: string,
    readonly headers: Record<string, string>,
  ) {}

  send(data: string | ArrayBuffer): void {
    if (typeof data === 'string') this.sentText.push(data);
    else this.sentFrames.push(new Uint8Array(data));
  }

  close(code?: number, reason?: string): void {
    this.closedByClient = { code, reason };
  }

  // ---- the server's side
  open(): void {
    this.onopen?.();
  }

  receive(message: object): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }

  serverClose(code: number, reason = ''): void {
    this.onclose?.({ code, reason });
  }

  get query(): URLSearchParams {
    return new URLSearchParams(this.url.split('?')[1] ?? '');
  }
}

/** Hands out FakeSockets and remembers them in order. */
export class FakeSocketServer {
  readonly sockets: FakeSocket[] = [];

  readonly factory: SocketFactory = (url, headers) => {
    const socket = new FakeSocket(url, headers);
    this.sockets.push(socket);
    return socket;
  };

  get last(): FakeSocket {
    const socket = this.sockets[this.sockets.length - 1];
    if (!socket) throw new Error('no socket was opened');
    return socket;
  }
}

/** A Deepgram `Results` message. */
export function results(
  transcript: string,
  options: { isFinal: boolean; speakers?: number[]; start?: number; index?: number },
): object {
  const words = transcript
    .split(/\s+/)
    .filter(Boolean)
    .map((word, i) => ({
      word: word.toLowerCase().replace(/[^a-z']/g, ''),
      punctuated_word: word,
      start: (options.start ?? 0) + i * 0.3,
      end: (options.start ?? 0) + i * 0.3 + 0.25,
      confidence: 0.9,
      ...(options.speakers ? { speaker: options.speakers[i] } : {}),
    }));
  return {
    type: 'Results',
    channel_index: [0, 1],
    duration: words.length * 0.3,
    start: options.start ?? 0,
    is_final: options.isFinal,
    speech_final: options.isFinal,
    ...(options.index !== undefined ? { index: options.index } : {}),
    channel: { alternatives: [{ transcript, confidence: 0.9, words }] },
  };
}

export function frame(fill: number): Uint8Array {
  return new Uint8Array(3200).fill(fill);
}
