import { DEFAULT_API_URL, listenUrlFor, loadConfig } from '../src/config';
import { PushRegistration, registerForPush } from '../src/push/pushRegistration';

describe('loadConfig', () => {
  it('prefers EXPO_PUBLIC_API_URL, then app.json extra, then the default', () => {
    expect(loadConfig({ apiUrl: 'https://a.example/' }, 'https://env.example').apiUrl).toBe(
      'https://env.example',
    );
    expect(loadConfig({ apiUrl: 'https://a.example/' }).apiUrl).toBe('https://a.example');
    expect(loadConfig(undefined).apiUrl).toBe(DEFAULT_API_URL);
  });

  it('derives the live endpoint', () => {
    expect(listenUrlFor('https://gw.example')).toBe('wss://gw.example/v1/listen');
    expect(listenUrlFor('http://10.0.2.2:8000/')).toBe('ws://10.0.2.2:8000/v1/listen');
  });
});

describe('registerForPush', () => {
  it('sends the token with the platform', async () => {
    const sent: [string, string][] = [];
    const api = { registerPushToken: async (t: string, p: string) => void sent.push([t, p]) };
    const result = await registerForPush(api, {
      platform: 'ios',
      expoPushToken: async () => 'ExponentPushToken[1]',
    });
    expect(result).toBe(PushRegistration.Registered);
    expect(sent).toEqual([['ExponentPushToken[1]', 'ios']]);
  });

  it('does nothing without permission or off a phone, and reports a failed request', async () => {
    const api = {
      registerPushToken: async () => {
        throw new Error('down');
      },
    };
    expect(await registerForPush(api, { platform: 'ios', expoPushToken: async () => null })).toBe(
      PushRegistration.Unavailable,
    );
    expect(await registerForPush(api, { platform: null, expoPushToken: async () => 'x' })).toBe(
      PushRegistration.Unavailable,
    );
    expect(await registerForPush(api, { platform: 'android', expoPushToken: async () => 'x' })).toBe(
      PushRegistration.Failed,
    );
  });
});
