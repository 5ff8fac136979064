import AsyncStorage from '@react-native-async-storage/async-storage';
import * as SecureStore from 'expo-secure-store';

import type { HttpFetch } from './api/client';
import { MicrophoneSource } from './capture/microphoneSource';
import type { SocketFactory, SocketLike } from './live/liveClient';
import { deviceConnectivity } from './offline/connectivity';
import { DeviceRecordingFiles } from './offline/deviceRecordingFiles';
import type { Platform } from './services';
import type { KeyValueStore } from './storage/keyValueStore';

/** React Native's WebSocket takes request headers as a third constructor argument. */
type HeaderWebSocket = new (
  url: string,
  protocols: string[] | null,
  options: { headers: Record<string, string> },
) => SocketLike;

const openSocket: SocketFactory = (url, headers) =>
  new (WebSocket as unknown as HeaderWebSocket)(url, null, { headers });

const secureStore: KeyValueStore = {
  getItem: (key) => SecureStore.getItemAsync(key),
  setItem: (key, value) => SecureStore.setItemAsync(key, value),
  removeItem: (key) => SecureStore.deleteItemAsync(key),
};

/** The real phone: fetch, WebSocket, microphone, files, storage and network state. */
export function devicePlatform(): Platform {
  return {
    fetch: ((url, init) => fetch(url, init)) as HttpFetch,
    openSocket,
    audioSource: () => new MicrophoneSource(),
    files: new DeviceRecordingFiles(),
    store: AsyncStorage,
    secureStore,
    connectivity: deviceConnectivity,
  };
}
