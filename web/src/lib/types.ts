// The shapes of docs/API.md, as the web app reads them.

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: "bearer";
  expires_in: number;
}

export interface Grant {
  access_token: string;
  expires_in: number;
  scope: "listen";
}

export interface User {
  id: string;
  email: string;
  name: string | null;
  created_at: string;
}

export type ApiKeyScope = "listen" | "read" | "write" | "admin";

export interface ApiKey {
  id: string;
  name: string;
  scopes: ApiKeyScope[];
  prefix: string;
  created_at: string;
  last_used_at?: string | null;
}

export interface CreatedApiKey extends ApiKey {
  key: string;
}

export type SessionStatus = "live" | "processing" | "completed" | "failed";
export type StepStatus = "pending" | "running" | "done" | "failed" | "off";

export interface Session {
  id: string;
  title: string | null;
  status: SessionStatus;
  source: "live" | "upload";
  created_at: string;
  ended_at: string | null;
  duration_s: number | null;
  language: string | null;
  model: string | null;
  diarize_backend: string | null;
  diarization_status: StepStatus;
  agents_status: StepStatus;
  segment_count: number;
  speaker_count: number;
  error?: string | null;
}

export interface Page<T> {
  items: T[];
  next_cursor?: string | null;
}

export interface Word {
  word: string;
  punctuated_word: string;
  start_s: number;
  end_s: number;
  confidence: number;
  speaker: number | null;
}

export interface Segment {
  index: number;
  start_s: number;
  end_s: number;
  text: string;
  speaker: number | null;
  speaker_name: string | null;
  words: Word[];
}

export interface Transcript {
  session_id: string;
  segments: Segment[];
}

export interface Speaker {
  label: number;
  name: string;
}

export interface Summary {
  abstract: string;
  bullets: string[];
  action_items: { text: string; owner: string | null }[];
  engine: string;
}

export interface Evidence {
  quote: string;
  speaker: number | string | null;
  start_s: number;
  end_s: number;
}

export const LEAD_STATUSES = ["new", "contacted", "qualified", "won", "lost"] as const;
export type LeadStatus = (typeof LEAD_STATUSES)[number];

export interface Lead {
  id: string;
  session_id: string;
  person: string | null;
  company: string | null;
  role: string | null;
  email: string | null;
  phone: string | null;
  intent: string | null;
  budget: string | null;
  timeline: string | null;
  next_step: string | null;
  score: number;
  score_reasons: string[];
  status: LeadStatus;
  notes: string | null;
  evidence: Evidence[];
  email_draft: { subject: string; body: string } | null;
  engine: string;
  finalized: boolean;
  created_at: string;
  updated_at: string;
}

export interface AppEvent {
  id: string;
  session_id: string;
  name: string;
  starts_at: string | null;
  ends_at: string | null;
  timezone: string | null;
  location: string | null;
  url: string | null;
  evidence: Evidence[];
  engine: string;
  created_at: string;
}

export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string | null;
  event_types: string[];
  enabled?: boolean;
  disabled_reason?: string | null;
  failing_since?: string | null;
  created_at: string;
  secret?: string;
}

export interface Delivery {
  id: string;
  webhook_id: string; // the message id, the same on every retry and replay
  event_type: string;
  status: string;
  attempts: number;
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

// What the server delivers (gateway/api/schemas/webhooks.py WebhookEventType).
export const WEBHOOK_EVENT_TYPES = ["lead.finalized", "transcript.finalized", "session.completed"] as const;

export type TranscriptFormat = "txt" | "srt" | "vtt";
