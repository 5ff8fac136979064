import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ConnectionState, ListenClient, isFatalClose, type SocketLike } from "@/lib/listen";
import type { CaptionSnapshot } from "@/lib/captions";

class FakeSocket implements SocketLike {
  static all: FakeSocket[] = [];
  binaryType = "blob";
  readyState = 0;
  sent: (string | ArrayBuffer)[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;

  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {
    FakeSocket.all.push(this);
  }

  send(data: string | ArrayBuffer | ArrayBufferView): void {
    if (this.readyState !== 1) throw new Error("send on a socket that is not open");
    this.sent.push(typeof data === "string" ? data : (data as ArrayBuffer));
  }

  close(code = 1000, reason = ""): void {
    this.drop(code, reason);
  }

  // ---- what the server does
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  emit(message: object): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }

  drop(code: number, reason = ""): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  get texts(): string[] {
    return this.sent.filter((d): d is string => typeof d === "string");
  }

  get frames(): number[] {
    return this.sent.filter((d): d is ArrayBuffer => typeof d !== "string").map((b) => new Int32Array(b)[0] ?? -1);
  }
}

function frame(seq: number): ArrayBuffer {
  const buf = new ArrayBuffer(3200);
  new Int32Array(buf)[0] = seq; // tag the frame so the test can tell which one was sent
  return buf;
}

function results(isFinal: boolean, start: number, duration: number, words: [string, number | null][], extra: object = {}) {
  return {
    type: "Results",
    is_final: isFinal,
    speech_final: isFinal,
    start,
    duration,
    channel: {
      alternatives: [
        {
          transcript: words.map((w) => w[0]).join(" "),
          confidence: 0.9,
          words: words.map(([w, speaker], i) => ({ word: w.toLowerCase(), punctuated_word: w, start: start + i * 0.3, end: start + i * 0.3 + 0.25, confidence: 0.9, speaker })),
        },
      ],
    },
    ...extra,
  };
}

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

function makeClient(extra: Partial<ConstructorParameters<typeof ListenClient>[0]> = {}) {
  const states: ConnectionState[] = [];
  let captions: CaptionSnapshot = { finals: [], interim: null };
  let tokens = 0;
  const client = new ListenClient(
    {
      url: "ws://gateway.test/v1/listen",
      getToken: async () => `grant-${++tokens}`,
      createSocket: (url, protocols) => new FakeSocket(url, protocols),
      reconnectDelaysMs: [100, 200],
      ...extra,
    },
    { onState: (s) => states.push(s), onCaptions: (c) => (captions = c) },
  );
  return { client, states, captions: () => captions };
}

beforeEach(() => {
  FakeSocket.all = [];
  vi.useFakeTimers();
});
afterEach(() => vi.useRealTimers());

