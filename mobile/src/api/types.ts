/** Shapes of the AYKA REST API (docs/API.md). What the gateway sends is what these types say. */

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'bearer';
  expires_in: number;
}

export interface ListenGrant {
  access_token: string;
  expires_in: number;
  scope: 'listen';
}

export interface User {
  id: string;
  email: string;
  name: string;
  created_at: string;
}

export type SessionStatus = 'live' | 'processing' | 'completed' | 'failed';
export type StepStatus = 'pending' | 'running' | 'done' | 'failed' | 'off';

export interface Session {
  id: string;
  title: string | null;
  status: SessionStatus;
  source: 'live' | 'upload';
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
}

export interface Page<T> {
  items: T[];
  next_cursor?: string | null;
}

export interface TranscriptWord {
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
  words: TranscriptWord[];
}

export interface Transcript {
  session_id: string;
  segments: Segment[];
}

export interface Speaker {
  label: number;
  name: string;
}

export interface Evidence {
  quote: string;
  speaker: number | null;
  start_s: number;
  end_s: number;
}

export const LEAD_STATUSES = ['new', 'contacted', 'qualified', 'won', 'lost'] as const;
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

export interface LeadUpdate {
  status?: LeadStatus;
  notes?: string;
  person?: string;
  company?: string;
}

export interface CalendarEvent {
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

export type PushPlatform = 'ios' | 'android';
