import AsyncStorage from '@react-native-async-storage/async-storage';

import { ApiError, NetworkError } from '../src/api/errors';
import { type QueueItem, QueueItemState, RecordingQueue, type Uploader } from '../src/offline/recordingQueue';
import { MemoryRecordingFiles, flush } from './support/fakes';

const SECOND_PCM_BYTES = 32_000;

async function recordOffline(queue: RecordingQueue, files: MemoryRecordingFiles, id: string) {
  const writer = await files.create(id);
  await queue.addRecording(id, writer.uri, `Call ${id}`);
  await writer.append(new Uint8Array(SECOND_PCM_BYTES).fill(7));
  await queue.finishRecording(id, await writer.close());
}

function states(queue: RecordingQueue): [string, QueueItemState][] {
  return queue.all.map((item) => [item.id, item.state]);
}

describe('RecordingQueue', () => {
  let now = 1_000_000;
  const clock = () => now;

  beforeEach(async () => {
    now = 1_000_000;
    await AsyncStorage.clear();
  });

  it('keeps recordings across a restart and uploads them when the network returns', async () => {
    const files = new MemoryRecordingFiles();
    const uploaded: QueueItem[] = [];
    const upload: Uploader = async (item) => {
      uploaded.push(item);
      return `session-${item.id}`;
    };

    // First run: offline; two recordings are made, then the app is killed.
    const first = await RecordingQueue.open({ store: AsyncStorage, files, upload, now: clock });
    first.setOnline(false);
    await recordOffline(first, files, 'a');
    await recordOffline(first, files, 'b');
    expect(states(first)).toEqual([
      ['a', QueueItemState.Pending],
      ['b', QueueItemState.Pending],
    ]);
    expect(uploaded).toHaveLength(0);
    first.close();

    // Second run: the queue is read back from storage, nothing is lost.
    const second = await RecordingQueue.open({ store: AsyncStorage, files, upload, now: clock });
    expect(states(second)).toEqual([
      ['a', QueueItemState.Pending],
      ['b', QueueItemState.Pending],
    ]);
    expect(second.all[0]?.durationS).toBeCloseTo(1.0);

    second.setOnline(true);
    await second.drain();
    expect(uploaded.map((i) => i.id)).toEqual(['a', 'b']);
    expect(states(second)).toEqual([
      ['a', QueueItemState.Uploaded],
      ['b', QueueItemState.Uploaded],
    ]);
    expect(second.all.map((i) => i.sessionId)).toEqual(['session-a', 'session-b']);
    expect(files.contents.size).toBe(0); // uploaded files are deleted
    const saved = JSON.parse((await AsyncStorage.getItem('ayka.recording-queue.v1')) ?? '[]') as QueueItem[];
    expect(saved.map((i) => i.state)).toEqual([QueueItemState.Uploaded, QueueItemState.Uploaded]);
  });

  it('finishes a recording the app was killed in the middle of', async () => {
    const files = new MemoryRecordingFiles();
    const upload: Uploader = async () => 'session';
    const first = await RecordingQueue.open({ store: AsyncStorage, files, upload, now: clock });
    const writer = await files.create('cut');
    await first.addRecording('cut', writer.uri, 'Cut short');
    await writer.append(new Uint8Array(SECOND_PCM_BYTES * 2));
    // killed here: no close(), no finishRecording()

    const second = await RecordingQueue.open({ store: AsyncStorage, files, upload, now: clock });
    expect(second.all[0]?.state).toBe(QueueItemState.Pending);
    expect(second.all[0]?.durationS).toBeCloseTo(2.0);
    const header = new DataView(files.contents.get(writer.uri)!.buffer);
    expect(header.getUint32(40, true)).toBe(SECOND_PCM_BYTES * 2); // WAV data size repaired
  });

  it('puts an upload that was cut off by a kill back in line', async () => {
    const files = new MemoryRecordingFiles();
    let finishUpload: (id: string) => void = () => undefined;
    const hanging: Uploader = () => new Promise((resolve) => (finishUpload = resolve));
    const first = await RecordingQueue.open({ store: AsyncStorage, files, upload: hanging, now: clock });
    await recordOffline(first, files, 'x');
    first.setOnline(true);
    await flush();
    expect(first.all[0]?.state).toBe(QueueItemState.Uploading);

    const second = await RecordingQueue.open({
      store: AsyncStorage,
      files,
      upload: async () => 'session-x',
      now: clock,
    });
    expect(second.all[0]?.state).toBe(QueueItemState.Pending);
    second.setOnline(true);
    await second.drain();
    expect(second.all[0]?.state).toBe(QueueItemState.Uploaded);
    first.close();
    finishUpload('late');
    await flush(30);
  });

  it('retries failed uploads with growing delays', async () => {
    jest.useFakeTimers();
    try {
      const files = new MemoryRecordingFiles();
      let failures = 2;
      const attemptsAt: number[] = [];
      const upload: Uploader = async () => {
        attemptsAt.push(now);
        if (failures-- > 0) throw new NetworkError('Network request failed');
        return 'session';
      };
      const queue = await RecordingQueue.open({
        store: AsyncStorage,
        files,
        upload,
        now: clock,
        backoff: { baseDelayMs: 1000, maxDelayMs: 60_000 },
      });
      await recordOffline(queue, files, 'r');
      queue.setOnline(true);
      await queue.drain();
      expect(queue.all[0]).toMatchObject({
        state: QueueItemState.RetryWaiting,
        attempts: 1,
        lastError: 'Network request failed',
        nextAttemptAt: now + 1000,
      });

      now += 1000;
      jest.advanceTimersByTime(1000);
      await flush(30);
      expect(queue.all[0]).toMatchObject({ state: QueueItemState.RetryWaiting, attempts: 2 });
      expect(queue.all[0]?.nextAttemptAt).toBe(now + 2000);

      now += 2000;
      jest.advanceTimersByTime(2000);
      await flush(30);
      expect(queue.all[0]).toMatchObject({ state: QueueItemState.Uploaded, attempts: 3 });
      expect(attemptsAt).toEqual([1_000_000, 1_001_000, 1_003_000]);
      queue.close();
    } finally {
      jest.useRealTimers();
    }
  });

  it('does not retry by itself what the server refused, until the user asks', async () => {
    const files = new MemoryRecordingFiles();
    let refuse = true;
    const upload: Uploader = async () => {
      if (refuse) throw new ApiError(415, 'unsupported_media_type', 'Not an audio file.');
      return 'session';
    };
    const queue = await RecordingQueue.open({ store: AsyncStorage, files, upload, now: clock });
    await recordOffline(queue, files, 'bad');
    queue.setOnline(true);
    await queue.drain();
    expect(queue.all[0]).toMatchObject({ state: QueueItemState.Rejected, lastError: 'Not an audio file.' });
    refuse = false;
    await queue.drain();
    expect(queue.all[0]?.state).toBe(QueueItemState.Rejected);
    await queue.retry('bad');
    await queue.drain();
    expect(queue.all[0]?.state).toBe(QueueItemState.Uploaded);
    queue.close();
  });
});