describe("ListenClient", () => {
  it("connects with Deepgram parameters and the token subprotocol", async () => {
    const { client, states } = makeClient({ params: { language: "de" } });
    client.start();
    await flush();
    const sock = FakeSocket.all[0]!;
    const url = new URL(sock.url);
    expect(url.pathname).toBe("/v1/listen");
    expect(url.searchParams.get("encoding")).toBe("linear16");
    expect(url.searchParams.get("sample_rate")).toBe("16000");
    expect(url.searchParams.get("channels")).toBe("1");
    expect(url.searchParams.get("interim_results")).toBe("true");
    expect(url.searchParams.get("diarize")).toBe("true");
    expect(url.searchParams.get("language")).toBe("de");
    expect(url.searchParams.has("session_id")).toBe(false);
    expect(sock.protocols).toEqual(["token", "grant-1"]);
    expect(sock.binaryType).toBe("arraybuffer");
    sock.open();
    expect(states).toEqual([ConnectionState.Connecting, ConnectionState.Open]);
  });

  it("sends frames captured before the socket opened, then live ones", async () => {
    const { client } = makeClient();
    client.start();
    client.sendFrame(frame(0));
    client.sendFrame(frame(1));
    await flush();
    const sock = FakeSocket.all[0]!;
    sock.open();
    client.sendFrame(frame(2));
    expect(sock.frames).toEqual([0, 1, 2]);
    expect(client.framesSent).toBe(3);
  });

  it("replaces interim text in place and appends finals with speakers", async () => {
    const { client, captions } = makeClient();
    client.start();
    await flush();
    const sock = FakeSocket.all[0]!;
    sock.open();
    sock.emit({ type: "Metadata", session_id: "s1", request_id: "r1" });
    expect(client.sessionId).toBe("s1");
    sock.emit(results(false, 0, 1, [["Hello", null]]));
    expect(captions().interim?.transcript).toBe("Hello");
    sock.emit(results(false, 0, 1.5, [["Hello", null], ["there", null]]));
    expect(captions().interim?.transcript).toBe("Hello there");
    expect(captions().finals).toHaveLength(0);
    sock.emit(results(true, 0, 2, [["Hello", 0], ["there.", 0]]));
    expect(captions().interim).toBeNull();
    expect(captions().finals.map((f) => f.transcript)).toEqual(["Hello there."]);
    sock.emit(results(false, 2, 0.5, [["How", null]]));
    sock.emit(results(true, 2, 1, [["How", 1], ["are", 1], ["you?", 1]]));
    expect(captions().finals.map((f) => f.transcript)).toEqual(["Hello there.", "How are you?"]);
    expect(captions().finals[1]?.words.map((w) => w.speaker)).toEqual([1, 1, 1]);
    expect(captions().finals[1]?.index).toBe(1);
  });

  it("applies SpeakerUpdate to the named final", async () => {
    const { client, captions } = makeClient();
    client.start();
    await flush();
    const sock = FakeSocket.all[0]!;
    sock.open();
    sock.emit(results(true, 0, 1, [["One", null], ["two", null]], { final_index: 0 }));
    sock.emit(results(true, 1, 1, [["Three", null]], { final_index: 1 }));
    sock.emit({ type: "SpeakerUpdate", final_index: 0, speakers: [2, 3] });
    expect(captions().finals[0]?.words.map((w) => w.speaker)).toEqual([2, 3]);
    expect(captions().finals[1]?.words.map((w) => w.speaker)).toEqual([null]);
  });

  it("reconnects to the same session and resends from the first unacknowledged frame", async () => {
    const { client, states, captions } = makeClient();
    client.start();
    await flush();
    const first = FakeSocket.all[0]!;
    first.open();
    first.emit({ type: "Metadata", session_id: "sess-42" });
    for (let seq = 0; seq < 10; seq++) client.sendFrame(frame(seq));
    // Results up to 0.5 s: frames 0..4 are acknowledged.
    first.emit(results(true, 0, 0.5, [["Hi", 0]], { final_index: 0 }));
    expect(client.unacknowledged).toBe(5);
    expect(client.resumeSeq).toBe(5);
    first.drop(1006, "network");
    expect(states.at(-1)).toBe(ConnectionState.Reconnecting);
    client.sendFrame(frame(10)); // captured while offline: buffered
    await vi.advanceTimersByTimeAsync(100);
    const second = FakeSocket.all[1]!;
    const url = new URL(second.url);
    expect(url.searchParams.get("session_id")).toBe("sess-42");
    expect(url.searchParams.get("resume_seq")).toBe("5");
    expect(url.searchParams.get("resume_final")).toBe("1"); // finals 0..0 are here already
    expect(second.protocols).toEqual(["token", "grant-2"]); // a fresh grant per connection
    second.open();
    expect(second.frames).toEqual([5, 6, 7, 8, 9, 10]);
    expect(states.at(-1)).toBe(ConnectionState.Open);
    // The server repeats final 0 after the resume: it is not shown twice.
    second.emit(results(true, 0, 0.5, [["Hi", 0]], { final_index: 0 }));
    second.emit(results(true, 0.5, 0.6, [["again", 0]], { final_index: 1 }));
    expect(captions().finals.map((f) => f.transcript)).toEqual(["Hi", "again"]);
    client.sendFrame(frame(11));
    expect(second.frames.at(-1)).toBe(11);
  });

  it("keeps a bounded buffer while offline", async () => {
    const { client } = makeClient({ bufferFrames: 5 });
    client.start();
    await flush();
    FakeSocket.all[0]!.open();
    FakeSocket.all[0]!.emit({ type: "Metadata", session_id: "s" });
    FakeSocket.all[0]!.drop(1006);
    for (let seq = 0; seq < 12; seq++) client.sendFrame(frame(seq));
    expect(client.unacknowledged).toBe(5);
    expect(client.resumeSeq).toBe(7);
    await vi.advanceTimersByTimeAsync(100);
    FakeSocket.all[1]!.open();
    expect(FakeSocket.all[1]!.frames).toEqual([7, 8, 9, 10, 11]);
  });

  it("classifies close codes: fatal ones stop, transient ones reconnect", () => {
    for (const code of [1003, 1007, 1008, 1009, 4000, 4001, 4002, 4003]) expect(isFatalClose(code)).toBe(true);
    for (const code of [1000, 1001, 1006, 1011, 1013]) expect(isFatalClose(code)).toBe(false);
  });

  it("numbers frames as the server does when the buffer overflowed before the first connection", async () => {
    const { client } = makeClient({ bufferFrames: 5 });
    for (let seq = 0; seq < 12; seq++) client.sendFrame(frame(seq)); // 0..6 are lost before any socket
    client.start();
    await flush();
    const first = FakeSocket.all[0]!;
    first.open();
    expect(first.frames).toEqual([7, 8, 9, 10, 11]); // the server calls these 0..4
    first.emit({ type: "Metadata", session_id: "s" });
    first.emit(results(false, 0, 0.2, [["Hi", null]])); // covers server frames 0 and 1
    expect(client.unacknowledged).toBe(3);
    expect(client.resumeSeq).toBe(2);
    first.drop(1006);
    await vi.advanceTimersByTimeAsync(100);
    expect(new URL(FakeSocket.all[1]!.url).searchParams.get("resume_seq")).toBe("2");
    FakeSocket.all[1]!.open();
    expect(FakeSocket.all[1]!.frames).toEqual([9, 10, 11]);
  });

  it("does not reconnect after a fatal close (auth or policy)", async () => {
    const { client, states } = makeClient();
    client.start();
    await flush();
    FakeSocket.all[0]!.drop(1008, "invalid token");
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(client.state).toBe(ConnectionState.Failed);
    expect(states.at(-1)).toBe(ConnectionState.Failed);
  });

  it("gives up after the allowed number of attempts", async () => {
    const { client } = makeClient({ maxReconnectAttempts: 2 });
    client.start();
    await flush();
    FakeSocket.all[0]!.drop(1006);
    await vi.advanceTimersByTimeAsync(100);
    FakeSocket.all[1]!.drop(1006);
    await vi.advanceTimersByTimeAsync(200);
    FakeSocket.all[2]!.drop(1006);
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeSocket.all).toHaveLength(3);
    expect(client.state).toBe(ConnectionState.Failed);
  });

  it("stops with Finalize then CloseStream and settles when the server closes", async () => {
    const { client, captions } = makeClient();
    client.start();
    await flush();
    const sock = FakeSocket.all[0]!;
    sock.open();
    client.sendFrame(frame(0));
    const done = client.finish();
    expect(sock.texts).toEqual([JSON.stringify({ type: "Finalize" }), JSON.stringify({ type: "CloseStream" })]);
    expect(client.state).toBe(ConnectionState.Closing);
    client.sendFrame(frame(1)); // ignored after stop
    expect(sock.frames).toEqual([0]);
    sock.emit(results(true, 0, 0.1, [["Bye.", 0]], { from_finalize: true }));
    sock.drop(1000);
    await done;
    expect(client.state).toBe(ConnectionState.Closed);
    expect(captions().finals.map((f) => f.transcript)).toEqual(["Bye."]);
  });

  it("finishing while reconnecting resends the buffer first, then Finalize and CloseStream", async () => {
    const { client } = makeClient();
    client.start();
    await flush();
    FakeSocket.all[0]!.open();
    FakeSocket.all[0]!.emit({ type: "Metadata", session_id: "s" });
    client.sendFrame(frame(0));
    FakeSocket.all[0]!.drop(1011, "server restart");
    const done = client.finish();
    await vi.advanceTimersByTimeAsync(100);
    const sock = FakeSocket.all[1]!;
    sock.open();
    expect(sock.sent.map((d) => (typeof d === "string" ? JSON.parse(d).type : new Int32Array(d)[0]))).toEqual([0, "Finalize", "CloseStream"]);
    sock.drop(1000);
    await done;
    expect(client.state).toBe(ConnectionState.Closed);
  });

  it("sends KeepAlive when no audio has gone out for a while", async () => {
    const { client } = makeClient({ keepAliveIntervalMs: 1000 });
    client.start();
    await flush();
    const sock = FakeSocket.all[0]!;
    sock.open();
    await vi.advanceTimersByTimeAsync(2500);
    expect(sock.texts.filter((t) => JSON.parse(t).type === "KeepAlive").length).toBeGreaterThanOrEqual(1);
  });

  it("passes server warnings on", async () => {
    const warnings: string[] = [];
    const client = new ListenClient(
      { url: "ws://x/v1/listen", getToken: async () => "t", createSocket: (u, p) => new FakeSocket(u, p) },
      { onWarning: (w) => warnings.push(`${w.code}: ${w.message}`) },
    );
    client.start();
    await flush();
    FakeSocket.all[0]!.open();
    FakeSocket.all[0]!.emit({ type: "Warning", code: "slow_worker", message: "Transcription is behind." });
    expect(warnings).toEqual(["slow_worker: Transcription is behind."]);
  });
});
