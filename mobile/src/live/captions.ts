import type { ResultsMessage, ServerMessage, SpeakerUpdateMessage } from './protocol';

/** One final result as the captions show it. */
export interface CaptionLine {
  /** The final's index in the session: SpeakerUpdate messages refer to it. */
  index: number;
  text: string;
  startS: number;
  endS: number;
  /** One speaker label per word (null until known). */
  wordSpeakers: (number | null)[];
}

export interface Captions {
  finals: CaptionLine[];
  /** The latest interim text: replaced by every interim, cleared by the final that follows. */
  interim: string;
  /** How many finals the session has had, empty ones included (they still take an index). */
  finalsSeen: number;
}

export const EMPTY_CAPTIONS: Captions = { finals: [], interim: '', finalsSeen: 0 };

/** The line's speaker: the label most of its words carry (null when none is known yet). */
export function lineSpeaker(line: CaptionLine): number | null {
  const counts = new Map<number, number>();
  for (const speaker of line.wordSpeakers) {
    if (speaker !== null && speaker >= 0) counts.set(speaker, (counts.get(speaker) ?? 0) + 1);
  }
  let best: number | null = null;
  let bestCount = 0;
  for (const [speaker, count] of counts) {
    if (count > bestCount) {
      best = speaker;
      bestCount = count;
    }
  }
  return best;
}

function applyResults(state: Captions, message: ResultsMessage): Captions {
  if (!message.is_final) return { ...state, interim: message.transcript };
  const index = message.index ?? state.finalsSeen;
  const finalsSeen = Math.max(state.finalsSeen, index + 1);
  // After a resume the server may send finals we already have: keep the first copy.
  if (state.finals.some((line) => line.index === index)) return { ...state, interim: '', finalsSeen };
  if (!message.transcript.trim()) return { ...state, interim: '', finalsSeen };
  const line: CaptionLine = {
    index,
    text: message.transcript,
    startS: message.start,
    endS: message.start + message.duration,
    wordSpeakers: message.words.map((w) => w.speaker ?? null),
  };
  const finals = [...state.finals, line].sort((a, b) => a.index - b.index);
  return { finals, interim: '', finalsSeen };
}

function applySpeakers(state: Captions, message: SpeakerUpdateMessage): Captions {
  const finals = state.finals.map((line) =>
    line.index === message.final_index
      ? { ...line, wordSpeakers: message.speakers.map((s) => (s >= 0 ? s : null)) }
      : line,
  );
  return { ...state, finals };
}

/** The captions after one server message (pure: the same input gives the same output). */
export function applyMessage(state: Captions, message: ServerMessage): Captions {
  switch (message.type) {
    case 'Results':
      return applyResults(state, message);
    case 'SpeakerUpdate':
      return applySpeakers(state, message);
    default:
      return state;
  }
}
