/** A WAV file being written, frame by frame. */
export interface RecordingWriter {
  readonly uri: string;
  append(pcm: Uint8Array): Promise<void>;
  /** Writes what is buffered and fixes the header; returns the PCM byte count. */
  close(): Promise<number>;
}

/**
 * Where offline recordings live. The app uses the phone's document directory (expo-file-system);
 * tests use an in-memory one that outlives a simulated restart.
 */
export interface RecordingFiles {
  create(name: string): Promise<RecordingWriter>;
  /**
   * Makes a file left half-written (the app was killed while recording) a valid WAV again and
   * returns its PCM byte count, or null when the file is gone.
   */
  repair(uri: string): Promise<number | null>;
  remove(uri: string): Promise<void>;
}
