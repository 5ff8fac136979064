import { ApiError, describeError } from '../api/errors';
import type { KeyValueStore } from '../storage/keyValueStore';
import type { RecordingFiles } from './recordingFiles';
import { pcmDurationS } from './wav';

const QUEUE_KEY = 'ayka.recording-queue.v1';

/** What happened to an offline recording so far (the user sees this). */
export enum QueueItemState {
  /** Still being written. */
  Recording = 'recording',
  /** Waiting for a connection. */
  Pending = 'pending',
  Uploading = 'uploading',
  /** The last upload failed; it is tried again at `nextAttemptAt`. */
  RetryWaiting = 'retry_waiting',
  /** The server refused it (a 4xx); retried only when the user asks. */
  Rejected = 'rejected',
  Uploaded = 'uploaded',
}

export interface QueueItem {
  id: string;
  uri: string;
  title: string;
  createdAt: string;
  durationS: number;
  state: QueueItemState;
  attempts: number;
  lastError: string | null;
  /** Epoch milliseconds of the next automatic upload attempt. */
  nextAttemptAt: number | null;
  /** The session the gateway created for it, once uploaded. */
  sessionId: string | null;
}

/** Uploads one recording; resolves with the id of the session the gateway created. */
export type Uploader = (item: QueueItem) => Promise<string>;

export interface BackoffPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface RecordingQueueOptions {
  store: KeyValueStore;
  files: RecordingFiles;
  upload: Uploader;
  backoff?: Partial<BackoffPolicy>;
  now?: () => number;
}

type Listener = (items: QueueItem[]) => void;

/**
 * Offline recordings waiting for upload. Every change is written to the store before it is
 * announced, so a killed app finds the queue as it was; an upload cut short is tried again.
 */
export class RecordingQueue {
  private items: QueueItem[] = [];
  private online = false;
  private draining: Promise<void> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private saving: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<Listener>();
  private readonly backoff: BackoffPolicy;
  private readonly now: () => number;

  private constructor(private readonly options: RecordingQueueOptions) {
    this.backoff = { baseDelayMs: 2000, maxDelayMs: 5 * 60_000, ...options.backoff };
    this.now = options.now ?? Date.now;
  }

  /** Loads the saved queue and repairs what a killed app left behind. */
  static async open(options: RecordingQueueOptions): Promise<RecordingQueue> {
    const queue = new RecordingQueue(options);
    const raw = await options.store.getItem(QUEUE_KEY);
    queue.items = raw ? (JSON.parse(raw) as QueueItem[]) : [];
    for (const item of queue.items) {
      if (item.state === QueueItemState.Uploading) item.state = QueueItemState.Pending;
      if (item.state === QueueItemState.Recording) {
        const bytes = await options.files.repair(item.uri);
        if (bytes === null) {
          item.state = QueueItemState.Rejected;
          item.lastError = 'The recording file is gone.';
        } else {
          item.state = QueueItemState.Pending;
          item.durationS = pcmDurationS(bytes);
        }
      }
    }
    await queue.save();
    return queue;
  }

  get all(): QueueItem[] {
    return this.items;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Registers a recording that is being written now (so a crash mid-recording keeps it). */
  async addRecording(id: string, uri: string, title: string): Promise<void> {
    this.items = [
      ...this.items,
      {
        id,
        uri,
        title,
        createdAt: new Date(this.now()).toISOString(),
        durationS: 0,
        state: QueueItemState.Recording,
        attempts: 0,
        lastError: null,
        nextAttemptAt: null,
        sessionId: null,
      },
    ];
    await this.commit();
  }

  /** The recording is complete: queue it for upload (now, if online). */
  async finishRecording(id: string, pcmBytes: number): Promise<void> {
    this.update(id, { state: QueueItemState.Pending, durationS: pcmDurationS(pcmBytes) });
    await this.commit();
    this.kick();
  }

  /** The user asks to try a rejected or waiting item again now. */
  async retry(id: string): Promise<void> {
    this.update(id, { state: QueueItemState.Pending, nextAttemptAt: null });
    await this.commit();
    this.kick();
  }

  /** Forgets an item and deletes its file. */
  async remove(id: string): Promise<void> {
    const item = this.items.find((i) => i.id === id);
    if (!item || item.state === QueueItemState.Uploading) return;
    await this.options.files.remove(item.uri);
    this.items = this.items.filter((i) => i.id !== id);
    await this.commit();
  }

  /** Tells the queue whether the phone is online; coming online starts the uploads. */
  setOnline(online: boolean): void {
    this.online = online;
    if (online) this.kick();
    else this.clearRetryTimer();
  }

  /** Uploads every item that is due, one at a time; resolves when none is left to try now. */
  drain(): Promise<void> {
    if (!this.draining) {
      this.draining = this.drainLoop().finally(() => {
        this.draining = null;
        this.scheduleRetry();
      });
    }
    return this.draining;
  }

  /** Stops the retry timer (the app is going away). */
  close(): void {
    this.clearRetryTimer();
    this.online = false;
  }

  // ---------------------------------------------------------------- internals

  private kick(): void {
    if (this.online) void this.drain();
  }

  private due(): QueueItem | undefined {
    const now = this.now();
    return this.items.find(
      (item) =>
        item.state === QueueItemState.Pending ||
        (item.state === QueueItemState.RetryWaiting && (item.nextAttemptAt ?? 0) <= now),
    );
  }

  private async drainLoop(): Promise<void> {
    for (let item = this.due(); item && this.online; item = this.due()) {
      await this.uploadOne(item);
    }
  }

  private async uploadOne(item: QueueItem): Promise<void> {
    this.update(item.id, { state: QueueItemState.Uploading, attempts: item.attempts + 1 });
    await this.commit();
    try {
      const sessionId = await this.options.upload(item);
      await this.options.files.remove(item.uri);
      this.update(item.id, {
        state: QueueItemState.Uploaded,
        sessionId,
        lastError: null,
        nextAttemptAt: null,
      });
    } catch (error) {
      const attempts = item.attempts + 1;
      if (error instanceof ApiError && !error.retryable) {
        this.update(item.id, { state: QueueItemState.Rejected, lastError: describeError(error) });
      } else {
        const delayMs = Math.min(
          this.backoff.maxDelayMs,
          this.backoff.baseDelayMs * 2 ** (attempts - 1),
        );
        this.update(item.id, {
          state: QueueItemState.RetryWaiting,
          lastError: describeError(error),
          nextAttemptAt: this.now() + delayMs,
        });
      }
    }
    await this.commit();
  }

  private scheduleRetry(): void {
    this.clearRetryTimer();
    if (!this.online) return;
    const waiting = this.items
      .filter((item) => item.state === QueueItemState.RetryWaiting)
      .map((item) => item.nextAttemptAt ?? 0);
    if (waiting.length === 0) return;
    const delayMs = Math.max(0, Math.min(...waiting) - this.now());
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.kick();
    }, delayMs);
  }

  private clearRetryTimer(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private update(id: string, changes: Partial<QueueItem>): void {
    this.items = this.items.map((item) => (item.id === id ? { ...item, ...changes } : item));
  }

  /** Saves, then tells listeners: what they see is always what a restart would find. */
  private async commit(): Promise<void> {
    await this.save();
    for (const listener of this.listeners) listener(this.items);
  }

  private save(): Promise<void> {
    const snapshot = JSON.stringify(this.items);
    this.saving = this.saving.then(() => this.options.store.setItem(QUEUE_KEY, snapshot));
    return this.saving;
  }
}
