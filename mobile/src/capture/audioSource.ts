import { FRAME_BYTES } from '../live/protocol';

/** Receives 100 ms frames of 16 kHz mono PCM16 (3200 bytes each). */
export type FrameSink = (frame: Uint8Array) => void;

/**
 * A microphone, or anything that produces PCM like one. The app uses the native one; tests inject
 * a fake that plays frames they made.
 */
export interface AudioSource {
  /** Asks for permission if needed and starts delivering frames. */
  start(sink: FrameSink): Promise<void>;
  stop(): Promise<void>;
}

/** The microphone could not be used (no permission, no native module in Expo Go, busy). */
export class CaptureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CaptureError';
  }
}

/** Cuts PCM chunks of any size into exact 100 ms frames, carrying the remainder over. */
export class PcmFramer {
  private pending = new Uint8Array(0);

  push(chunk: Uint8Array): Uint8Array[] {
    const joined = new Uint8Array(this.pending.length + chunk.length);
    joined.set(this.pending, 0);
    joined.set(chunk, this.pending.length);
    const frames: Uint8Array[] = [];
    let offset = 0;
    while (joined.length - offset >= FRAME_BYTES) {
      frames.push(joined.slice(offset, offset + FRAME_BYTES));
      offset += FRAME_BYTES;
    }
    this.pending = joined.slice(offset);
    return frames;
  }

  /** The last partial frame, zero-padded to a full one (null when nothing is pending). */
  flush(): Uint8Array | null {
    if (this.pending.length === 0) return null;
    const frame = new Uint8Array(FRAME_BYTES);
    frame.set(this.pending, 0);
    this.pending = new Uint8Array(0);
    return frame;
  }
}
