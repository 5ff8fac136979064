/** What the app needs to know about its gateway; built once at start-up and handed down. */
export interface AppConfig {
  /** The gateway's base URL, e.g. `https://ayka.example.com`. */
  apiUrl: string;
  /** The live endpoint, `ws(s)://<host>/v1/listen`. */
  listenUrl: string;
}

export const DEFAULT_API_URL = 'http://127.0.0.1:8000';

/** The live endpoint for an API base URL (http → ws, https → wss). */
export function listenUrlFor(apiUrl: string): string {
  return `${apiUrl.replace(/\/+$/, '').replace(/^http/, 'ws')}/v1/listen`;
}

/**
 * The config from app.json's `extra.apiUrl`, overridden by `EXPO_PUBLIC_API_URL` (inlined by Expo
 * at build time); the default suits a gateway on the development machine.
 */
export function loadConfig(extra: { apiUrl?: unknown } | undefined, envApiUrl?: string): AppConfig {
  const fromExtra = typeof extra?.apiUrl === 'string' && extra.apiUrl ? extra.apiUrl : undefined;
  const apiUrl = (envApiUrl || fromExtra || DEFAULT_API_URL).replace(/\/+$/, '');
  return { apiUrl, listenUrl: listenUrlFor(apiUrl) };
}
