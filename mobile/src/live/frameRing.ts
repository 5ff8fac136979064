/** A frame and its sequence number (0-based, one per 100 ms frame of the session). */
export interface SequencedFrame {
  seq: number;
  bytes: Uint8Array;
}

/**
 * The most recent `capacity` frames, so that a reconnect can resend what the server may not have
 * received. When full, the oldest frame is dropped and counted.
 */
export class FrameRing {
  private readonly frames: SequencedFrame[] = [];
  private dropped = 0;

  constructor(readonly capacity: number) {
    if (capacity < 1) throw new RangeError('capacity must be at least 1');
  }

  push(frame: SequencedFrame): void {
    this.frames.push(frame);
    if (this.frames.length > this.capacity) {
      this.frames.shift();
      this.dropped += 1;
    }
  }

  /** The sequence number of the oldest frame held, or null when empty. */
  get oldestSeq(): number | null {
    return this.frames[0]?.seq ?? null;
  }

  get droppedCount(): number {
    return this.dropped;
  }

  get size(): number {
    return this.frames.length;
  }

  /** Frames with `seq >= fromSeq`, oldest first. */
  since(fromSeq: number): SequencedFrame[] {
    return this.frames.filter((frame) => frame.seq >= fromSeq);
  }
}
