import type { ApiClient } from '../api/client';
import type { PushPlatform } from '../api/types';

/** The device side of push: permission and the Expo push token. */
export interface PushProvider {
  platform: PushPlatform | null;
  /** Asks for permission when needed; resolves with the token, or null when refused/unavailable. */
  expoPushToken(): Promise<string | null>;
  /** Calls back with a notification's data when the user taps it. */
  onOpened?(listener: (data: Record<string, unknown>) => void): () => void;
}

/** The notification the gateway sends when a call's lead is ready. */
export function isLeadNotification(data: Record<string, unknown>): boolean {
  return data.event === 'lead.finalized' || data.kind === 'lead.finalized' || 'lead_id' in data;
}

export enum PushRegistration {
  Registered = 'registered',
  /** Not a phone (web, simulator without push), or permission refused. */
  Unavailable = 'unavailable',
  Failed = 'failed',
}

/**
 * Registers this phone for `lead.finalized` pushes: the gateway keeps the Expo push token
 * (`POST /v1/push-tokens`) and sends through Expo's push service.
 */
export async function registerForPush(
  api: Pick<ApiClient, 'registerPushToken'>,
  provider: PushProvider,
): Promise<PushRegistration> {
  if (!provider.platform) return PushRegistration.Unavailable;
  let token: string | null;
  try {
    token = await provider.expoPushToken();
  } catch {
    return PushRegistration.Unavailable;
  }
  if (!token) return PushRegistration.Unavailable;
  try {
    await api.registerPushToken(token, provider.platform);
    return PushRegistration.Registered;
  } catch {
    return PushRegistration.Failed;
  }
}
