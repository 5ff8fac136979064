import { SAMPLE_RATE_HZ } from '../live/protocol';

export const WAV_HEADER_BYTES = 44;

/** The 44-byte header of a PCM16 mono WAV file holding `dataBytes` bytes of samples. */
export function wavHeader(dataBytes: number, sampleRateHz = SAMPLE_RATE_HZ): Uint8Array {
  const header = new Uint8Array(WAV_HEADER_BYTES);
  const view = new DataView(header.buffer);
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i += 1) header[offset + i] = text.charCodeAt(i);
  };
  const channels = 1;
  const bytesPerSample = 2;
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, channels, true);
  view.setUint32(24, sampleRateHz, true);
  view.setUint32(28, sampleRateHz * channels * bytesPerSample, true);
  view.setUint16(32, channels * bytesPerSample, true);
  view.setUint16(34, bytesPerSample * 8, true);
  ascii(36, 'data');
  view.setUint32(40, dataBytes, true);
  return header;
}

/** Seconds of audio in `dataBytes` bytes of 16 kHz mono PCM16. */
export function pcmDurationS(dataBytes: number, sampleRateHz = SAMPLE_RATE_HZ): number {
  return dataBytes / (sampleRateHz * 2);
}
