import type { CalendarEvent, Lead, Session } from '../../src/api/types';

export function session(id: string, title: string): Session {
  return {
    id,
    title,
    status: 'completed',
    source: 'live',
    created_at: '2026-11-25T10:00:00Z',
    ended_at: '2026-11-25T10:05:00Z',
    duration_s: 300,
    language: 'en',
    model: 'small',
    diarize_backend: 'offline',
    diarization_status: 'done',
    agents_status: 'done',
    segment_count: 2,
    speaker_count: 2,
  };
}

export function lead(id: string, person: string, status: Lead['status'] = 'new'): Lead {
  return {
    id,
    session_id: 's1',
    person,
    company: 'Acme',
    role: 'CTO',
    email: null,
    phone: null,
    intent: 'Wants a pilot',
    budget: null,
    timeline: null,
    next_step: 'Send pricing',
    score: 82,
    score_reasons: [],
    status,
    notes: null,
    evidence: [],
    email_draft: null,
    engine: 'offline',
    finalized: true,
    created_at: '2026-11-25T10:00:00Z',
    updated_at: '2026-11-25T10:00:00Z',
  };
}

export function event(id: string, name: string): CalendarEvent {
  return {
    id,
    session_id: 's1',
    name,
    starts_at: '2026-12-01T15:00:00+01:00',
    ends_at: null,
    timezone: 'Europe/Paris',
    location: 'Zoom',
    url: null,
    evidence: [],
    engine: 'offline',
    created_at: '2026-11-25T10:00:00Z',
  };
}
