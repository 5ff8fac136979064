import type { AudioSource } from '../capture/audioSource';
import { ConnectionState, type LiveClient } from '../live/liveClient';
import type { RecordingFiles, RecordingWriter } from '../offline/recordingFiles';
import type { RecordingQueue } from '../offline/recordingQueue';

/** Where the audio of the current recording goes. */
export enum RecorderMode {
  Idle = 'idle',
  /** Streamed to /v1/listen with live captions. */
  Live = 'live',
  /** Written to a file and queued for upload (no connection, or the stream failed). */
  Offline = 'offline',
}

export interface RecorderDeps {
  source: AudioSource;
  files: RecordingFiles;
  queue: RecordingQueue;
  isOnline: () => Promise<boolean>;
  createLiveClient: () => LiveClient;
  newId?: () => string;
  now?: () => Date;
}

type Listener = (mode: RecorderMode, live: LiveClient | null) => void;

function defaultId(): string {
  return `rec-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * One recording from start to stop: streams live when it can, falls back to a queued file when it
 * cannot (at start, or when the stream fails part-way: frames not yet sent go to the file too).
 */
export class Recorder {
  private modeValue = RecorderMode.Idle;
  private live: LiveClient | null = null;
  private writer: RecordingWriter | null = null;
  private fileId: string | null = null;
  /** Frames are written in order, one write at a time. */
  private writing: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<Listener>();

  constructor(private readonly deps: RecorderDeps) {}

  get mode(): RecorderMode {
    return this.modeValue;
  }

  get liveClient(): LiveClient | null {
    return this.live;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<void> {
    if (this.modeValue !== RecorderMode.Idle) return;
    if (await this.deps.isOnline()) {
      const live = this.deps.createLiveClient();
      this.live = live;
      live.on('state', (state) => {
        if (state === ConnectionState.Failed && this.modeValue === RecorderMode.Live) {
          void this.fallBackToFile(live.unsentFrames());
        }
      });
      this.setMode(RecorderMode.Live);
      await live.start();
    } else {
      await this.openFile([]);
    }
    try {
      await this.deps.source.start((frame) => this.onFrame(frame));
    } catch (error) {
      await this.finish();
      throw error;
    }
  }

  async stop(): Promise<void> {
    if (this.modeValue === RecorderMode.Idle) return;
    await this.deps.source.stop();
    await this.finish();
  }

  private onFrame(frame: Uint8Array): void {
    if (this.modeValue === RecorderMode.Live && this.live) {
      this.live.sendFrame(frame);
    } else if (this.modeValue === RecorderMode.Offline) {
      this.writing = this.writing.then(() => this.writer?.append(frame));
    }
  }

  private async fallBackToFile(unsent: Uint8Array[]): Promise<void> {
    await this.openFile(unsent);
  }

  private async openFile(initial: Uint8Array[]): Promise<void> {
    this.setMode(RecorderMode.Offline);
    const id = (this.deps.newId ?? defaultId)();
    this.fileId = id;
    this.writing = this.writing.then(async () => {
      const writer = await this.deps.files.create(id);
      const title = `Recording ${(this.deps.now?.() ?? new Date()).toLocaleString()}`;
      await this.deps.queue.addRecording(id, writer.uri, title);
      for (const frame of initial) await writer.append(frame);
      this.writer = writer;
    });
    await this.writing;
  }

  private async finish(): Promise<void> {
    const mode = this.modeValue;
    if (mode === RecorderMode.Live && this.live) {
      const live = this.live;
      const unsent = live.state === ConnectionState.Open ? [] : live.unsentFrames();
      await live.stop();
      // Stopped while reconnecting: what the server never got is kept as a file.
      if (unsent.length > 0) await this.openFile(unsent);
    }
    await this.writing;
    if (this.writer && this.fileId) {
      const bytes = await this.writer.close();
      await this.deps.queue.finishRecording(this.fileId, bytes);
    }
    this.writer = null;
    this.fileId = null;
    this.setMode(RecorderMode.Idle);
  }

  private setMode(mode: RecorderMode): void {
    this.modeValue = mode;
    for (const listener of this.listeners) listener(mode, this.live);
  }
}
