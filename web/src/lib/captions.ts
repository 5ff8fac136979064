// The live caption model: what the server's Results and SpeakerUpdate messages mean for the text
// on screen. Interim text replaces the previous interim; a final is appended and clears the interim.
// Pure: no sockets, no React.

export interface CaptionWord {
  word: string;
  text: string; // punctuated_word when present
  startS: number;
  endS: number;
  confidence: number;
  speaker: number | null;
}

export interface Caption {
  index: number; // finals: 0, 1, 2 ... per session; interim: -1
  startS: number;
  endS: number;
  transcript: string;
  words: CaptionWord[];
}

export interface CaptionSnapshot {
  finals: readonly Caption[];
  interim: Caption | null;
}

/** A contiguous run of words by one speaker, for display. */
export interface SpeakerRun {
  speaker: number | null;
  text: string;
  startS: number;
}

export interface WireWord {
  word?: string;
  punctuated_word?: string;
  start?: number;
  end?: number;
  confidence?: number;
  speaker?: number | null;
}

export interface ResultsMessage {
  type: "Results";
  is_final?: boolean;
  speech_final?: boolean;
  from_finalize?: boolean;
  start?: number;
  duration?: number;
  final_index?: number;
  channel?: { alternatives?: { transcript?: string; confidence?: number; words?: WireWord[] }[] };
}

export interface SpeakerUpdateMessage {
  type: "SpeakerUpdate";
  final_index: number;
  speakers: (number | null)[];
}

const EPSILON_S = 1e-3;

function toWord(w: WireWord): CaptionWord {
  const word = w.word ?? "";
  return {
    word,
    text: w.punctuated_word ?? word,
    startS: w.start ?? 0,
    endS: w.end ?? 0,
    confidence: w.confidence ?? 0,
    speaker: typeof w.speaker === "number" ? w.speaker : null,
  };
}

export class CaptionBook {
  private finals: Caption[] = [];
  private interim: Caption | null = null;
  private finalsSeen = 0; // for servers that do not send final_index

  /** Apply a Results message; returns true when the visible captions changed. */
  applyResults(msg: ResultsMessage): boolean {
    const alt = msg.channel?.alternatives?.[0];
    const startS = msg.start ?? 0;
    const endS = startS + (msg.duration ?? 0);
    const words = (alt?.words ?? []).map(toWord);
    const transcript = (alt?.transcript ?? words.map((w) => w.text).join(" ")).trim();
    if (!msg.is_final) {
      const next = transcript ? { index: -1, startS, endS, transcript, words } : null;
      const changed = next?.transcript !== this.interim?.transcript;
      this.interim = next;
      return changed;
    }
    const hadInterim = this.interim !== null;
    this.interim = null;
    const indexed = typeof msg.final_index === "number";
    if (this.isDuplicate(msg.final_index ?? -1, endS, indexed)) return hadInterim;
    const index = indexed ? (msg.final_index ?? 0) : this.finalsSeen;
    this.finalsSeen = Math.max(this.finalsSeen, index + 1);
    if (!transcript) return hadInterim; // an empty final (silence) still clears the interim
    this.finals.push({ index, startS, endS, transcript, words });
    return true;
  }

  /** Relabel the words of an already-final caption (live diarization catching up). */
  applySpeakerUpdate(msg: SpeakerUpdateMessage): boolean {
    const target = this.finals.find((c) => c.index === msg.final_index);
    if (!target) return false;
    let changed = false;
    target.words = target.words.map((w, i) => {
      const speaker = msg.speakers[i];
      if (speaker === undefined || speaker === w.speaker) return w;
      changed = true;
      return { ...w, speaker };
    });
    return changed;
  }

  snapshot(): CaptionSnapshot {
    return { finals: [...this.finals], interim: this.interim };
  }

  /** Finals seen so far (= the index the next final will have): the resume point for finals. */
  get finalsReceived(): number {
    return this.finalsSeen;
  }

  /** The whole final text so far. */
  get text(): string {
    return this.finals.map((c) => c.transcript).join(" ");
  }

  clear(): void {
    this.finals = [];
    this.interim = null;
    this.finalsSeen = 0;
  }

  private isDuplicate(index: number, endS: number, indexed: boolean): boolean {
    // After a resume the server may send a final again: by index when it says one, else by time.
    if (indexed) return this.finals.some((c) => c.index === index);
    const last = this.finals[this.finals.length - 1];
    return last !== undefined && endS <= last.endS + EPSILON_S;
  }
}

/** Group a caption's words into runs by speaker (words without a speaker join the run before). */
export function speakerRuns(caption: Caption): SpeakerRun[] {
  if (caption.words.length === 0) return [{ speaker: null, text: caption.transcript, startS: caption.startS }];
  const runs: SpeakerRun[] = [];
  for (const w of caption.words) {
    const last = runs[runs.length - 1];
    if (last && (w.speaker === null || w.speaker === last.speaker)) {
      last.text += ` ${w.text}`;
    } else if (last && last.speaker === null) {
      last.speaker = w.speaker;
      last.text += ` ${w.text}`;
    } else {
      runs.push({ speaker: w.speaker, text: w.text, startS: w.startS });
    }
  }
  return runs;
}
