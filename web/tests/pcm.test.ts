import { describe, expect, it } from "vitest";
import { FRAME_BYTES, FRAME_SAMPLES, Framer, Resampler, downsample, floatToPcm16, rmsLevel } from "@/lib/audio/pcm";

function sine(freqHz: number, rateHz: number, seconds: number, amp = 0.5): Float32Array {
  const n = Math.round(rateHz * seconds);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = amp * Math.sin((2 * Math.PI * freqHz * i) / rateHz);
  return out;
}

/** Magnitude of one DFT bin (Goertzel-free, plain sum), normalised to the amplitude. */
function toneAmplitude(x: Float32Array, freqHz: number, rateHz: number): number {
  let re = 0;
  let im = 0;
  for (let i = 0; i < x.length; i++) {
    const a = (2 * Math.PI * freqHz * i) / rateHz;
    re += (x[i] ?? 0) * Math.cos(a);
    im -= (x[i] ?? 0) * Math.sin(a);
  }
  return (2 * Math.hypot(re, im)) / x.length;
}

describe("downsample", () => {
  it("turns 1 s at 48 kHz into 16000 samples keeping a 440 Hz tone", () => {
    const out = downsample(sine(440, 48_000, 1), 48_000);
    expect(out.length).toBe(16_000);
    const middle = out.subarray(2000, 14_000);
    expect(toneAmplitude(middle, 440, 16_000)).toBeGreaterThan(0.45);
    expect(toneAmplitude(middle, 440, 16_000)).toBeLessThan(0.55);
    expect(toneAmplitude(middle, 1000, 16_000)).toBeLessThan(0.02);
  });

  it("handles 44.1 kHz (a non-integer ratio) with the right length and frequency", () => {
    const out = downsample(sine(1000, 44_100, 0.5), 44_100);
    expect(out.length).toBe(8000);
    const middle = out.subarray(1000, 7000);
    expect(toneAmplitude(middle, 1000, 16_000)).toBeGreaterThan(0.45);
    // zero crossings: 1000 Hz over 6000 samples at 16 kHz = 375 periods = 750 crossings
    let crossings = 0;
    for (let i = 1; i < middle.length; i++) if (((middle[i - 1] ?? 0) < 0) !== ((middle[i] ?? 0) < 0)) crossings++;
    expect(Math.abs(crossings - 750)).toBeLessThanOrEqual(2);
  });

  it("filters tones above the new Nyquist instead of folding them back", () => {
    // 12 kHz at 48 kHz would alias to 4 kHz at 16 kHz without a low-pass.
    const out = downsample(sine(12_000, 48_000, 0.5), 48_000);
    expect(rmsLevel(out.subarray(500, 7500))).toBeLessThan(0.01);
  });

  it("gives the same samples whether fed at once or in 128-sample chunks", () => {
    const input = sine(300, 48_000, 0.3);
    const whole = new Resampler(48_000).process(input);
    const chunked = new Resampler(48_000);
    const parts: number[] = [];
    for (let i = 0; i < input.length; i += 128) parts.push(...chunked.process(input.subarray(i, i + 128)));
    expect(parts.length).toBe(whole.length);
    for (let i = 0; i < whole.length; i++) expect(parts[i]).toBeCloseTo(whole[i] ?? 0, 5);
  });

  it("passes 16 kHz through unchanged", () => {
    const input = sine(500, 16_000, 0.1);
    const out = downsample(input, 16_000);
    expect(out.length).toBe(input.length);
    for (let i = 20; i < input.length - 20; i++) expect(out[i]).toBeCloseTo(input[i] ?? 0, 3);
  });
});

describe("floatToPcm16", () => {
  it("scales and clips", () => {
    expect(Array.from(floatToPcm16(Float32Array.from([0, 1, -1, 2, -2, 0.5])))).toEqual([0, 32767, -32768, 32767, -32768, 16384]);
  });
});

describe("Framer", () => {
  it("cuts 100 ms frames of 3200 bytes and carries the leftovers", () => {
    const framer = new Framer();
    expect(FRAME_SAMPLES).toBe(1600);
    expect(FRAME_BYTES).toBe(3200);
    const first = framer.push(Int16Array.from({ length: 1000 }, (_, i) => i));
    expect(first).toHaveLength(0);
    expect(framer.leftover).toBe(1000);
    const second = framer.push(Int16Array.from({ length: 2500 }, (_, i) => 1000 + i));
    expect(second).toHaveLength(2);
    expect(second[0]?.byteLength).toBe(3200);
    expect(second[0]?.[0]).toBe(0);
    expect(second[0]?.[1599]).toBe(1599);
    expect(second[1]?.[0]).toBe(1600); // continuous across pushes
    expect(framer.leftover).toBe(300);
    const last = framer.flush();
    expect(last?.[0]).toBe(3200);
    expect(last?.[299]).toBe(3499);
    expect(last?.[300]).toBe(0); // padded with silence
    expect(framer.flush()).toBeNull();
  });

  it("gives frames that do not share memory (they are transferred to the main thread)", () => {
    const framer = new Framer(4);
    const frames = framer.push(Int16Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(frames[0]?.buffer).not.toBe(frames[1]?.buffer);
  });
});
