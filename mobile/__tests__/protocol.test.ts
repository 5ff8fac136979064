import {
  FRAME_BYTES,
  ProtocolError,
  buildListenUrl,
  parseServerMessage,
} from '../src/live/protocol';
import { results } from './support/fakeSocket';

describe('buildListenUrl', () => {
  it('asks for 16 kHz mono linear16 with interim results', () => {
    const url = buildListenUrl('wss://gw.example/v1/listen', { diarize: true }, null);
    const query = new URLSearchParams(url.split('?')[1]);
    expect(url.startsWith('wss://gw.example/v1/listen?')).toBe(true);
    expect(query.get('encoding')).toBe('linear16');
    expect(query.get('sample_rate')).toBe('16000');
    expect(query.get('channels')).toBe('1');
    expect(query.get('interim_results')).toBe('true');
    expect(query.get('diarize')).toBe('true');
    expect(query.has('session_id')).toBe(false);
  });

  it('adds the resume point', () => {
    const url = buildListenUrl('ws://h/v1/listen', {}, { sessionId: 's 1', resumeSeq: 42 });
    const query = new URLSearchParams(url.split('?')[1]);
    expect(query.get('session_id')).toBe('s 1');
    expect(query.get('resume_seq')).toBe('42');
  });

  it('uses 3200-byte frames (100 ms of 16 kHz PCM16)', () => {
    expect(FRAME_BYTES).toBe(3200);
  });
});

describe('parseServerMessage', () => {
  it('reads a Results message with words and speakers', () => {
    const message = parseServerMessage(
      JSON.stringify(results('Hello there.', { isFinal: true, speakers: [0, 1], start: 1.5 })),
    );
    expect(message).toMatchObject({
      type: 'Results',
      is_final: true,
      speech_final: true,
      start: 1.5,
      transcript: 'Hello there.',
    });
    if (message.type !== 'Results') throw new Error('not Results');
    expect(message.words.map((w) => w.speaker)).toEqual([0, 1]);
    expect(message.words[1]?.punctuated_word).toBe('there.');
  });

  it('reads Metadata, SpeakerUpdate, UtteranceEnd and Warning', () => {
    expect(parseServerMessage('{"type":"Metadata","session_id":"abc"}')).toEqual({
      type: 'Metadata',
      session_id: 'abc',
      request_id: undefined,
    });
    expect(
      parseServerMessage('{"type":"SpeakerUpdate","session_id":"abc","final_index":3,"speakers":[1,1]}'),
    ).toEqual({ type: 'SpeakerUpdate', final_index: 3, speakers: [1, 1] });
    expect(parseServerMessage('{"type":"UtteranceEnd","last_word_end":2.5}')).toEqual({
      type: 'UtteranceEnd',
      last_word_end: 2.5,
    });
    expect(
      parseServerMessage('{"type":"Warning","code":"worker_failover","message":"Resuming"}'),
    ).toEqual({ type: 'Warning', code: 'worker_failover', message: 'Resuming' });
  });

  it('refuses what is not a known message', () => {
    expect(() => parseServerMessage('not json')).toThrow(ProtocolError);
    expect(() => parseServerMessage('{"type":"Nope"}')).toThrow(ProtocolError);
    expect(() => parseServerMessage('3')).toThrow(ProtocolError);
  });
});
