// The one client for the AYKA REST API (docs/API.md). Holds the token pair, refreshes the access
// token silently on a 401 (one refresh at a time: refresh tokens rotate and reuse revokes them),
// and turns every error body into an ApiError. No React here.

import type {
  ApiKey,
  ApiKeyScope,
  AppEvent,
  CreatedApiKey,
  Delivery,
  Grant,
  Lead,
  Page,
  Session,
  Speaker,
  Summary,
  TokenPair,
  Transcript,
  TranscriptFormat,
  User,
  WebhookEndpoint,
} from "./types";

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export interface TokenStore {
  get(): TokenPair | null;
  set(tokens: TokenPair | null): void;
}

const STORAGE_KEY = "ayka.tokens";

/** Tokens in localStorage, so a reload keeps the person signed in. */
export function browserTokenStore(): TokenStore {
  return {
    get() {
      try {
        const raw = globalThis.localStorage?.getItem(STORAGE_KEY);
        return raw ? (JSON.parse(raw) as TokenPair) : null;
      } catch {
        return null;
      }
    },
    set(tokens) {
      if (tokens) globalThis.localStorage?.setItem(STORAGE_KEY, JSON.stringify(tokens));
      else globalThis.localStorage?.removeItem(STORAGE_KEY);
    },
  };
}

export function memoryTokenStore(initial: TokenPair | null = null): TokenStore {
  let tokens = initial;
  return { get: () => tokens, set: (t) => void (tokens = t) };
}

type Query = Record<string, string | number | boolean | null | undefined>;

interface RequestOptions {
  method?: string;
  body?: unknown;
  query?: Query;
  auth?: boolean;
  raw?: boolean; // return the Response (text, CSV, blobs)
}

export class ApiClient {
  readonly baseUrl: string;
  private readonly store: TokenStore;
  private readonly fetchImpl: typeof fetch;
  private refreshing: Promise<boolean> | null = null;
  private readonly listeners = new Set<(signedIn: boolean) => void>();

