import { describe, expect, it } from "vitest";
import { groupByDay } from "@/lib/events";
import { formatClock, speakerName, speakerStyle } from "@/lib/format";
import { blockAt, locate, toTurns } from "@/lib/transcript";
import type { AppEvent, Segment } from "@/lib/types";

describe("formatClock", () => {
  it("formats seconds as m:ss and h:mm:ss", () => {
    expect(formatClock(0)).toBe("0:00");
    expect(formatClock(75.4)).toBe("1:15");
    expect(formatClock(3725)).toBe("1:02:05");
    expect(formatClock(null)).toBe("0:00");
  });
});

describe("speakers", () => {
  it("names label 0 'Speaker 1' unless renamed, and colours by label", () => {
    expect(speakerName(0)).toBe("Speaker 1");
    expect(speakerName(1, new Map([[1, "Dana"]]))).toBe("Dana");
    expect(speakerName(null)).toBe("Speaker");
    expect(speakerStyle(0).text).not.toBe(speakerStyle(1).text);
    expect(speakerStyle(6).text).toBe(speakerStyle(0).text);
  });
});

function event(id: string, startsAt: string | null): AppEvent {
  return { id, session_id: "s", name: id, starts_at: startsAt, ends_at: null, timezone: null, location: null, url: null, evidence: [], engine: "offline", created_at: "2026-11-25T10:00:00Z" };
}

describe("groupByDay", () => {
  it("groups by the written date, sorted, undated last", () => {
    const groups = groupByDay([event("b", "2026-12-02T09:00:00-05:00"), event("x", null), event("a", "2026-12-01T15:00:00Z"), event("c", "2026-12-02T08:00:00-05:00")]);
    expect(groups.map((g) => [g.day, g.events.map((e) => e.id)])).toEqual([
      ["2026-12-01", ["a"]],
      ["2026-12-02", ["c", "b"]],
      [null, ["x"]],
    ]);
  });
});

describe("locate", () => {
  const segments: Segment[] = [
    { index: 0, start_s: 1, end_s: 2, text: "a b", speaker: 0, speaker_name: null, words: [
      { word: "a", punctuated_word: "a", start_s: 1, end_s: 1.4, confidence: 1, speaker: 0 },
      { word: "b", punctuated_word: "b", start_s: 1.5, end_s: 2, confidence: 1, speaker: 0 },
    ] },
    { index: 1, start_s: 3, end_s: 4, text: "c", speaker: 1, speaker_name: null, words: [{ word: "c", punctuated_word: "c", start_s: 3, end_s: 4, confidence: 1, speaker: 1 }] },
  ];
  it("finds the segment and word playing at a time", () => {
    expect(locate(segments, 1.6)).toEqual({ segment: 0, word: 1 });
    expect(locate(segments, 3.5)).toEqual({ segment: 1, word: 0 });
    expect(locate(segments, 1.45)).toEqual({ segment: 0, word: 0 }); // in the pause after "a"
    expect(locate(segments, 2.5)).toEqual({ segment: -1, word: -1 });
  });
});

describe("toTurns", () => {
  const word = (w: string, start: number, speaker: number | null) => ({ word: w, punctuated_word: w, start_s: start, end_s: start + 0.4, confidence: 1, speaker });
  const seg = (index: number, speaker: number | null, words: ReturnType<typeof word>[], text = ""): Segment => ({
    index, start_s: words[0]?.start_s ?? index, end_s: (words.at(-1)?.end_s ?? index + 0.5), text: text || words.map((w) => w.word).join(" "), speaker, speaker_name: null, words,
  });
  it("merges consecutive segments of one speaker and keeps text without words", () => {
    const turns = toTurns([seg(0, 0, [word("a", 1, 0)]), seg(1, 0, [word("b", 2, 0)]), seg(2, 1, [word("c", 3, 1)]), seg(3, 0, [], "no words")]);
    expect(turns.map((t) => [t.key, t.speaker, t.words.map((w) => w.word).join(" ")])).toEqual([
      [0, 0, "a b"],
      [2, 1, "c"],
      [3, 0, "no words"],
    ]);
    expect(turns[0]?.end_s).toBeCloseTo(2.4);
    expect(locate(turns, 2.1)).toEqual({ segment: 0, word: 1 });
    expect(blockAt(turns, 2.7)).toBe(1); // in a pause: the next turn
  });
});
