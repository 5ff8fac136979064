import { ConnectionState, LiveClient } from '../src/live/liveClient';
import { FakeSocketServer, frame, results } from './support/fakeSocket';
import { flush } from './support/fakes';

function makeClient(server: FakeSocketServer, extra: Partial<ConstructorParameters<typeof LiveClient>[0]> = {}) {
  let grants = 0;
  const client = new LiveClient({
    listenUrl: 'ws://gw.test/v1/listen',
    grantToken: async () => `listen-${++grants}`,
    openSocket: server.factory,
    keepAliveMs: 5000,
    resendFrames: 2,
    reconnect: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000 },
    ...extra,
  });
  return client;
}

describe('LiveClient', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('authenticates with a granted token and sends frames as binary', async () => {
    const server = new FakeSocketServer();
    const client = makeClient(server);
    const states: ConnectionState[] = [];
    client.on('state', (s) => states.push(s));
    await client.start();
    expect(server.last.headers.Authorization).toBe('Bearer listen-1');
    client.sendFrame(frame(1)); // before open: kept, sent on open
    server.last.open();
    client.sendFrame(frame(2));
    expect(server.last.sentFrames.map((f) => [f.length, f[0]])).toEqual([
      [3200, 1],
      [3200, 2],
    ]);
    expect(states).toEqual([ConnectionState.Connecting, ConnectionState.Open]);
  });

  it('turns the server stream into captions', async () => {
    const server = new FakeSocketServer();
    const client = makeClient(server);
    const seen: string[] = [];
    client.on('captions', (c) => seen.push(`${c.finals.map((f) => f.text).join('|')}/${c.interim}`));
    await client.start();
    const socket = server.last;
    socket.open();
    socket.receive({ type: 'Metadata', session_id: 'sess-1' });
    socket.receive(results('good', { isFinal: false }));
    socket.receive(results('good morning', { isFinal: false }));
    socket.receive(results('Good morning.', { isFinal: true }));
    socket.receive({ type: 'SpeechStarted', timestamp: 1.2 });
    expect(client.sessionId).toBe('sess-1');
    expect(seen).toEqual(['/good', '/good morning', 'Good morning./']);
  });

  it('sends KeepAlive when no audio went out for a while', async () => {
    const server = new FakeSocketServer();
    const client = makeClient(server);
    await client.start();
    server.last.open();
    jest.advanceTimersByTime(5000);
    expect(server.last.sentText).toContain('{"type":"KeepAlive"}');
  });

  it('reconnects with session_id and resume_seq and resends what the server may have missed', async () => {
    const server = new FakeSocketServer();
    const client = makeClient(server);
    await client.start();
    const first = server.last;
    first.open();
    first.receive({ type: 'Metadata', session_id: 'sess-9' });
    for (let i = 0; i < 5; i += 1) client.sendFrame(frame(i)); // seq 0..4 sent
    first.serverClose(1006, 'network lost');
    expect(client.state).toBe(ConnectionState.Reconnecting);
    client.sendFrame(frame(5)); // captured while down
    client.sendFrame(frame(6));
    jest.advanceTimersByTime(100);
    await flush();
    expect(server.sockets).toHaveLength(2);
    const second = server.last;
    expect(second.query.get('session_id')).toBe('sess-9');
    expect(second.query.get('resume_seq')).toBe('3'); // 2 recently sent frames are resent
    expect(second.headers.Authorization).toBe('Bearer listen-2');
    second.open();
    expect(second.sentFrames.map((f) => f[0])).toEqual([3, 4, 5, 6]);
    expect(client.state).toBe(ConnectionState.Open);
    client.sendFrame(frame(7));
    expect(second.sentFrames.map((f) => f[0])).toEqual([3, 4, 5, 6, 7]);
  });

  it('gives up after the configured attempts and keeps the unsent frames', async () => {
    const server = new FakeSocketServer();
    const client = makeClient(server);
    await client.start();
    server.last.open();
    server.last.receive({ type: 'Metadata', session_id: 's' });
    client.sendFrame(frame(1));
    server.last.serverClose(1006);
    client.sendFrame(frame(2));
    for (let attempt = 0; attempt < 3; attempt += 1) {
      jest.advanceTimersByTime(1000);
      await flush();
      server.last.serverClose(1006);
    }
    expect(client.state).toBe(ConnectionState.Failed);
    expect(client.unsentFrames().map((f) => f[0])).toEqual([2]);
  });

  it('stops on a refusal close code without retrying', async () => {
    const server = new FakeSocketServer();
    const client = makeClient(server);
    await client.start();
    server.last.serverClose(1008, 'invalid token');
    expect(client.state).toBe(ConnectionState.Failed);
    jest.advanceTimersByTime(10_000);
    expect(server.sockets).toHaveLength(1);
  });

  it('stop sends CloseStream and waits for the server to close', async () => {
    const server = new FakeSocketServer();
    const client = makeClient(server);
    await client.start();
    const socket = server.last;
    socket.open();
    const stopped = client.stop();
    expect(client.state).toBe(ConnectionState.Closing);
    expect(socket.sentText).toContain('{"type":"CloseStream"}');
    socket.receive(results('Last words.', { isFinal: true }));
    socket.serverClose(1000);
    await stopped;
    expect(client.state).toBe(ConnectionState.Closed);
    expect(client.captions.finals.map((f) => f.text)).toEqual(['Last words.']);
  });
});
