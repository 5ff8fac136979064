/**
 * The wire protocol of `/v1/listen` (Deepgram's live API plus AYKA's extra messages): URL building,
 * control messages, and parsing of what the server sends. No I/O here.
 */

export const SAMPLE_RATE_HZ = 16000;
export const FRAME_MS = 100;
/** One 100 ms frame of 16 kHz mono PCM16. */
export const FRAME_BYTES = (SAMPLE_RATE_HZ * 2 * FRAME_MS) / 1000;

export const KEEP_ALIVE = JSON.stringify({ type: 'KeepAlive' });
export const FINALIZE = JSON.stringify({ type: 'Finalize' });
export const CLOSE_STREAM = JSON.stringify({ type: 'CloseStream' });

export interface ListenOptions {
  language?: string;
  diarize?: boolean;
  punctuate?: boolean;
  smartFormat?: boolean;
  utteranceEndMs?: number;
  vadEvents?: boolean;
  tags?: string[];
}

export interface ResumePoint {
  sessionId: string;
  /** The sequence number (0-based, one per frame) of the first frame the client will resend. */
  resumeSeq: number;
}

export function buildListenUrl(
  listenUrl: string,
  options: ListenOptions,
  resume: ResumePoint | null,
): string {
  const params: [string, string][] = [
    ['encoding', 'linear16'],
    ['sample_rate', String(SAMPLE_RATE_HZ)],
    ['channels', '1'],
    ['interim_results', 'true'],
    ['punctuate', String(options.punctuate ?? true)],
  ];
  if (options.language) params.push(['language', options.language]);
  if (options.diarize) params.push(['diarize', 'true']);
  if (options.smartFormat) params.push(['smart_format', 'true']);
  if (options.utteranceEndMs) params.push(['utterance_end_ms', String(options.utteranceEndMs)]);
  if (options.vadEvents) params.push(['vad_events', 'true']);
  for (const tag of options.tags ?? []) params.push(['tag', tag]);
  if (resume) {
    params.push(['session_id', resume.sessionId]);
    params.push(['resume_seq', String(resume.resumeSeq)]);
  }
  const query = params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  return `${listenUrl}?${query}`;
}

export interface WireWord {
  word: string;
  punctuated_word?: string;
  start: number;
  end: number;
  confidence: number;
  speaker?: number | null;
}

export interface ResultsMessage {
  type: 'Results';
  is_final: boolean;
  speech_final: boolean;
  from_finalize?: boolean;
  start: number;
  duration: number;
  /** AYKA's extra field: the final's index in the session (0, 1, 2, ...), when the server sends it. */
  index?: number;
  transcript: string;
  words: WireWord[];
}

export interface MetadataMessage {
  type: 'Metadata';
  session_id?: string;
  request_id?: string;
}

export interface UtteranceEndMessage {
  type: 'UtteranceEnd';
  last_word_end: number;
}

export interface SpeechStartedMessage {
  type: 'SpeechStarted';
  timestamp: number;
}

export interface SpeakerUpdateMessage {
  type: 'SpeakerUpdate';
  final_index: number;
  speakers: number[];
}

export interface NoticeMessage {
  type: 'Warning' | 'Error';
  code: string;
  message: string;
}

export type ServerMessage =
  | ResultsMessage
  | MetadataMessage
  | UtteranceEndMessage
  | SpeechStartedMessage
  | SpeakerUpdateMessage
  | NoticeMessage;

/** The server sent something that is not one of the messages above. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

type Json = Record<string, unknown>;

function num(value: unknown, fallback = 0): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function str(value: unknown, fallback = ''): string {
  return typeof value === 'string' ? value : fallback;
}

function parseResults(raw: Json): ResultsMessage {
  const channel = (raw.channel ?? {}) as Json;
  const alternatives = Array.isArray(channel.alternatives) ? (channel.alternatives as Json[]) : [];
  const best = alternatives[0] ?? {};
  const words = Array.isArray(best.words) ? (best.words as Json[]) : [];
  return {
    type: 'Results',
    is_final: raw.is_final === true,
    speech_final: raw.speech_final === true,
    from_finalize: raw.from_finalize === true,
    start: num(raw.start),
    duration: num(raw.duration),
    // The gateway numbers finals as `final_index`; `index` is accepted too.
    index: typeof raw.final_index === 'number' ? raw.final_index : typeof raw.index === 'number' ? raw.index : undefined,
    transcript: str(best.transcript),
    words: words.map((w) => ({
      word: str(w.word),
      punctuated_word: typeof w.punctuated_word === 'string' ? w.punctuated_word : undefined,
      start: num(w.start),
      end: num(w.end),
      confidence: num(w.confidence),
      speaker: typeof w.speaker === 'number' ? w.speaker : null,
    })),
  };
}

/** Parses one text message from the server; unknown `type`s are a ProtocolError. */
export function parseServerMessage(text: string): ServerMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ProtocolError('The server sent a message that is not JSON.');
  }
  if (typeof raw !== 'object' || raw === null) {
    throw new ProtocolError('The server sent a message that is not an object.');
  }
  const message = raw as Json;
  switch (message.type) {
    case 'Results':
      return parseResults(message);
    case 'Metadata':
      return {
        type: 'Metadata',
        session_id: typeof message.session_id === 'string' ? message.session_id : undefined,
        request_id: typeof message.request_id === 'string' ? message.request_id : undefined,
      };
    case 'UtteranceEnd':
      return { type: 'UtteranceEnd', last_word_end: num(message.last_word_end) };
    case 'SpeechStarted':
      return { type: 'SpeechStarted', timestamp: num(message.timestamp) };
    case 'SpeakerUpdate':
      return {
        type: 'SpeakerUpdate',
        final_index: num(message.final_index, -1),
        speakers: Array.isArray(message.speakers)
          ? message.speakers.map((s) => (typeof s === 'number' ? s : -1))
          : [],
      };
    case 'Warning':
    case 'Error':
      return {
        type: message.type,
        code: str(message.code, 'unknown'),
        message: str(message.message, str(message.description)),
      };
    default:
      throw new ProtocolError(`Unknown message type: ${String(message.type)}`);
  }
}
