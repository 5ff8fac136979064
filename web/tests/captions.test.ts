import { describe, expect, it } from "vitest";
import { CaptionBook, speakerRuns, type ResultsMessage } from "@/lib/captions";

function final(start: number, words: [string, number | null][]): ResultsMessage {
  return {
    type: "Results",
    is_final: true,
    start,
    duration: words.length * 0.5,
    channel: { alternatives: [{ transcript: words.map((w) => w[0]).join(" "), words: words.map(([w, s], i) => ({ word: w, punctuated_word: w, start: start + i * 0.5, end: start + i * 0.5 + 0.4, speaker: s })) }] },
  };
}

describe("CaptionBook", () => {
  it("drops a repeated final by time when the server sends no final_index", () => {
    const book = new CaptionBook();
    book.applyResults(final(0, [["a", 0], ["b", 0]]));
    expect(book.applyResults(final(0, [["a", 0], ["b", 0]]))).toBe(false);
    book.applyResults(final(1, [["c", 0]]));
    expect(book.text).toBe("a b c");
    expect(book.snapshot().finals.map((f) => f.index)).toEqual([0, 1]);
  });

  it("clears the interim on an empty final without adding a caption", () => {
    const book = new CaptionBook();
    book.applyResults({ type: "Results", is_final: false, start: 0, duration: 1, channel: { alternatives: [{ transcript: "uh" }] } });
    expect(book.snapshot().interim?.transcript).toBe("uh");
    expect(book.applyResults({ type: "Results", is_final: true, start: 0, duration: 1, channel: { alternatives: [{ transcript: "" }] } })).toBe(true);
    expect(book.snapshot()).toEqual({ finals: [], interim: null });
  });

  it("ignores a SpeakerUpdate for an unknown final", () => {
    const book = new CaptionBook();
    expect(book.applySpeakerUpdate({ type: "SpeakerUpdate", final_index: 7, speakers: [1] })).toBe(false);
  });
});

describe("speakerRuns", () => {
  it("splits a caption where the speaker changes", () => {
    const book = new CaptionBook();
    book.applyResults(final(0, [["Hi", 0], ["there.", 0], ["Hello", 1], ["you", null]]));
    const runs = speakerRuns(book.snapshot().finals[0]!);
    expect(runs).toEqual([
      { speaker: 0, text: "Hi there.", startS: 0 },
      { speaker: 1, text: "Hello you", startS: 1 },
    ]);
  });
});
