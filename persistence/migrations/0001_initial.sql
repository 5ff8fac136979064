-- AYKA schema. Everything a person owns hangs off users(id) with ON DELETE CASCADE (directly, or through
-- sessions), so erasing a user or a session is one DELETE. audit_log keeps its rows with owner_id NULL.

CREATE TABLE users (
    id            text PRIMARY KEY,
    email         text NOT NULL,
    name          text NOT NULL DEFAULT '',
    password_hash text,  -- argon2id; NULL for a local owner who never signs in with a password
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE api_keys (
    id           text PRIMARY KEY,
    owner_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL DEFAULT '',
    prefix       text NOT NULL,
    key_hash     text NOT NULL UNIQUE,
    scopes       text[] NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_keys_owner_idx ON api_keys (owner_id, created_at);

CREATE TABLE refresh_tokens (
    id          text PRIMARY KEY,
    user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id   text NOT NULL,
    token_hash  text NOT NULL UNIQUE,
    issued_at   timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

CREATE TABLE sessions (
    id                 text PRIMARY KEY,
    owner_id           text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title              text NOT NULL DEFAULT '',
    status             text NOT NULL DEFAULT 'live'
                       CHECK (status IN ('live', 'processing', 'completed', 'failed')),
    source             text NOT NULL DEFAULT 'live' CHECK (source IN ('live', 'upload')),
    language           text,
    model              text,
    options            jsonb NOT NULL DEFAULT '{}',
    diarize_backend    text,
    diarization_status text NOT NULL DEFAULT 'pending'
                       CHECK (diarization_status IN ('pending', 'running', 'done', 'failed', 'off')),
    agents_status      text NOT NULL DEFAULT 'pending'
                       CHECK (agents_status IN ('pending', 'running', 'done', 'failed', 'off')),
    worker_id          text,
    error              text,
    agents_error       text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    ended_at           timestamptz,
    duration_s         double precision,
    last_seq           bigint,
    transcribed_at     timestamptz,
    archived_at        timestamptz,
    ready_at           timestamptz,
    audio_key          text,
    audio_format       text,
    audio_bytes        bigint,
    audio_sha256       text
);
CREATE INDEX sessions_owner_created_idx ON sessions (owner_id, created_at DESC, id DESC);
CREATE INDEX sessions_archived_idx ON sessions (archived_at) WHERE audio_key IS NOT NULL;

CREATE TABLE segments (
    session_id text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    idx        integer NOT NULL,
    start_s    double precision NOT NULL,
    end_s      double precision NOT NULL,
    text       text NOT NULL,
    words      jsonb NOT NULL DEFAULT '[]',
    speaker    integer,
    PRIMARY KEY (session_id, idx)
);

CREATE TABLE speakers (
    session_id text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    label      integer NOT NULL,
    name       text NOT NULL,
    PRIMARY KEY (session_id, label)
);

CREATE TABLE diarization_turns (
    session_id text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    start_s    double precision NOT NULL,
    end_s      double precision NOT NULL,
    speaker    integer NOT NULL
);
CREATE INDEX diarization_turns_session_idx ON diarization_turns (session_id, start_s);

CREATE TABLE leads (
    id            text PRIMARY KEY,
    owner_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id    text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    person        text,
    company       text,
    role          text,
    email         text,
    phone         text,
    intent        text,
    budget        text,
    timeline      text,
    next_step     text,
    score         integer NOT NULL DEFAULT 0 CHECK (score BETWEEN 0 AND 100),
    score_reasons jsonb NOT NULL DEFAULT '[]',
    status        text NOT NULL DEFAULT 'new'
                  CHECK (status IN ('new', 'contacted', 'qualified', 'won', 'lost')),
    notes         text NOT NULL DEFAULT '',
    evidence      jsonb NOT NULL DEFAULT '[]',
    email_draft   jsonb,
    engine        text NOT NULL DEFAULT '',
    finalized     boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX leads_owner_idx ON leads (owner_id, created_at DESC);
CREATE INDEX leads_session_idx ON leads (session_id);

CREATE TABLE events (
    id         text PRIMARY KEY,
    owner_id   text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    name       text NOT NULL,
    starts_at  timestamptz,
    ends_at    timestamptz,
    timezone   text,
    location   text,
    url        text,
    evidence   jsonb NOT NULL DEFAULT '[]',
    engine     text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_owner_idx ON events (owner_id, starts_at);
CREATE INDEX events_session_idx ON events (session_id);

CREATE TABLE summaries (
    session_id   text PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    owner_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    abstract     text NOT NULL DEFAULT '',
    bullets      jsonb NOT NULL DEFAULT '[]',
    action_items jsonb NOT NULL DEFAULT '[]',
    engine       text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE agent_runs (
    id         bigserial PRIMARY KEY,
    session_id text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    step       text NOT NULL DEFAULT '',
    engine     text NOT NULL,
    status     text NOT NULL,
    error      text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agent_runs_session_idx ON agent_runs (session_id, created_at);

CREATE TABLE webhook_endpoints (
    id                         text PRIMARY KEY,
    owner_id                   text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    url                        text NOT NULL,
    description                text NOT NULL DEFAULT '',
    event_types                text[] NOT NULL DEFAULT '{}',
    secret                     text NOT NULL,
    previous_secret            text,
    previous_secret_expires_at timestamptz,
    enabled                    boolean NOT NULL DEFAULT true,
    disabled_reason            text,
    failing_since              timestamptz,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_owner_idx ON webhook_endpoints (owner_id, created_at);

CREATE TABLE webhook_deliveries (
    id               text PRIMARY KEY,
    endpoint_id      text NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    owner_id         text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    webhook_id       text NOT NULL,
    event_type       text NOT NULL,
    payload          jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'delivering', 'succeeded', 'failed', 'dead')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_status_code integer,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at)
    WHERE status IN ('pending', 'delivering');
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, created_at DESC);
CREATE INDEX webhook_deliveries_owner_idx ON webhook_deliveries (owner_id);

CREATE TABLE notifications (
    id         text PRIMARY KEY,
    owner_id   text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       text NOT NULL,
    title      text NOT NULL,
    body       text NOT NULL DEFAULT '',
    data       jsonb NOT NULL DEFAULT '{}',
    read_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_owner_idx ON notifications (owner_id, created_at DESC);

CREATE TABLE push_tokens (
    owner_id   text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token      text NOT NULL,
    platform   text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner_id, token)
);

CREATE TABLE audit_log (
    id         bigserial PRIMARY KEY,
    owner_id   text REFERENCES users (id) ON DELETE SET NULL,
    actor      text NOT NULL DEFAULT '',
    action     text NOT NULL,
    target     text NOT NULL DEFAULT '',
    detail     jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_owner_idx ON audit_log (owner_id, created_at DESC);
