import AsyncStorage from '@react-native-async-storage/async-storage';

import { ApiClient } from '../src/api/client';
import { ApiError, NetworkError, SignedOutError } from '../src/api/errors';
import { TokenStore } from '../src/auth/tokenStore';
import { FakeGateway, tokenPair, unauthorized } from './support/fakeGateway';

async function signedInClient(gateway: FakeGateway) {
  const tokens = new TokenStore(AsyncStorage);
  await tokens.save(tokenPair(1));
  return { tokens, api: new ApiClient('http://gw.test/', tokens, gateway.fetch) };
}

describe('ApiClient', () => {
  beforeEach(() => AsyncStorage.clear());

  it('logs in and keeps the token pair across a restart', async () => {
    const gateway = new FakeGateway().on('POST /v1/auth/login', { status: 200, body: tokenPair(1) });
    const tokens = new TokenStore(AsyncStorage);
    await new ApiClient('http://gw.test', tokens, gateway.fetch).login('a@b.c', 'pw');
    expect(gateway.calls[0]?.body).toEqual({ email: 'a@b.c', password: 'pw' });
    expect(gateway.calls[0]?.headers.Authorization).toBeUndefined();
    const afterRestart = new TokenStore(AsyncStorage);
    expect((await afterRestart.load())?.refresh_token).toBe('refresh-1');
  });

  it('refreshes an expired access token once and retries the call', async () => {
    const gateway = new FakeGateway()
      .on('GET /v1/leads', (call) =>
        call.headers.Authorization === 'Bearer access-2'
          ? { status: 200, body: { items: [] } }
          : unauthorized,
      )
      .on('POST /v1/auth/refresh', { status: 200, body: tokenPair(2) });
    const { api, tokens } = await signedInClient(gateway);
    await expect(api.listLeads()).resolves.toEqual({ items: [] });
    expect(gateway.calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'GET /v1/leads',
      'POST /v1/auth/refresh',
      'GET /v1/leads',
    ]);
    expect(gateway.callsTo('POST /v1/auth/refresh')[0]?.body).toEqual({ refresh_token: 'refresh-1' });
    expect(tokens.current?.refresh_token).toBe('refresh-2'); // rotated
  });

  it('shares one refresh among concurrent calls (a reused refresh token revokes the family)', async () => {
    let refreshes = 0;
    const gateway = new FakeGateway()
      .on('GET /v1/events', (c) =>
        c.headers.Authorization === 'Bearer access-2' ? { status: 200, body: { items: [] } } : unauthorized,
      )
      .on('GET /v1/leads', (c) =>
        c.headers.Authorization === 'Bearer access-2' ? { status: 200, body: { items: [] } } : unauthorized,
      )
      .on('POST /v1/auth/refresh', async () => {
        refreshes += 1;
        await new Promise((r) => setTimeout(r, 5));
        return { status: 200, body: tokenPair(2) };
      });
    const { api } = await signedInClient(gateway);
    await Promise.all([api.listEvents(), api.listLeads()]);
    expect(refreshes).toBe(1);
  });

  it('signs out when the refresh token is refused', async () => {
    const gateway = new FakeGateway()
      .on('GET /v1/sessions', unauthorized)
      .on('POST /v1/auth/refresh', unauthorized);
    const { api, tokens } = await signedInClient(gateway);
    const signedIn: boolean[] = [];
    tokens.subscribe((s) => signedIn.push(s));
    await expect(api.listSessions()).rejects.toBeInstanceOf(SignedOutError);
    expect(tokens.current).toBeNull();
    expect(signedIn).toEqual([false]);
    expect(await AsyncStorage.getItem('ayka.tokens.v1')).toBeNull();
  });

  it('raises the error code and message the gateway sent', async () => {
    const gateway = new FakeGateway().on('PATCH /v1/leads/l1', {
      status: 422,
      body: { error: { code: 'validation_error', message: 'status: bad value', details: [] } },
    });
    const { api } = await signedInClient(gateway);
    const error = await api.updateLead('l1', { status: 'won' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 422, code: 'validation_error', message: 'status: bad value' });
    expect((error as ApiError).retryable).toBe(false);
  });

  it('reports a request that got no answer as a NetworkError', async () => {
    const gateway = new FakeGateway().on('GET /v1/users/me', new TypeError('Network request failed'));
    const { api } = await signedInClient(gateway);
    await expect(api.me()).rejects.toBeInstanceOf(NetworkError);
  });

  it('asks for a listen grant and registers the push token', async () => {
    const gateway = new FakeGateway()
      .on('POST /v1/auth/grant', { status: 200, body: { access_token: 'g', expires_in: 600, scope: 'listen' } })
      .on('POST /v1/push-tokens', { status: 201, body: {} });
    const { api } = await signedInClient(gateway);
    expect((await api.grantListenToken()).access_token).toBe('g');
    await api.registerPushToken('ExponentPushToken[abc]', 'ios');
    expect(gateway.callsTo('POST /v1/auth/grant')[0]?.body).toEqual({ ttl_s: 600 });
    expect(gateway.callsTo('POST /v1/push-tokens')[0]?.body).toEqual({
      token: 'ExponentPushToken[abc]',
      platform: 'ios',
    });
  });

  it('uploads a recording as multipart with the file and title', async () => {
    const gateway = new FakeGateway().on('POST /v1/recordings', { status: 202, body: { id: 'sess-up' } });
    const { api } = await signedInClient(gateway);
    const session = await api.uploadRecording(
      { uri: 'file:///r/1.wav', name: '1.wav', type: 'audio/wav' },
      'Call with Ada',
    );
    expect(session.id).toBe('sess-up');
    const call = gateway.callsTo('POST /v1/recordings')[0];
    expect(call?.body).toBeInstanceOf(FormData);
    expect(call?.headers['Content-Type']).toBeUndefined(); // fetch sets the multipart boundary
    expect((call?.body as FormData).get('title')).toBe('Call with Ada');
    expect((call?.body as FormData).has('file')).toBe(true);
  });
});
