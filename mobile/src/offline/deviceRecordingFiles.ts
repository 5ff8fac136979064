import { Directory, File, FileMode, Paths } from 'expo-file-system';

import { WAV_HEADER_BYTES, wavHeader } from './wav';
import type { RecordingFiles, RecordingWriter } from './recordingFiles';

/** How much PCM is buffered in memory before a write: 1 s (at most 1 s lost if the app dies). */
const FLUSH_BYTES = 32_000;

class DeviceRecordingWriter implements RecordingWriter {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private written = 0;

  constructor(private readonly file: File) {}

  get uri(): string {
    return this.file.uri;
  }

  async append(pcm: Uint8Array): Promise<void> {
    this.chunks.push(pcm);
    this.buffered += pcm.length;
    if (this.buffered >= FLUSH_BYTES) this.flush();
  }

  async close(): Promise<number> {
    this.flush();
    writeHeader(this.file, this.written);
    return this.written;
  }

  private flush(): void {
    if (this.buffered === 0) return;
    const joined = new Uint8Array(this.buffered);
    let offset = 0;
    for (const chunk of this.chunks) {
      joined.set(chunk, offset);
      offset += chunk.length;
    }
    this.file.write(joined, { append: true });
    this.written += joined.length;
    this.chunks = [];
    this.buffered = 0;
  }
}

function writeHeader(file: File, dataBytes: number): void {
  const handle = file.open(FileMode.ReadWrite);
  try {
    handle.offset = 0;
    handle.writeBytes(wavHeader(dataBytes));
  } finally {
    handle.close();
  }
}

/** Offline recordings as WAV files under the app's document directory (kept until uploaded). */
export class DeviceRecordingFiles implements RecordingFiles {
  private readonly directory = new Directory(Paths.document, 'recordings');

  async create(name: string): Promise<RecordingWriter> {
    this.directory.create({ idempotent: true, intermediates: true });
    const file = new File(this.directory, `${name}.wav`);
    file.create({ overwrite: true });
    file.write(wavHeader(0));
    return new DeviceRecordingWriter(file);
  }

  async repair(uri: string): Promise<number | null> {
    const file = new File(uri);
    if (!file.exists) return null;
    const dataBytes = Math.max(0, (file.size ?? 0) - WAV_HEADER_BYTES);
    writeHeader(file, dataBytes);
    return dataBytes;
  }

  async remove(uri: string): Promise<void> {
    const file = new File(uri);
    if (file.exists) file.delete();
  }
}
