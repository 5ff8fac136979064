// Pure helpers for the transcript view.
import type { Segment, Word } from "./types";

/** Consecutive segments of one speaker, read as one paragraph. */
export interface Turn {
  key: number; // index of its first segment
  speaker: number | null;
  speakerName: string | null; // the server's name for it, when it sent one
  start_s: number;
  end_s: number;
  words: Word[];
}

interface Timed {
  start_s: number;
  end_s: number;
  words: { start_s: number }[];
}

/** Merge consecutive segments of the same speaker; a segment without words becomes one "word". */
export function toTurns(segments: Segment[]): Turn[] {
  const turns: Turn[] = [];
  for (const seg of segments) {
    const words: Word[] =
      seg.words.length > 0
        ? seg.words
        : [{ word: seg.text, punctuated_word: seg.text, start_s: seg.start_s, end_s: seg.end_s, confidence: 1, speaker: seg.speaker }];
    const last = turns[turns.length - 1];
    if (last && last.speaker === seg.speaker) {
      last.words = [...last.words, ...words];
      last.end_s = Math.max(last.end_s, seg.end_s);
    } else {
      turns.push({ key: seg.index, speaker: seg.speaker, speakerName: seg.speaker_name, start_s: seg.start_s, end_s: seg.end_s, words });
    }
  }
  return turns;
}

/** Index of the block (segment or turn) and word playing at `t` (-1s when none). In a pause between
 * two words the earlier word stays current, so the highlight does not flicker. */
export function locate(blocks: Timed[], t: number): { segment: number; word: number } {
  for (let s = 0; s < blocks.length; s++) {
    const block = blocks[s];
    if (!block || t < block.start_s || t >= block.end_s + 0.05) continue;
    const word = block.words.findLastIndex((w) => w.start_s <= t);
    return { segment: s, word };
  }
  return { segment: -1, word: -1 };
}

/** The block to show for a moment: the one playing then, else the next one after it. */
export function blockAt(blocks: Timed[], t: number): number {
  const playing = locate(blocks, t).segment;
  if (playing >= 0) return playing;
  return blocks.findIndex((b) => b.start_s >= t);
}
