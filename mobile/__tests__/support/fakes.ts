import type { AudioSource, FrameSink } from '../../src/capture/audioSource';
import type { Connectivity } from '../../src/offline/connectivity';
import type { RecordingFiles, RecordingWriter } from '../../src/offline/recordingFiles';
import { WAV_HEADER_BYTES, wavHeader } from '../../src/offline/wav';

/** The phone's disk, in memory; it outlives a simulated app restart when the test keeps it. */
export class MemoryRecordingFiles implements RecordingFiles {
  readonly contents = new Map<string, Uint8Array>();

  async create(name: string): Promise<RecordingWriter> {
    const uri = `file:///recordings/${name}.wav`;
    this.contents.set(uri, wavHeader(0));
    const files = this.contents;
    let written = 0;
    return {
      uri,
      async append(pcm) {
        const old = files.get(uri) ?? new Uint8Array(0);
        const next = new Uint8Array(old.length + pcm.length);
        next.set(old, 0);
        next.set(pcm, old.length);
        files.set(uri, next);
        written += pcm.length;
      },
      async close() {
        const data = files.get(uri) ?? new Uint8Array(WAV_HEADER_BYTES);
        data.set(wavHeader(written), 0);
        return written;
      },
    };
  }

  async repair(uri: string): Promise<number | null> {
    const data = this.contents.get(uri);
    if (!data) return null;
    const bytes = data.length - WAV_HEADER_BYTES;
    data.set(wavHeader(bytes), 0);
    return bytes;
  }

  async remove(uri: string): Promise<void> {
    this.contents.delete(uri);
  }
}

/** A microphone the test plays frames through. */
export class FakeAudioSource implements AudioSource {
  private sink: FrameSink | null = null;
  started = false;

  async start(sink: FrameSink): Promise<void> {
    this.sink = sink;
    this.started = true;
  }

  async stop(): Promise<void> {
    this.sink = null;
    this.started = false;
  }

  play(frame: Uint8Array): void {
    if (!this.sink) throw new Error('the source is not started');
    this.sink(frame);
  }
}

/** The network switch, flipped by the test. */
export class FakeConnectivity implements Connectivity {
  private listeners = new Set<(online: boolean) => void>();

  constructor(public online: boolean) {}

  async isOnline(): Promise<boolean> {
    return this.online;
  }

  subscribe(listener: (online: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  set(online: boolean): void {
    this.online = online;
    for (const listener of this.listeners) listener(online);
  }
}

/** Lets pending promise callbacks run (several rounds: chains of awaits). */
export async function flush(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await Promise.resolve();
}
