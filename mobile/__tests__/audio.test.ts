import { PcmFramer } from '../src/capture/audioSource';
import { base64ToBytes } from '../src/capture/base64';
import { pcmDurationS, wavHeader } from '../src/offline/wav';

describe('base64ToBytes', () => {
  it('decodes what native audio modules send', () => {
    expect(Array.from(base64ToBytes('AAEC/w=='))).toEqual([0, 1, 2, 255]);
    expect(Array.from(base64ToBytes('aGk='))).toEqual([104, 105]);
    expect(Array.from(base64ToBytes(''))).toEqual([]);
  });
});

describe('PcmFramer', () => {
  it('cuts chunks of any size into 3200-byte frames and pads the last one', () => {
    const framer = new PcmFramer();
    expect(framer.push(new Uint8Array(1000).fill(1))).toHaveLength(0);
    const frames = framer.push(new Uint8Array(6000).fill(2));
    expect(frames.map((f) => f.length)).toEqual([3200, 3200]);
    expect([frames[0]![999], frames[0]![1000]]).toEqual([1, 2]);
    const last = framer.flush();
    expect(last?.length).toBe(3200);
    expect([last![599], last![600]]).toEqual([2, 0]);
    expect(framer.flush()).toBeNull();
  });
});

describe('wavHeader', () => {
  it('describes 16 kHz mono PCM16', () => {
    const view = new DataView(wavHeader(32000).buffer);
    const ascii = (o: number) => String.fromCharCode(...new Uint8Array(view.buffer, o, 4));
    expect([ascii(0), ascii(8), ascii(12), ascii(36)]).toEqual(['RIFF', 'WAVE', 'fmt ', 'data']);
    expect(view.getUint32(4, true)).toBe(36 + 32000);
    expect(view.getUint16(22, true)).toBe(1);
    expect(view.getUint32(24, true)).toBe(16000);
    expect(view.getUint16(34, true)).toBe(16);
    expect(view.getUint32(40, true)).toBe(32000);
    expect(pcmDurationS(32000)).toBe(1);
  });
});
