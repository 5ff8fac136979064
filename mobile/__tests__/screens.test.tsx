import { fireEvent, render, screen, waitFor } from '@testing-library/react-native';
import type { ReactElement } from 'react';

import { EventsScreen } from '../src/screens/EventsScreen';
import { LeadsScreen } from '../src/screens/LeadsScreen';
import { SessionDetailScreen } from '../src/screens/SessionDetailScreen';
import { SessionsScreen } from '../src/screens/SessionsScreen';
import type { Services } from '../src/services';
import { ServicesProvider } from '../src/servicesContext';
import { event, lead, session } from './support/data';
import { FakeGateway, tokenPair, unauthorized } from './support/fakeGateway';
import { testWorld } from './support/services';

function renderWith(services: Services, ui: ReactElement) {
  return render(<ServicesProvider services={services}>{ui}</ServicesProvider>);
}

const serverError = { status: 500, body: { error: { code: 'internal', message: 'Database is down.' } } };

describe('SessionsScreen', () => {
  it('shows loading, then the sessions', async () => {
    let answer: (reply: { status: number; body: unknown }) => void = () => undefined;
    const gateway = new FakeGateway().on('GET /v1/sessions', () => new Promise((r) => (answer = r)));
    const { services } = await testWorld({ gateway });
    const opened: string[] = [];
    renderWith(services, <SessionsScreen onOpen={(s) => opened.push(s.id)} />);
    expect(screen.getByText('Loading sessions…')).toBeTruthy();
    answer({ status: 200, body: { items: [session('s1', 'Call with Ada')], next_cursor: null } });
    fireEvent.press(await screen.findByText('Call with Ada'));
    expect(opened).toEqual(['s1']);
  });

  it('shows the empty state', async () => {
    const gateway = new FakeGateway().on('GET /v1/sessions', { status: 200, body: { items: [] } });
    const { services } = await testWorld({ gateway });
    renderWith(services, <SessionsScreen onOpen={() => undefined} />);
    expect(await screen.findByText(/No sessions yet/)).toBeTruthy();
  });

  it('shows the error and retries', async () => {
    let fail = true;
    const gateway = new FakeGateway().on('GET /v1/sessions', () =>
      fail ? serverError : { status: 200, body: { items: [session('s2', 'Second try')] } },
    );
    const { services } = await testWorld({ gateway });
    renderWith(services, <SessionsScreen onOpen={() => undefined} />);
    expect(await screen.findByText('Database is down.')).toBeTruthy();
    fail = false;
    fireEvent.press(screen.getByText('Try again'));
    expect(await screen.findByText('Second try')).toBeTruthy();
  });

  it('refreshes an expired token on the way (401 → refresh → retry)', async () => {
    const gateway = new FakeGateway()
      .on('GET /v1/sessions', (c) =>
        c.headers.Authorization === 'Bearer access-2'
          ? { status: 200, body: { items: [session('s3', 'After refresh')] } }
          : unauthorized,
      )
      .on('POST /v1/auth/refresh', { status: 200, body: tokenPair(2) });
    const { services } = await testWorld({ gateway });
    renderWith(services, <SessionsScreen onOpen={() => undefined} />);
    expect(await screen.findByText('After refresh')).toBeTruthy();
    expect(services.tokens.current?.access_token).toBe('access-2');
  });
});