  constructor(baseUrl: string, store: TokenStore, fetchImpl: typeof fetch = (...args) => fetch(...args)) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.store = store;
    this.fetchImpl = fetchImpl;
  }

  get signedIn(): boolean {
    return this.store.get() !== null;
  }

  /** Called with false when the session ends (logout, or refresh refused). */
  onAuthChange(listener: (signedIn: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  url(path: string, query?: Query): string {
    const origin = this.baseUrl || (typeof location !== "undefined" ? location.origin : "");
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
    const qs = params.toString();
    return `${origin}${path}${qs ? `?${qs}` : ""}`;
  }

  /** ws(s):// URL of the live endpoint, on the same host as the API. */
  listenUrl(): string {
    return this.url("/v1/listen").replace(/^http/, "ws");
  }

  // ------------------------------------------------------------------ core

  async request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    const response = await this.send(path, opts);
    if (opts.raw) return response as unknown as T;
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private async send(path: string, opts: RequestOptions, retried = false): Promise<Response> {
    const auth = opts.auth ?? true;
    const headers: Record<string, string> = { Accept: "application/json" };
    if (opts.body !== undefined && !(opts.body instanceof FormData)) headers["Content-Type"] = "application/json";
    const tokens = this.store.get();
    if (auth && tokens) headers.Authorization = `Bearer ${tokens.access_token}`;
    let response: Response;
    try {
      response = await this.fetchImpl(this.url(path, opts.query), {
        method: opts.method ?? "GET",
        headers,
        body: opts.body === undefined ? undefined : opts.body instanceof FormData ? opts.body : JSON.stringify(opts.body),
      });
    } catch {
      throw new ApiError(0, "network_error", "Cannot reach the server. Check your connection and try again.");
    }
    if (response.status === 401 && auth && tokens && !retried) {
      if (await this.refresh(tokens.refresh_token)) return this.send(path, opts, true);
    }
    if (!response.ok) throw await toApiError(response);
    return response;
  }

  /** Rotate the token pair; concurrent callers share one refresh. Returns false when signed out. */
  refresh(usedRefreshToken?: string): Promise<boolean> {
    if (!this.refreshing) {
      this.refreshing = this.doRefresh(usedRefreshToken).finally(() => (this.refreshing = null));
    }
    return this.refreshing;
  }

  private async doRefresh(usedRefreshToken?: string): Promise<boolean> {
    const current = this.store.get();
    if (!current) return false;
    // Another tab (or an earlier call) may have rotated already: use the newer pair.
    if (usedRefreshToken && current.refresh_token !== usedRefreshToken) return true;
    try {
      const pair = await this.request<TokenPair>("/v1/auth/refresh", {
        method: "POST",
        body: { refresh_token: current.refresh_token },
        auth: false,
      });
      this.store.set(pair);
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.status !== 0) this.signOutLocally();
      return false;
    }
  }

  private signOutLocally(): void {
    this.store.set(null);
    for (const l of this.listeners) l(false);
  }

  private signIn(pair: TokenPair): TokenPair {
    this.store.set(pair);
    for (const l of this.listeners) l(true);
    return pair;
  }

  // ------------------------------------------------------------------ auth and users

  async signup(email: string, password: string, name?: string): Promise<TokenPair> {
    const body = name ? { email, password, name } : { email, password };
    return this.signIn(await this.request<TokenPair>("/v1/auth/signup", { method: "POST", body, auth: false }));
  }

  async login(email: string, password: string): Promise<TokenPair> {
    return this.signIn(await this.request<TokenPair>("/v1/auth/login", { method: "POST", body: { email, password }, auth: false }));
  }

  async logout(): Promise<void> {
    const tokens = this.store.get();
    try {
      if (tokens) await this.request("/v1/auth/logout", { method: "POST", body: { refresh_token: tokens.refresh_token }, auth: false });
    } finally {
      this.signOutLocally();
    }
  }

  grant(ttlS = 300): Promise<Grant> {
    return this.request("/v1/auth/grant", { method: "POST", body: { ttl_s: ttlS } });
  }

  me(): Promise<User> {
    return this.request("/v1/users/me");
  }

  // ------------------------------------------------------------------ API keys

  listApiKeys(): Promise<Page<ApiKey>> {
    return this.request("/v1/api-keys");
  }

  createApiKey(name: string, scopes: ApiKeyScope[]): Promise<CreatedApiKey> {
    return this.request("/v1/api-keys", { method: "POST", body: { name, scopes } });
  }

  revokeApiKey(id: string): Promise<void> {
    return this.request(`/v1/api-keys/${encodeURIComponent(id)}`, { method: "DELETE" });
  }

  // ------------------------------------------------------------------ sessions

  listSessions(query: { q?: string; cursor?: string; status?: string; limit?: number } = {}): Promise<Page<Session>> {
    return this.request("/v1/sessions", { query });
  }

  getSession(id: string): Promise<Session> {
    return this.request(`/v1/sessions/${encodeURIComponent(id)}`);
  }

  renameSession(id: string, title: string): Promise<Session> {
    return this.request(`/v1/sessions/${encodeURIComponent(id)}`, { method: "PATCH", body: { title } });
  }

  deleteSession(id: string): Promise<void> {
    return this.request(`/v1/sessions/${encodeURIComponent(id)}`, { method: "DELETE" });
  }

  transcript(id: string): Promise<Transcript> {
    return this.request(`/v1/sessions/${encodeURIComponent(id)}/transcript`, { query: { format: "json" } });
  }

  async transcriptText(id: string, format: TranscriptFormat): Promise<string> {
    const response = await this.request<Response>(`/v1/sessions/${encodeURIComponent(id)}/transcript`, { query: { format }, raw: true });
    return response.text();
  }

  audio(id: string): Promise<{ url: string; expires_at: string }> {
    return this.request(`/v1/sessions/${encodeURIComponent(id)}/audio`);
  }

  speakers(id: string): Promise<Page<Speaker>> {
    return this.request(`/v1/sessions/${encodeURIComponent(id)}/speakers`);
  }

  renameSpeaker(id: string, label: number, name: string): Promise<Speaker> {
    return this.request(`/v1/sessions/${encodeURIComponent(id)}/speakers/${label}`, { method: "PATCH", body: { name } });
  }

  summary(id: string): Promise<Summary> {
    return this.request(`/v1/sessions/${encodeURIComponent(id)}/summary`);
  }

  // ------------------------------------------------------------------ leads and events

  listLeads(query: { status?: string; session_id?: string } = {}): Promise<Page<Lead>> {
    return this.request("/v1/leads", { query });
  }

  updateLead(id: string, patch: Partial<Pick<Lead, "status" | "notes" | "person" | "company">>): Promise<Lead> {
    return this.request(`/v1/leads/${encodeURIComponent(id)}`, { method: "PATCH", body: patch });
  }

  async leadsCsv(): Promise<string> {
    const response = await this.request<Response>("/v1/leads/export.csv", { raw: true });
    return response.text();
  }

  listEvents(query: { session_id?: string; since?: string } = {}): Promise<Page<AppEvent>> {
    return this.request("/v1/events", { query });
  }

  // ------------------------------------------------------------------ webhooks

  listWebhooks(): Promise<Page<WebhookEndpoint>> {
    return this.request("/v1/webhooks");
  }

  createWebhook(url: string, eventTypes: string[], description?: string): Promise<WebhookEndpoint> {
    return this.request("/v1/webhooks", { method: "POST", body: { url, event_types: eventTypes, description } });
  }

  deleteWebhook(id: string): Promise<void> {
    return this.request(`/v1/webhooks/${encodeURIComponent(id)}`, { method: "DELETE" });
  }

  webhookSecret(id: string): Promise<{ secret: string }> {
    return this.request(`/v1/webhooks/${encodeURIComponent(id)}/secret`);
  }

  rotateWebhookSecret(id: string): Promise<{ secret: string }> {
    return this.request(`/v1/webhooks/${encodeURIComponent(id)}/rotate-secret`, { method: "POST" });
  }

  deliveries(id: string): Promise<Page<Delivery>> {
    return this.request(`/v1/webhooks/${encodeURIComponent(id)}/deliveries`);
  }

  replayDelivery(id: string, deliveryId: string): Promise<void> {
    return this.request(`/v1/webhooks/${encodeURIComponent(id)}/deliveries/${encodeURIComponent(deliveryId)}/replay`, { method: "POST" });
  }
}

async function toApiError(response: Response): Promise<ApiError> {
  let code = `http_${response.status}`;
  let message = response.statusText || `Request failed (${response.status})`;
  let details: unknown;
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string; details?: unknown }; detail?: unknown };
    if (body.error) {
      code = body.error.code ?? code;
      message = body.error.message ?? message;
      details = body.error.details;
    } else if (typeof body.detail === "string") {
      message = body.detail;
    }
  } catch {
    // not JSON: keep the status text
  }
  if (response.status === 429) {
    const retry = response.headers.get("Retry-After");
    if (retry) message = `${message} Try again in ${retry} s.`;
  }
  return new ApiError(response.status, code, message, details);
}

/** The base URL: same origin unless NEXT_PUBLIC_API_URL says otherwise (running the web app on its own). */
export function defaultBaseUrl(): string {
  return process.env.NEXT_PUBLIC_API_URL ?? "";
}

let shared: ApiClient | null = null;

/** The app's single client (browser only). */
export function api(): ApiClient {
  shared ??= new ApiClient(defaultBaseUrl(), browserTokenStore());
  return shared;
}
