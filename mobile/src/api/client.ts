import type { TokenStore } from '../auth/tokenStore';
import { ApiError, NetworkError, SignedOutError } from './errors';
import type {
  CalendarEvent,
  Lead,
  LeadUpdate,
  ListenGrant,
  Page,
  PushPlatform,
  Session,
  Speaker,
  TokenPair,
  Transcript,
  User,
} from './types';

/** The part of a fetch Response the client reads. */
export interface HttpResponse {
  status: number;
  ok: boolean;
  json(): Promise<unknown>;
  text(): Promise<string>;
}

export interface HttpRequest {
  method: string;
  headers: Record<string, string>;
  body?: string | FormData;
}

export type HttpFetch = (url: string, init: HttpRequest) => Promise<HttpResponse>;

/** A file on the device, as React Native's FormData takes it. */
export interface DeviceFile {
  uri: string;
  name: string;
  type: string;
}

interface RequestOptions {
  body?: unknown;
  form?: FormData;
  query?: Record<string, string | number | undefined>;
  /** false for the endpoints that create tokens (login, refresh). */
  authenticated?: boolean;
}

/**
 * The one client for the AYKA REST API. Every authenticated call carries the access token; a 401
 * refreshes the token pair once (shared by concurrent callers: refresh tokens rotate, so two
 * refreshes with the same token would revoke the family) and the call is retried.
 */
export class ApiClient {
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly baseUrl: string,
    private readonly tokens: TokenStore,
    private readonly fetchImpl: HttpFetch,
  ) {}

  // ---------------------------------------------------------------- auth

  async login(email: string, password: string): Promise<TokenPair> {
    const pair = await this.request<TokenPair>('POST', '/v1/auth/login', {
      body: { email, password },
      authenticated: false,
    });
    await this.tokens.save(pair);
    return pair;
  }

  async logout(): Promise<void> {
    const refreshToken = this.tokens.current?.refresh_token;
    try {
      if (refreshToken) {
        await this.request<void>('POST', '/v1/auth/logout', {
          body: { refresh_token: refreshToken },
          authenticated: false,
        });
      }
    } finally {
      await this.tokens.clear();
    }
  }

  /** A short-lived token for `/v1/listen` only. */
  grantListenToken(ttlS = 600): Promise<ListenGrant> {
    return this.request<ListenGrant>('POST', '/v1/auth/grant', { body: { ttl_s: ttlS } });
  }

  me(): Promise<User> {
    return this.request<User>('GET', '/v1/users/me');
  }

  // ---------------------------------------------------------------- sessions

  listSessions(cursor?: string): Promise<Page<Session>> {
    return this.request<Page<Session>>('GET', '/v1/sessions', { query: { limit: 50, cursor } });
  }

  getSession(id: string): Promise<Session> {
    return this.request<Session>('GET', `/v1/sessions/${encodeURIComponent(id)}`);
  }

  getTranscript(id: string): Promise<Transcript> {
    return this.request<Transcript>('GET', `/v1/sessions/${encodeURIComponent(id)}/transcript`, {
      query: { format: 'json' },
    });
  }

  listSpeakers(id: string): Promise<Page<Speaker>> {
    return this.request<Page<Speaker>>('GET', `/v1/sessions/${encodeURIComponent(id)}/speakers`);
  }

  renameSpeaker(id: string, label: number, name: string): Promise<Speaker> {
    return this.request<Speaker>(
      'PATCH',
      `/v1/sessions/${encodeURIComponent(id)}/speakers/${label}`,
      { body: { name } },
    );
  }

  /** Uploads a recorded file (multipart); the gateway answers 202 with the new session. */
  uploadRecording(file: DeviceFile, title?: string): Promise<Session> {
    const form = new FormData();
    // React Native's FormData takes {uri, name, type} and streams the file from disk.
    form.append('file', file as unknown as Blob);
    if (title) form.append('title', title);
    return this.request<Session>('POST', '/v1/recordings', { form });
  }

  // ---------------------------------------------------------------- leads, events, push

  listLeads(): Promise<Page<Lead>> {
    return this.request<Page<Lead>>('GET', '/v1/leads');
  }

  updateLead(id: string, update: LeadUpdate): Promise<Lead> {
    return this.request<Lead>('PATCH', `/v1/leads/${encodeURIComponent(id)}`, { body: update });
  }

  listEvents(): Promise<Page<CalendarEvent>> {
    return this.request<Page<CalendarEvent>>('GET', '/v1/events');
  }

  async registerPushToken(token: string, platform: PushPlatform): Promise<void> {
    await this.request<unknown>('POST', '/v1/push-tokens', { body: { token, platform } });
  }

  // ---------------------------------------------------------------- plumbing

  private async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const authenticated = options.authenticated ?? true;
    let response = await this.send(method, path, options, authenticated);
    if (response.status === 401 && authenticated) {
      await this.refreshTokens();
      response = await this.send(method, path, options, authenticated);
    }
    if (!response.ok) throw await toApiError(response);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  private async send(
    method: string,
    path: string,
    options: RequestOptions,
    authenticated: boolean,
  ): Promise<HttpResponse> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    let body: string | FormData | undefined;
    if (options.form) {
      body = options.form;
    } else if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    if (authenticated) {
      const access = this.tokens.current?.access_token;
      if (!access) throw new SignedOutError();
      headers.Authorization = `Bearer ${access}`;
    }
    try {
      return await this.fetchImpl(this.url(path, options.query), { method, headers, body });
    } catch (error) {
      throw new NetworkError(error instanceof Error ? error.message : 'Network request failed');
    }
  }

  /** One refresh at a time; callers that hit 401 meanwhile wait for it and retry. */
  private refreshTokens(): Promise<void> {
    if (!this.refreshing) {
      this.refreshing = this.doRefresh().finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    const refreshToken = this.tokens.current?.refresh_token;
    if (!refreshToken) throw new SignedOutError();
    const response = await this.send(
      'POST',
      '/v1/auth/refresh',
      { body: { refresh_token: refreshToken } },
      false,
    );
    if (response.status === 401 || response.status === 403) {
      await this.tokens.clear();
      throw new SignedOutError();
    }
    if (!response.ok) throw await toApiError(response);
    await this.tokens.save((await response.json()) as TokenPair);
  }

  private url(path: string, query?: RequestOptions['query']): string {
    const base = this.baseUrl.replace(/\/+$/, '');
    const params = Object.entries(query ?? {})
      .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
      .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
    return params.length ? `${base}${path}?${params.join('&')}` : `${base}${path}`;
  }
}

async function toApiError(response: HttpResponse): Promise<ApiError> {
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.code) {
      return new ApiError(response.status, body.error.code, body.error.message ?? body.error.code);
    }
  } catch {
    // not JSON: a proxy or a crash page; fall through to a generic error
  }
  return new ApiError(response.status, 'http_error', `The server answered ${response.status}.`);
}
