import AsyncStorage from '@react-native-async-storage/async-storage';

import { ConnectionState, LiveClient } from '../src/live/liveClient';
import { QueueItemState, RecordingQueue } from '../src/offline/recordingQueue';
import { WAV_HEADER_BYTES } from '../src/offline/wav';
import { Recorder, RecorderMode } from '../src/recording/recorder';
import { FakeSocketServer, frame, results } from './support/fakeSocket';
import { FakeAudioSource, MemoryRecordingFiles, flush } from './support/fakes';

async function setup(online: boolean) {
  await AsyncStorage.clear();
  const files = new MemoryRecordingFiles();
  const uploads: string[] = [];
  const queue = await RecordingQueue.open({
    store: AsyncStorage,
    files,
    upload: async (item) => {
      uploads.push(item.id);
      return `session-${item.id}`;
    },
  });
  const server = new FakeSocketServer();
  const source = new FakeAudioSource();
  const recorder = new Recorder({
    source,
    files,
    queue,
    isOnline: async () => online,
    newId: () => 'rec-1',
    createLiveClient: () =>
      new LiveClient({
        listenUrl: 'ws://gw.test/v1/listen',
        grantToken: async () => 'grant',
        openSocket: server.factory,
        reconnect: { maxAttempts: 1, baseDelayMs: 10, maxDelayMs: 10 },
      }),
  });
  return { files, queue, server, source, recorder, uploads };
}

describe('Recorder', () => {
  it('streams live when online', async () => {
    const { server, source, recorder, queue } = await setup(true);
    await recorder.start();
    expect(recorder.mode).toBe(RecorderMode.Live);
    server.last.open();
    source.play(frame(1));
    server.last.receive(results('Hello.', { isFinal: true }));
    expect(server.last.sentFrames).toHaveLength(1);
    expect(recorder.liveClient?.captions.finals[0]?.text).toBe('Hello.');
    const stopped = recorder.stop();
    await flush();
    server.last.serverClose(1000);
    await stopped;
    expect(recorder.mode).toBe(RecorderMode.Idle);
    expect(queue.all).toHaveLength(0);
  });

  it('records to a queued WAV file when offline', async () => {
    const { files, source, recorder, queue, server } = await setup(false);
    await recorder.start();
    expect(recorder.mode).toBe(RecorderMode.Offline);
    expect(queue.all[0]?.state).toBe(QueueItemState.Recording);
    source.play(frame(1));
    source.play(frame(2));
    await recorder.stop();
    expect(server.sockets).toHaveLength(0);
    expect(queue.all[0]).toMatchObject({ id: 'rec-1', state: QueueItemState.Pending });
    expect(queue.all[0]?.durationS).toBeCloseTo(0.2);
    const wav = files.contents.get(queue.all[0]!.uri)!;
    expect(wav.length).toBe(WAV_HEADER_BYTES + 6400);
    expect(String.fromCharCode(...wav.slice(0, 4))).toBe('RIFF');
    expect([wav[WAV_HEADER_BYTES], wav[WAV_HEADER_BYTES + 3200]]).toEqual([1, 2]);
  });

  it('falls back to a file when the live stream fails, keeping the frames not yet sent', async () => {
    jest.useFakeTimers();
    try {
      const { files, source, recorder, queue, server } = await setup(true);
      await recorder.start();
      server.last.open();
      server.last.receive({ type: 'Metadata', session_id: 's' });
      source.play(frame(1)); // sent live
      server.last.serverClose(1006);
      source.play(frame(2)); // unsent
      jest.advanceTimersByTime(10);
      await flush();
      server.last.serverClose(1006); // the one retry fails too
      await flush(30);
      expect(recorder.liveClient?.state).toBe(ConnectionState.Failed);
      expect(recorder.mode).toBe(RecorderMode.Offline);
      source.play(frame(3));
      await recorder.stop();
      const wav = files.contents.get(queue.all[0]!.uri)!;
      expect(wav.length).toBe(WAV_HEADER_BYTES + 6400);
      expect([wav[WAV_HEADER_BYTES], wav[WAV_HEADER_BYTES + 3200]]).toEqual([2, 3]);
      expect(queue.all[0]?.state).toBe(QueueItemState.Pending);
    } finally {
      jest.useRealTimers();
    }
  });
});
