import { CaptureError } from '../src/capture/audioSource';
import { MicrophoneSource } from '../src/capture/microphoneSource';

// The native audio module is outside the app: this stands in for it as the phone would behave.
const native = {
  granted: true,
  config: null as Record<string, unknown> | null,
  listener: null as ((event: { encoded?: string }) => Promise<void>) | null,
  stopped: false,
};

jest.mock('@siteed/audio-studio', () => ({
  ExpoAudioStreamModule: {
    requestPermissionsAsync: async () => ({ granted: native.granted }),
    startRecording: async (config: Record<string, unknown>) => {
      native.config = config;
    },
    stopRecording: async () => {
      native.stopped = true;
    },
  },
  addAudioEventListener: (listener: (event: { encoded?: string }) => Promise<void>) => {
    native.listener = listener;
    return { remove: () => (native.listener = null) };
  },
}));

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Base64, as the native module hands PCM to JavaScript. */
function base64Of(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const [a = 0, b = 0, c = 0] = [bytes[i], bytes[i + 1], bytes[i + 2]];
    const n = (a << 16) | (b << 8) | c;
    out += ALPHABET[(n >> 18) & 63]! + ALPHABET[(n >> 12) & 63]!;
    out += i + 1 < bytes.length ? ALPHABET[(n >> 6) & 63]! : '=';
    out += i + 2 < bytes.length ? ALPHABET[n & 63]! : '=';
  }
  return out;
}

describe('MicrophoneSource', () => {
  beforeEach(() => {
    native.granted = true;
    native.config = null;
    native.listener = null;
    native.stopped = false;
  });

  it('asks for 16 kHz mono PCM16 in the background and delivers 100 ms frames', async () => {
    const frames: Uint8Array[] = [];
    const source = new MicrophoneSource();
    await source.start((f) => frames.push(f));
    expect(native.config).toMatchObject({
      sampleRate: 16000,
      channels: 1,
      encoding: 'pcm_16bit',
      interval: 100,
      keepAwake: true,
      showNotification: true,
    });
    await native.listener?.({ encoded: base64Of(new Uint8Array(4000).fill(3)) });
    expect(frames.map((f) => [f.length, f[0], f[3199]])).toEqual([[3200, 3, 3]]);
    await source.stop();
    expect(native.stopped).toBe(true);
    expect(frames.map((f) => f.length)).toEqual([3200, 3200]); // the padded remainder
    expect(native.listener).toBeNull();
  });

  it('refuses to start without microphone permission', async () => {
    native.granted = false;
    await expect(new MicrophoneSource().start(() => undefined)).rejects.toBeInstanceOf(CaptureError);
    expect(native.config).toBeNull();
  });
});
