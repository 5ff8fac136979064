import { act, fireEvent, render, screen, waitFor } from '@testing-library/react-native';

import { AppRoot } from '../src/AppRoot';
import type { PushProvider } from '../src/push/pushRegistration';
import { RecordScreen } from '../src/screens/RecordScreen';
import { ServicesProvider } from '../src/servicesContext';
import { FakeGateway, tokenPair } from './support/fakeGateway';
import { frame, results } from './support/fakeSocket';
import { flush } from './support/fakes';
import { testWorld } from './support/services';

const grant = { status: 200, body: { access_token: 'listen-token', expires_in: 600, scope: 'listen' } };

describe('RecordScreen', () => {
  it('streams audio and updates the captions from the server stream', async () => {
    const world = await testWorld({ gateway: new FakeGateway().on('POST /v1/auth/grant', grant) });
    render(
      <ServicesProvider services={world.services}>
        <RecordScreen />
      </ServicesProvider>,
    );
    expect(screen.getByText('Captions appear here as you speak.')).toBeTruthy();
    fireEvent.press(screen.getByRole('button', { name: 'Start recording' }));
    await waitFor(() => expect(world.sockets.sockets).toHaveLength(1));
    const socket = world.sockets.last;
    expect(socket.headers.Authorization).toBe('Bearer listen-token');
    expect(screen.getByText('Connecting…')).toBeTruthy();

    act(() => socket.open());
    expect(screen.getByText('Live')).toBeTruthy();
    act(() => world.source.play(frame(9)));
    expect(socket.sentFrames).toHaveLength(1);

    act(() => {
      socket.receive({ type: 'Metadata', session_id: 'sess-live' });
      socket.receive(results('so about', { isFinal: false }));
    });
    expect(screen.getByTestId('caption-interim').props.children).toBe('so about');

    act(() => {
      socket.receive(results('So about the pilot.', { isFinal: true }));
      socket.receive(results('we could', { isFinal: false }));
    });
    expect(screen.getByText('So about the pilot.')).toBeTruthy();
    expect(screen.getByTestId('caption-interim').props.children).toBe('we could');

    act(() => socket.receive({ type: 'SpeakerUpdate', final_index: 0, speakers: [1, 1, 1, 1] }));
    expect(screen.getByText('Speaker 2')).toBeTruthy();

    act(() => socket.receive({ type: 'Warning', code: 'worker_failover', message: 'Transcription resumed.' }));
    expect(screen.getByText('Transcription resumed.')).toBeTruthy();

    fireEvent.press(screen.getByRole('button', { name: 'Stop recording' }));
    await waitFor(() => expect(socket.sentText).toContain('{"type":"CloseStream"}'));
    act(() => socket.serverClose(1000));
    expect(await screen.findByRole('button', { name: 'Start recording' })).toBeTruthy();
    expect(screen.getByText('Ended')).toBeTruthy();
    expect(screen.getByText('So about the pilot.')).toBeTruthy();
  });

  it('records offline, shows the saved item, and uploads it when the network returns', async () => {
    const gateway = new FakeGateway().on('POST /v1/recordings', {
      status: 202,
      body: { id: 'sess-upload', status: 'processing' },
    });
    const world = await testWorld({ gateway, online: false });
    const push: PushProvider = { platform: null, expoPushToken: async () => null };
    render(<AppRoot services={world.services} push={push} />);
    fireEvent.press(screen.getByRole('button', { name: 'Start recording' }));
    expect(await screen.findByText('Offline: saving to the phone')).toBeTruthy();
    expect(screen.getByText('Recording')).toBeTruthy();
    await act(async () => {
      world.source.play(frame(1));
      await flush();
    });
    // Looking at another tab does not stop the recording.
    fireEvent.press(screen.getByRole('tab', { name: 'Sessions' }));
    expect(await screen.findByText('Not found.')).toBeTruthy();
    fireEvent.press(screen.getByRole('tab', { name: 'Record' }));
    expect(screen.getByRole('button', { name: 'Stop recording' })).toBeTruthy();
    await act(async () => {
      world.source.play(frame(2));
      await flush();
    });
    fireEvent.press(screen.getByRole('button', { name: 'Stop recording' }));
    expect(await screen.findByText('Waiting for connection · 0.2 s')).toBeTruthy();
    expect(gateway.callsTo('POST /v1/recordings')).toHaveLength(0);
    expect(world.sockets.sockets).toHaveLength(0);

    await act(async () => {
      world.connectivity.set(true);
      await flush(30);
    });
    expect(await screen.findByText('Uploaded · 0.2 s')).toBeTruthy();
    expect(gateway.callsTo('POST /v1/recordings')).toHaveLength(1);
    expect(world.files.contents.size).toBe(0);

    await act(async () => {
      fireEvent.press(screen.getByRole('button', { name: /^Remove Recording/ }));
      await flush(30);
    });
    expect(screen.queryByText('Uploaded · 0.2 s')).toBeNull();
    expect(world.services.queue.all).toHaveLength(0);
  });
});

describe('AppRoot', () => {
  it('logs in, registers the push token, and logs out', async () => {
    const gateway = new FakeGateway()
      .on('POST /v1/auth/login', (c) =>
        (c.body as { password: string }).password === 'right'
          ? { status: 200, body: tokenPair(1) }
          : { status: 401, body: { error: { code: 'invalid_credentials', message: 'Email or password is wrong.' } } },
      )
      .on('POST /v1/push-tokens', { status: 201, body: {} })
      .on('POST /v1/auth/logout', { status: 204 });
    const world = await testWorld({ gateway, signedIn: false });
    const opened = new Set<(data: Record<string, unknown>) => void>();
    const push: PushProvider = {
      platform: 'android',
      expoPushToken: async () => 'ExponentPushToken[x]',
      onOpened: (listener) => {
        opened.add(listener);
        return () => opened.delete(listener);
      },
    };
    render(<AppRoot services={world.services} push={push} />);

    fireEvent.changeText(screen.getByPlaceholderText('Email'), 'ada@example.com');
    fireEvent.changeText(screen.getByPlaceholderText('Password'), 'wrong');
    fireEvent.press(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByText('Email or password is wrong.')).toBeTruthy();

    fireEvent.changeText(screen.getByPlaceholderText('Password'), 'right');
    fireEvent.press(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByRole('tab', { name: 'Record' })).toBeTruthy();
    await waitFor(() => expect(gateway.callsTo('POST /v1/push-tokens')).toHaveLength(1));
    expect(gateway.callsTo('POST /v1/push-tokens')[0]?.body).toEqual({
      token: 'ExponentPushToken[x]',
      platform: 'android',
    });

    // Tapping a "lead ready" notification opens the Leads tab.
    gateway.on('GET /v1/leads', { status: 200, body: { items: [] } });
    act(() => opened.forEach((listener) => listener({ event: 'lead.finalized', lead_id: 'l1' })));
    expect(await screen.findByText(/No leads yet/)).toBeTruthy();

    fireEvent.press(screen.getByRole('button', { name: 'Log out' }));
    expect(await screen.findByPlaceholderText('Email')).toBeTruthy();
    expect(gateway.callsTo('POST /v1/auth/logout')[0]?.body).toEqual({ refresh_token: 'refresh-1' });
  });
});
