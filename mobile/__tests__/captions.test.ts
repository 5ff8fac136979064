import { type Captions, EMPTY_CAPTIONS, applyMessage, lineSpeaker } from '../src/live/captions';
import { type ServerMessage, parseServerMessage } from '../src/live/protocol';
import { results } from './support/fakeSocket';

function play(messages: object[]): Captions {
  return messages
    .map((m) => parseServerMessage(JSON.stringify(m)) as ServerMessage)
    .reduce(applyMessage, EMPTY_CAPTIONS);
}

describe('captions', () => {
  it('shows the latest interim, then replaces it with the final', () => {
    let state = play([results('hello', { isFinal: false })]);
    expect(state.interim).toBe('hello');
    expect(state.finals).toEqual([]);
    state = play([
      results('hello', { isFinal: false }),
      results('hello wor', { isFinal: false }),
      results('Hello world.', { isFinal: true }),
    ]);
    expect(state.interim).toBe('');
    expect(state.finals.map((f) => f.text)).toEqual(['Hello world.']);
    expect(state.finals[0]?.index).toBe(0);
  });

  it('numbers finals (empty ones too) so SpeakerUpdate can name them', () => {
    const state = play([
      results('First.', { isFinal: true }),
      results('', { isFinal: true }),
      results('Third one.', { isFinal: true }),
      { type: 'SpeakerUpdate', final_index: 2, speakers: [1, 1] },
      { type: 'SpeakerUpdate', final_index: 0, speakers: [0] },
    ]);
    expect(state.finals.map((f) => [f.index, f.text, lineSpeaker(f)])).toEqual([
      [0, 'First.', 0],
      [2, 'Third one.', 1],
    ]);
  });

  it('keeps the speaker Deepgram sent with the words and drops finals repeated after a resume', () => {
    const state = play([
      results('Hi there.', { isFinal: true, index: 0, speakers: [1, 1] }),
      results('Hi there.', { isFinal: true, index: 0, speakers: [1, 1] }),
      results('Next.', { isFinal: true, index: 1 }),
    ]);
    expect(state.finals).toHaveLength(2);
    expect(lineSpeaker(state.finals[0]!)).toBe(1);
    expect(lineSpeaker(state.finals[1]!)).toBeNull();
  });
});
