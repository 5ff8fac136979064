// Microphone capture: getUserMedia -> AudioWorklet "pcm-capture" -> 100 ms PCM16 frames at 16 kHz.
// Browser glue only; the signal processing lives in pcm.ts (unit-tested).

import type { WorkletMessage } from "./worklet";

export interface CaptureOptions {
  deviceId?: string;
  /** Browser voice processing; off by default (it hurts transcription of meeting audio). */
  processing?: boolean;
  workletUrl?: string;
  onFrame: (pcm: ArrayBuffer) => void;
  onLevel?: (rms: number) => void;
}

export interface Microphone {
  deviceId: string;
  label: string;
}

export class MicrophoneError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MicrophoneError";
  }
}

export async function listMicrophones(): Promise<Microphone[]> {
  if (!navigator.mediaDevices?.enumerateDevices) return [];
  const devices = await navigator.mediaDevices.enumerateDevices();
  return devices
    .filter((d) => d.kind === "audioinput")
    .map((d, i) => ({ deviceId: d.deviceId, label: d.label || `Microphone ${i + 1}` }));
}

function explain(err: unknown): MicrophoneError {
  const name = err instanceof DOMException ? err.name : "";
  if (name === "NotAllowedError") return new MicrophoneError("Microphone access was refused. Allow it in the browser's site settings.");
  if (name === "NotFoundError") return new MicrophoneError("No microphone was found.");
  if (name === "NotReadableError") return new MicrophoneError("The microphone is in use by another program.");
  return new MicrophoneError(err instanceof Error ? err.message : "Could not open the microphone.");
}

/** A running capture; call stop() to flush the last partial frame and release the microphone. */
export class Capture {
  private constructor(
    private readonly context: AudioContext,
    private readonly stream: MediaStream,
    private readonly node: AudioWorkletNode,
    private readonly source: MediaStreamAudioSourceNode,
  ) {}

  get sampleRateHz(): number {
    return this.context.sampleRate;
  }

  static async start(opts: CaptureOptions): Promise<Capture> {
    if (!navigator.mediaDevices?.getUserMedia) throw new MicrophoneError("This browser cannot capture audio (a secure origin is needed).");
    const processing = opts.processing ?? false;
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: {
          deviceId: opts.deviceId ? { exact: opts.deviceId } : undefined,
          channelCount: 1,
          echoCancellation: processing,
          noiseSuppression: processing,
          autoGainControl: processing,
        },
      });
    } catch (err) {
      throw explain(err);
    }
    const context = new AudioContext();
    try {
      await context.audioWorklet.addModule(opts.workletUrl ?? "/pcm-worklet.js");
      const source = context.createMediaStreamSource(stream);
      const node = new AudioWorkletNode(context, "pcm-capture", { numberOfInputs: 1, numberOfOutputs: 1, channelCount: 1 });
      node.port.onmessage = (event: MessageEvent<WorkletMessage>) => {
        const msg = event.data;
        if (msg.type === "frame") opts.onFrame(msg.pcm);
        else if (msg.type === "level") opts.onLevel?.(msg.rms);
      };
      source.connect(node);
      // Pulled through a muted gain to the destination, so every browser keeps calling process().
      const mute = context.createGain();
      mute.gain.value = 0;
      node.connect(mute).connect(context.destination);
      if (context.state === "suspended") await context.resume();
      return new Capture(context, stream, node, source);
    } catch (err) {
      stream.getTracks().forEach((t) => t.stop());
      await context.close().catch(() => undefined);
      throw new MicrophoneError(err instanceof Error ? `Audio processing failed: ${err.message}` : "Audio processing failed.");
    }
  }

  async stop(): Promise<void> {
    const flushed = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 500);
      const previous = this.node.port.onmessage;
      this.node.port.onmessage = (event: MessageEvent<WorkletMessage>) => {
        previous?.call(this.node.port, event);
        if (event.data.type === "flushed") {
          clearTimeout(timer);
          resolve();
        }
      };
    });
    this.node.port.postMessage({ type: "flush" });
    await flushed;
    this.source.disconnect();
    this.node.disconnect();
    this.stream.getTracks().forEach((t) => t.stop());
    await this.context.close().catch(() => undefined);
  }
}
