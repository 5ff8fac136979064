import { ApiClient, type HttpFetch } from './api/client';
import { TokenStore } from './auth/tokenStore';
import type { AudioSource } from './capture/audioSource';
import type { AppConfig } from './config';
import { LiveClient, type SocketFactory } from './live/liveClient';
import type { Connectivity } from './offline/connectivity';
import type { RecordingFiles } from './offline/recordingFiles';
import { RecordingQueue } from './offline/recordingQueue';
import { Recorder } from './recording/recorder';
import type { KeyValueStore } from './storage/keyValueStore';

/** The outside world the app talks to: the phone's parts, or fakes of them in tests. */
export interface Platform {
  fetch: HttpFetch;
  openSocket: SocketFactory;
  audioSource: () => AudioSource;
  files: RecordingFiles;
  /** For the queue (AsyncStorage). */
  store: KeyValueStore;
  /** For tokens (SecureStore on a phone). */
  secureStore: KeyValueStore;
  connectivity: Connectivity;
}

/** Everything the screens use, built once. */
export interface Services {
  config: AppConfig;
  api: ApiClient;
  tokens: TokenStore;
  queue: RecordingQueue;
  connectivity: Connectivity;
  createRecorder: () => Recorder;
}

export async function createServices(config: AppConfig, platform: Platform): Promise<Services> {
  const tokens = new TokenStore(platform.secureStore);
  await tokens.load();
  const api = new ApiClient(config.apiUrl, tokens, platform.fetch);
  const queue = await RecordingQueue.open({
    store: platform.store,
    files: platform.files,
    upload: async (item) => {
      const session = await api.uploadRecording(
        { uri: item.uri, name: `${item.id}.wav`, type: 'audio/wav' },
        item.title,
      );
      return session.id;
    },
  });
  const createLiveClient = () =>
    new LiveClient({
      listenUrl: config.listenUrl,
      grantToken: async () => (await api.grantListenToken()).access_token,
      openSocket: platform.openSocket,
      listen: { diarize: true, punctuate: true, smartFormat: true },
    });
  return {
    config,
    api,
    tokens,
    queue,
    connectivity: platform.connectivity,
    createRecorder: () =>
      new Recorder({
        source: platform.audioSource(),
        files: platform.files,
        queue,
        isOnline: () => platform.connectivity.isOnline(),
        createLiveClient,
      }),
  };
}
