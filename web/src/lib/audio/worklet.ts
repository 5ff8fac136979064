// AudioWorklet processor "pcm-capture": microphone float samples -> 16 kHz PCM16 frames of 100 ms,
// posted to the main thread as transferable ArrayBuffers, plus an input level ~10 times a second.
// Bundled to public/pcm-worklet.js by scripts/build-worklet.mjs.
import { FRAME_SAMPLES, Framer, Resampler, floatToPcm16, rmsLevel } from "./pcm";

// The AudioWorkletGlobalScope, declared here because the DOM library does not describe it.
declare const sampleRate: number;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
}
declare function registerProcessor(name: string, ctor: new () => AudioWorkletProcessor): void;

export type WorkletMessage =
  | { type: "frame"; pcm: ArrayBuffer }
  | { type: "level"; rms: number }
  | { type: "flushed" };

class PcmCaptureProcessor extends AudioWorkletProcessor {
  private readonly resampler = new Resampler(sampleRate);
  private readonly framer = new Framer(FRAME_SAMPLES);
  private levelSum = 0;
  private levelChunks = 0;
  private stopped = false;

  constructor() {
    super();
    this.port.onmessage = (event: MessageEvent<{ type: string }>) => {
      if (event.data.type === "flush") {
        const last = this.framer.flush();
        if (last) this.post({ type: "frame", pcm: last.buffer as ArrayBuffer }, [last.buffer as ArrayBuffer]);
        this.post({ type: "flushed" });
        this.stopped = true;
      }
    };
  }

  private post(message: WorkletMessage, transfer: Transferable[] = []): void {
    this.port.postMessage(message, transfer);
  }

  process(inputs: Float32Array[][]): boolean {
    if (this.stopped) return false;
    const channel = inputs[0]?.[0];
    if (!channel) return true;
    this.levelSum += rmsLevel(channel);
    this.levelChunks += 1;
    if (this.levelChunks >= 12) {
      this.post({ type: "level", rms: this.levelSum / this.levelChunks });
      this.levelSum = 0;
      this.levelChunks = 0;
    }
    const pcm = floatToPcm16(this.resampler.process(channel));
    for (const frame of this.framer.push(pcm)) {
      this.post({ type: "frame", pcm: frame.buffer as ArrayBuffer }, [frame.buffer as ArrayBuffer]);
    }
    return true;
  }
}

registerProcessor("pcm-capture", PcmCaptureProcessor);