describe('SessionDetailScreen', () => {
  it('shows speakers by name and the transcript', async () => {
    const gateway = new FakeGateway()
      .on('GET /v1/sessions/s1', { status: 200, body: session('s1', 'Call with Ada') })
      .on('GET /v1/sessions/s1/speakers', {
        status: 200,
        body: { items: [{ label: 0, name: 'Ada' }, { label: 1, name: 'Speaker 2' }] },
      })
      .on('GET /v1/sessions/s1/transcript', {
        status: 200,
        body: {
          session_id: 's1',
          segments: [
            { index: 0, start_s: 0, end_s: 2, text: 'Hi, I am Ada.', speaker: 0, speaker_name: 'Ada', words: [] },
            { index: 1, start_s: 2, end_s: 4, text: 'Nice to meet you.', speaker: 1, speaker_name: null, words: [] },
          ],
        },
      });
    const { services } = await testWorld({ gateway });
    renderWith(services, <SessionDetailScreen sessionId="s1" onBack={() => undefined} />);
    expect(await screen.findByText('Call with Ada')).toBeTruthy();
    expect(screen.getAllByTestId('speaker').map((n) => n.props.children)).toEqual(['Ada', 'Speaker 2']);
    expect(screen.getByText('Hi, I am Ada.')).toBeTruthy();
    expect(screen.getAllByText('Speaker 2')).toHaveLength(2); // chip + the segment's label
  });

  it('shows the error', async () => {
    const gateway = new FakeGateway(); // every route: 404 not_found
    const { services } = await testWorld({ gateway });
    renderWith(services, <SessionDetailScreen sessionId="nope" onBack={() => undefined} />);
    expect(await screen.findByText('Not found.')).toBeTruthy();
  });
});

describe('LeadsScreen', () => {
  it('shows lead cards and changes a status', async () => {
    const gateway = new FakeGateway()
      .on('GET /v1/leads', { status: 200, body: { items: [lead('l1', 'Ada Lovelace')] } })
      .on('PATCH /v1/leads/l1', (c) => ({
        status: 200,
        body: lead('l1', 'Ada Lovelace', (c.body as { status: 'qualified' }).status),
      }));
    const { services } = await testWorld({ gateway });
    renderWith(services, <LeadsScreen />);
    expect(await screen.findByText('Ada Lovelace · Acme')).toBeTruthy();
    expect(screen.getByText('82')).toBeTruthy();
    fireEvent.press(screen.getByText('qualified'));
    await waitFor(() =>
      expect(screen.getByRole('button', { name: 'qualified' }).props.accessibilityState.selected).toBe(true),
    );
    expect(gateway.callsTo('PATCH /v1/leads/l1')[0]?.body).toEqual({ status: 'qualified' });
  });

  it('shows loading, empty and error states', async () => {
    const empty = await testWorld({
      gateway: new FakeGateway().on('GET /v1/leads', { status: 200, body: { items: [] } }),
    });
    const view = renderWith(empty.services, <LeadsScreen />);
    expect(screen.getByText('Loading leads…')).toBeTruthy();
    expect(await screen.findByText(/No leads yet/)).toBeTruthy();
    view.unmount();
    const broken = await testWorld({ gateway: new FakeGateway().on('GET /v1/leads', serverError) });
    renderWith(broken.services, <LeadsScreen />);
    expect(await screen.findByText('Database is down.')).toBeTruthy();
  });
});

describe('EventsScreen', () => {
  it('shows events', async () => {
    const gateway = new FakeGateway().on('GET /v1/events', {
      status: 200,
      body: { items: [event('e1', 'Demo with Acme')] },
    });
    const { services } = await testWorld({ gateway });
    renderWith(services, <EventsScreen />);
    expect(screen.getByText('Loading events…')).toBeTruthy();
    expect(await screen.findByText('Demo with Acme')).toBeTruthy();
    expect(screen.getByText(/Europe\/Paris.*Zoom/)).toBeTruthy();
  });

  it('shows empty and error states', async () => {
    const empty = await testWorld({
      gateway: new FakeGateway().on('GET /v1/events', { status: 200, body: { items: [] } }),
    });
    const view = renderWith(empty.services, <EventsScreen />);
    expect(await screen.findByText(/No events found/)).toBeTruthy();
    view.unmount();
    const broken = await testWorld({ gateway: new FakeGateway().on('GET /v1/events', serverError) });
    renderWith(broken.services, <EventsScreen />);
    expect(await screen.findByText('Database is down.')).toBeTruthy();
  });
});
