// Pure audio blocks for capture: resample to 16 kHz, convert to PCM16, cut 100 ms frames.
// No DOM, no React: the AudioWorklet and the unit tests use the same code.

export const TARGET_RATE_HZ = 16_000;
export const FRAME_DURATION_MS = 100;
export const FRAME_SAMPLES = (TARGET_RATE_HZ * FRAME_DURATION_MS) / 1000; // 1600
export const FRAME_BYTES = FRAME_SAMPLES * 2; // 3200

/** Half-width of the windowed-sinc kernel, in output samples. */
const KERNEL_HALF_WIDTH = 8;

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

/**
 * Streaming windowed-sinc resampler. Chunks of any length go in (the AudioWorklet gives 128
 * samples); output samples come out as soon as the kernel has enough input on both sides.
 * Downsampling low-passes at 0.9 × the output Nyquist, so tones above 8 kHz do not fold back.
 */
export class Resampler {
  readonly inRateHz: number;
  readonly outRateHz: number;
  private readonly step: number; // input samples per output sample
  private readonly cutoff: number; // relative to the input sample rate's Nyquist
  private readonly halfWidthIn: number; // kernel half-width in input samples
  private buffer: Float32Array = new Float32Array(0);
  private bufferStart = 0; // global index of buffer[0]
  private nextOut = 0; // global index of the next output sample

  constructor(inRateHz: number, outRateHz: number = TARGET_RATE_HZ) {
    if (!(inRateHz > 0) || !(outRateHz > 0)) throw new RangeError("sample rates must be positive");
    this.inRateHz = inRateHz;
    this.outRateHz = outRateHz;
    this.step = inRateHz / outRateHz;
    this.cutoff = Math.min(1, outRateHz / inRateHz) * 0.9;
    this.halfWidthIn = Math.ceil(KERNEL_HALF_WIDTH * Math.max(1, this.step));
  }

  /** Feed input samples; returns the output samples that are now complete. */
  process(input: Float32Array): Float32Array {
    const merged = new Float32Array(this.buffer.length + input.length);
    merged.set(this.buffer);
    merged.set(input, this.buffer.length);
    this.buffer = merged;
    const available = this.bufferStart + merged.length; // global end (exclusive)
    const out: number[] = [];
    for (;;) {
      const t = this.nextOut * this.step; // position in input samples
      const last = Math.floor(t) + this.halfWidthIn;
      if (last >= available) break;
      out.push(this.sampleAt(t));
      this.nextOut += 1;
    }
    // Keep only what the next output sample's kernel still needs.
    const keepFrom = Math.max(this.bufferStart, Math.floor(this.nextOut * this.step) - this.halfWidthIn + 1);
    this.buffer = this.buffer.slice(keepFrom - this.bufferStart);
    this.bufferStart = keepFrom;
    return Float32Array.from(out);
  }

  private sampleAt(t: number): number {
    const h = this.halfWidthIn;
    const centre = Math.floor(t);
    let acc = 0;
    let norm = 0;
    for (let i = centre - h + 1; i <= centre + h; i++) {
      const d = t - i;
      const w = 0.5 + 0.5 * Math.cos((Math.PI * d) / h); // Hann window
      const k = this.cutoff * sinc(this.cutoff * d) * w;
      norm += k;
      const idx = i - this.bufferStart;
      // Before the stream starts there is silence.
      if (idx >= 0 && idx < this.buffer.length) acc += (this.buffer[idx] ?? 0) * k;
    }
    return norm === 0 ? 0 : acc / norm;
  }
}

/** One-shot helper: resample a whole buffer (flushes the kernel's tail with silence). */
export function downsample(input: Float32Array, inRateHz: number, outRateHz: number = TARGET_RATE_HZ): Float32Array {
  const resampler = new Resampler(inRateHz, outRateHz);
  const head = resampler.process(input);
  const expected = Math.round((input.length * outRateHz) / inRateHz);
  const tail = resampler.process(new Float32Array(Math.ceil(KERNEL_HALF_WIDTH * 2 * (inRateHz / outRateHz)) + 2));
  const out = new Float32Array(expected);
  out.set(head.subarray(0, expected));
  if (head.length < expected) out.set(tail.subarray(0, expected - head.length), head.length);
  return out;
}

/** Float samples in [-1, 1] to little-endian signed 16-bit, clipping what lies outside. */
export function floatToPcm16(input: Float32Array): Int16Array {
  const out = new Int16Array(input.length);
  for (let i = 0; i < input.length; i++) {
    const s = Math.max(-1, Math.min(1, input[i] ?? 0));
    out[i] = s < 0 ? Math.round(s * 0x8000) : Math.round(s * 0x7fff);
  }
  return out;
}

/** Root-mean-square level of a chunk, 0..1. */
export function rmsLevel(input: Float32Array): number {
  if (input.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < input.length; i++) {
    const s = input[i] ?? 0;
    sum += s * s;
  }
  return Math.sqrt(sum / input.length);
}

/** Cuts a stream of PCM16 samples into fixed frames; a partial frame waits for the next push. */
export class Framer {
  readonly frameSamples: number;
  private pending: Int16Array;
  private filled = 0;

  constructor(frameSamples: number = FRAME_SAMPLES) {
    if (!Number.isInteger(frameSamples) || frameSamples <= 0) throw new RangeError("frame size must be a positive integer");
    this.frameSamples = frameSamples;
    this.pending = new Int16Array(frameSamples);
  }

  /** Samples waiting for the next frame. */
  get leftover(): number {
    return this.filled;
  }

  push(samples: Int16Array): Int16Array[] {
    const frames: Int16Array[] = [];
    let offset = 0;
    while (offset < samples.length) {
      const take = Math.min(this.frameSamples - this.filled, samples.length - offset);
      this.pending.set(samples.subarray(offset, offset + take), this.filled);
      this.filled += take;
      offset += take;
      if (this.filled === this.frameSamples) {
        frames.push(this.pending);
        this.pending = new Int16Array(this.frameSamples);
        this.filled = 0;
      }
    }
    return frames;
  }

  /** The partial frame padded with silence (used at stop), or null when nothing is pending. */
  flush(): Int16Array | null {
    if (this.filled === 0) return null;
    const frame = this.pending;
    this.pending = new Int16Array(this.frameSamples);
    this.filled = 0;
    return frame;
  }
}
