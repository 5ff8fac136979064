import AsyncStorage from '@react-native-async-storage/async-storage';

import { loadConfig } from '../../src/config';
import { type Services, createServices } from '../../src/services';
import { MemoryKeyValueStore } from '../../src/storage/keyValueStore';
import { FakeGateway, tokenPair } from './fakeGateway';
import { FakeSocketServer } from './fakeSocket';
import { FakeAudioSource, FakeConnectivity, MemoryRecordingFiles } from './fakes';

export interface TestWorld {
  services: Services;
  gateway: FakeGateway;
  sockets: FakeSocketServer;
  source: FakeAudioSource;
  files: MemoryRecordingFiles;
  connectivity: FakeConnectivity;
}

/** The app's real services, wired to fakes of the outside world only. */
export async function testWorld(
  options: { signedIn?: boolean; online?: boolean; gateway?: FakeGateway } = {},
): Promise<TestWorld> {
  await AsyncStorage.clear();
  const gateway = options.gateway ?? new FakeGateway();
  const sockets = new FakeSocketServer();
  const source = new FakeAudioSource();
  const files = new MemoryRecordingFiles();
  const connectivity = new FakeConnectivity(options.online ?? true);
  const secureStore = new MemoryKeyValueStore();
  if (options.signedIn ?? true) {
    await secureStore.setItem('ayka.tokens.v1', JSON.stringify(tokenPair(1)));
  }
  const services = await createServices(loadConfig({ apiUrl: 'http://gw.test' }), {
    fetch: gateway.fetch,
    openSocket: sockets.factory,
    audioSource: () => source,
    files,
    store: AsyncStorage,
    secureStore,
    connectivity,
  });
  return { services, gateway, sockets, source, files, connectivity };
}
