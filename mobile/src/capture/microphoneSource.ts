import { type AudioSource, CaptureError, type FrameSink, PcmFramer } from './audioSource';
import { base64ToBytes } from './base64';
import { FRAME_MS, SAMPLE_RATE_HZ } from '../live/protocol';

interface AudioStudioEvent {
  encoded?: string;
}

interface Subscription {
  remove(): void;
}

/** The parts of @siteed/audio-studio this source uses (its module is typed `any`). */
interface AudioStudioModule {
  ExpoAudioStreamModule: {
    requestPermissionsAsync(): Promise<{ granted: boolean }>;
    startRecording(config: Record<string, unknown>): Promise<unknown>;
    stopRecording(): Promise<unknown>;
  };
  addAudioEventListener(listener: (event: AudioStudioEvent) => Promise<void>): Subscription;
}

function loadAudioStudio(): AudioStudioModule {
  try {
    // Required lazily: Expo Go has no such native module, and the rest of the app must still load.
    return require('@siteed/audio-studio') as AudioStudioModule;
  } catch {
    throw new CaptureError('Live capture needs a development build (the audio module is missing).');
  }
}

/**
 * The phone's microphone through @siteed/audio-studio: 16 kHz mono PCM16 delivered every 100 ms,
 * kept running with the screen locked (iOS background audio mode, Android foreground service).
 */
export class MicrophoneSource implements AudioSource {
  private subscription: Subscription | null = null;
  private framer = new PcmFramer();
  private sink: FrameSink | null = null;

  async start(sink: FrameSink): Promise<void> {
    const studio = loadAudioStudio();
    const permission = await studio.ExpoAudioStreamModule.requestPermissionsAsync();
    if (!permission.granted) throw new CaptureError('Microphone permission was refused.');
    this.framer = new PcmFramer();
    this.sink = sink;
    this.subscription = studio.addAudioEventListener(async (event) => {
      if (!event.encoded) return;
      for (const frame of this.framer.push(base64ToBytes(event.encoded))) sink(frame);
    });
    await studio.ExpoAudioStreamModule.startRecording({
      sampleRate: SAMPLE_RATE_HZ,
      channels: 1,
      encoding: 'pcm_16bit',
      interval: FRAME_MS,
      keepAwake: true,
      showNotification: true,
      notification: { title: 'AYKA is recording', text: 'Tap to return to the recording.' },
      android: { audioFocusStrategy: 'background' },
      output: { primary: { enabled: false } },
    });
  }

  async stop(): Promise<void> {
    await loadAudioStudio().ExpoAudioStreamModule.stopRecording();
    this.subscription?.remove();
    this.subscription = null;
    const last = this.framer.flush();
    if (last && this.sink) this.sink(last);
    this.sink = null;
  }
}
