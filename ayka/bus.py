"""The bus contract: every subject name, stream, KV bucket and message schema, in one place.

Services talk only through what is defined here. Audio and control markers for one session travel on
one subject (``audio.<session>``) so that ``Finalize`` and ``CloseStream`` keep their order relative to
the audio around them.
"""

from __future__ import annotations

import contextlib
import enum
import re
from datetime import timedelta
from typing import Any, Literal

from nats.js import JetStreamContext
from nats.js.api import (
    DiscardPolicy,
    KeyValueConfig,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import BadRequestError, BucketNotFoundError, KeyNotFoundError
from pydantic import BaseModel, Field

# ---------------------------------------------------------------- subjects

AUDIO_PREFIX = "audio"
TRANSCRIPT_PREFIX = "transcript"  # interim results, core NATS
FINAL_PREFIX = "final"  # final results, JetStream TRANSCRIPTS
SPEAKER_PREFIX = "speaker"  # live speaker labels, core NATS
CONTROL_PREFIX = "control"  # gateway-bound notices for one session (warnings, errors), core NATS

# Lifecycle events. Each is published on ``<kind>.<session>`` (see ``event_subject``) so that erasing a
# session can purge its messages by subject; consumers filter on ``<kind>.*`` (see ``every_session``).
SESSION_START = "session.start"
SESSION_END = "session.end"
SESSION_READY = "session.ready"  # audio archived and every final persisted: post-call work may start
SESSION_DIARIZED = "session.diarized"
SESSION_COMPLETED = "session.completed"
SESSION_DELETED = "session.deleted"
LEAD_FINALIZED = "lead.finalized"
TRANSCRIPT_FINALIZED = "transcript.finalized"
RECORDING_UPLOADED = "recording.uploaded"
AGENTS_DONE = "agents.done"

EVENT_SUBJECTS = (
    SESSION_READY,
    SESSION_DIARIZED,
    SESSION_COMPLETED,
    SESSION_DELETED,
    LEAD_FINALIZED,
    TRANSCRIPT_FINALIZED,
    RECORDING_UPLOADED,
    AGENTS_DONE,
)

_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def check_session_id(session_id: str) -> str:
    """Session ids become subject tokens: only [A-Za-z0-9_-]."""
    if not _SESSION_ID.match(session_id):
        raise ValueError(f"invalid session id {session_id!r}")
    return session_id


def audio_subject(session_id: str) -> str:
    return f"{AUDIO_PREFIX}.{check_session_id(session_id)}"


def transcript_subject(session_id: str) -> str:
    return f"{TRANSCRIPT_PREFIX}.{check_session_id(session_id)}"


def final_subject(session_id: str) -> str:
    return f"{FINAL_PREFIX}.{check_session_id(session_id)}"


def speaker_subject(session_id: str) -> str:
    return f"{SPEAKER_PREFIX}.{check_session_id(session_id)}"


def control_subject(session_id: str) -> str:
    return f"{CONTROL_PREFIX}.{check_session_id(session_id)}"


def event_subject(kind: str, session_id: str) -> str:
    """``session.ready`` + ``abc`` -> ``session.ready.abc``: one session's lifecycle event."""
    return f"{kind}.{check_session_id(session_id)}"


def every_session(kind: str) -> str:
    """The filter for one kind of event of every session: ``session.ready.*``."""
    return f"{kind}.*"


def session_subjects(session_id: str) -> str:
    """The filter for every lifecycle event of one session (all kinds have two tokens)."""
    return f"*.*.{check_session_id(session_id)}"


def session_of(subject: str) -> str:
    """``audio.abc`` -> ``abc``; ``session.ready.abc`` -> ``abc``."""
    return subject.rsplit(".", 1)[1]


def audio_msg_id(session_id: str, seq: int) -> str:
    """Nats-Msg-Id of an audio frame: resending the same frame is deduplicated by JetStream."""
    return f"{session_id}.{seq}"


def final_msg_id(session_id: str, index: int) -> str:
    return f"{session_id}.final.{index}"


# ---------------------------------------------------------------- headers

HDR_MSG_ID = "Nats-Msg-Id"
HDR_SEQ = "Ayka-Seq"  # the frame's sequence number, 0-based, per session
HDR_KIND = "Ayka-Kind"  # see FrameKind (audio) and FinalKind (final.<session>)


class FrameKind(enum.StrEnum):
    AUDIO = "audio"  # payload: 16 kHz mono PCM16 little-endian
    # Client asked to flush now (Deepgram `Finalize`). Seq: the next frame's; payload: the start of that
    # frame (the audio the gateway held, < 100 ms), which is published whole later all the same. A reader
    # takes from a frame only the bytes past what it already has of it.
    FINALIZE = "finalize"
    CLOSE = "close"  # end of stream: flush everything, session is over


class LiveKind(enum.StrEnum):
    """What a message on ``transcript.<session>`` carries (header Ayka-Kind)."""

    INTERIM = "interim"  # a TranscriptResult with is_final false
    SPEECH_STARTED = "speech_started"  # a SpeechStarted
    UTTERANCE_END = "utterance_end"  # an UtteranceEnd
    PROGRESS = "progress"  # a TranscriptResult with no words, once a second: the worker's lag (readers
    # that predate it ignore kinds they do not know)


class FinalKind(enum.StrEnum):
    RESULT = "result"  # a TranscriptResult
    FLUSHED = "flushed"  # a SessionFlushed: no more finals for this session


# ---------------------------------------------------------------- streams and KV

AUDIO_STREAM = "AUDIO"
SESSIONS_STREAM = "SESSIONS"
TRANSCRIPTS_STREAM = "TRANSCRIPTS"
EVENTS_STREAM = "EVENTS"

KV_ASR_OWNERS = "asr-owners"  # session -> worker id (lease, TTL)
KV_ASR_PROGRESS = "asr-progress"  # session -> Progress (resume point)
KV_ASR_SESSIONS = "asr-sessions"  # session -> SessionStart for sessions that need a worker
KV_WORKERS = "workers"  # "<kind>.<worker id>" -> WorkerInfo (heartbeat, TTL)
KV_RATE_LIMITS = "rate-limits"  # key -> counter window (gateway rate limiting)
KV_LIVE_STREAMS = "live-streams"  # session -> Attachment: which gateway connection serves the client now

AUDIO_MAX_AGE = timedelta(hours=1)
DUPLICATE_WINDOW = timedelta(minutes=10)


def stream_configs() -> list[StreamConfig]:
    return [
        StreamConfig(
            name=AUDIO_STREAM,
            subjects=[f"{AUDIO_PREFIX}.*"],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            max_age=AUDIO_MAX_AGE.total_seconds(),
            duplicate_window=DUPLICATE_WINDOW.total_seconds(),
            discard=DiscardPolicy.OLD,
        ),
        StreamConfig(
            name=SESSIONS_STREAM,
            subjects=[every_session(SESSION_START), every_session(SESSION_END)],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            max_age=timedelta(days=7).total_seconds(),
            duplicate_window=DUPLICATE_WINDOW.total_seconds(),
        ),
        StreamConfig(
            name=TRANSCRIPTS_STREAM,
            subjects=[f"{FINAL_PREFIX}.*"],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            max_age=timedelta(days=7).total_seconds(),
            duplicate_window=DUPLICATE_WINDOW.total_seconds(),
        ),
        StreamConfig(
            name=EVENTS_STREAM,
            subjects=[every_session(kind) for kind in EVENT_SUBJECTS],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            max_age=timedelta(days=7).total_seconds(),
            duplicate_window=DUPLICATE_WINDOW.total_seconds(),
        ),
    ]


def kv_configs(lease_ttl_s: float) -> list[KeyValueConfig]:
    return [
        KeyValueConfig(bucket=KV_ASR_OWNERS, ttl=lease_ttl_s, history=1, storage=StorageType.FILE),
        KeyValueConfig(bucket=KV_ASR_PROGRESS, history=1, storage=StorageType.FILE),
        KeyValueConfig(bucket=KV_ASR_SESSIONS, history=1, storage=StorageType.FILE),
        KeyValueConfig(bucket=KV_WORKERS, ttl=lease_ttl_s * 2, history=1, storage=StorageType.MEMORY),
        KeyValueConfig(bucket=KV_RATE_LIMITS, ttl=120, history=1, storage=StorageType.MEMORY),
        KeyValueConfig(bucket=KV_LIVE_STREAMS, history=1, storage=StorageType.FILE),
    ]


async def ensure_bus(js: JetStreamContext, lease_ttl_s: float = 4.0) -> None:
    """Create every stream and KV bucket; safe to call from every process on every start."""
    for config in stream_configs():
        try:
            await js.add_stream(config)
        except BadRequestError:
            await _drop_stale_consumers(js, config)
            await js.update_stream(config)
    for kv in kv_configs(lease_ttl_s):
        try:
            await js.key_value(kv.bucket)
        except BucketNotFoundError:
            try:
                await js.create_key_value(kv)
            except BadRequestError:
                pass  # created concurrently by another process


def _covers(pattern: str, subject: str) -> bool:
    """Whether the stream subject ``pattern`` (``*`` and ``>`` wildcards) covers every ``subject``."""
    want, have = pattern.split("."), subject.split(".")
    for i, token in enumerate(want):
        if token == ">":
            return len(have) > i
        if i >= len(have) or (token != "*" and token != have[i]) or (token == "*" and have[i] == ">"):
            return False
    return len(want) == len(have)


async def _drop_stale_consumers(js: JetStreamContext, config: StreamConfig) -> None:
    """A data directory from an older release has durable consumers filtering on subjects the stream
    no longer carries (lifecycle events moved from ``session.ready`` to ``session.ready.<id>``): delete
    them so the services recreate them with the current filter."""
    assert config.name is not None
    try:
        consumers = await js.consumers_info(config.name)
    except Exception:
        return
    for info in consumers:
        subject = info.config.filter_subject
        if subject and not any(_covers(pattern, subject) for pattern in config.subjects or []):
            with contextlib.suppress(Exception):
                await js.delete_consumer(config.name, info.name)


# ---------------------------------------------------------------- message schemas


class StreamOptions(BaseModel):
    """What a client asked for when it opened the stream (Deepgram query parameters, normalized)."""

    language: str = "en"
    model: str = ""
    interim_results: bool = True
    endpointing_ms: int | None = 300  # None = endpointing off (Deepgram `endpointing=false`)
    utterance_end_ms: int | None = None
    vad_events: bool = False
    punctuate: bool = True
    smart_format: bool = False
    diarize: bool = False
    min_speakers: int | None = None  # hints for post-call diarization
    max_speakers: int | None = None
    live_leads: bool = False
    tags: list[str] = Field(default_factory=list)


class SessionStart(BaseModel):
    session_id: str
    owner_id: str
    options: StreamOptions = Field(default_factory=StreamOptions)
    source: Literal["live", "upload"] = "live"
    started_at: float  # unix seconds


class SessionEnd(BaseModel):
    session_id: str
    owner_id: str
    last_seq: int  # the last audio frame's sequence number (-1 when no audio)
    duration_s: float
    reason: str = "closed"


class Word(BaseModel):
    word: str
    punctuated_word: str
    start_s: float  # session audio clock
    end_s: float
    confidence: float
    speaker: int | None = None


class TranscriptResult(BaseModel):
    """An interim (``transcript.<s>``) or final (``final.<s>``) result, shaped like Deepgram's."""

    session_id: str
    is_final: bool
    speech_final: bool = False
    from_finalize: bool = False
    index: int = 0  # for finals: 0, 1, 2, ... per session (dedupe and ordering)
    start_s: float
    end_s: float
    transcript: str
    words: list[Word] = Field(default_factory=list)
    last_seq: int = -1  # the last audio frame this result has seen
    # The worker's processing lag when it published this: audio it received minus audio its engine has
    # processed, in seconds (None from workers that predate the field).
    lag_s: float | None = None


class SpeechStarted(BaseModel):
    type: Literal["SpeechStarted"] = "SpeechStarted"
    session_id: str
    timestamp_s: float


class UtteranceEnd(BaseModel):
    type: Literal["UtteranceEnd"] = "UtteranceEnd"
    session_id: str
    last_word_end_s: float


class SessionFlushed(BaseModel):
    """The worker has emitted everything for the session after CLOSE: the gateway may close."""

    type: Literal["Flushed"] = "Flushed"
    session_id: str
    last_seq: int
    finals: int


class Notice(BaseModel):
    """A message for the client of one session (``control.<s>``): a warning or a fatal error."""

    type: Literal["Warning", "Error"] = "Warning"
    session_id: str
    code: str
    message: str


class SpeakerUpdate(BaseModel):
    """Speaker labels for already-final words: ``final_index`` names the final result."""

    type: Literal["SpeakerUpdate"] = "SpeakerUpdate"
    session_id: str
    final_index: int
    speakers: list[int]  # one per word of that final, in order


class Progress(BaseModel):
    """The resume point of a session: audio up to ``resume_seq`` (exclusive) is fully reflected in
    the finals ``0..finals-1``; a new owner replays from there."""

    resume_seq: int = 0
    finals: int = 0
    committed_until_s: float = 0.0


class Attachment(BaseModel):
    """The connection that serves a live session's client; a resume elsewhere replaces it. The gateway
    refreshes ``seen_at`` while the client is connected, so a worker can tell an abandoned session (its
    gateway died and the client never came back) from a quiet one."""

    connection_id: str
    gateway: str
    attached_at: float
    seen_at: float = 0.0
    detached_at: float | None = None


async def read_attachment(js: JetStreamContext, session_id: str) -> tuple[Attachment, int] | None:
    """The session's attachment and its KV revision (for a compare-and-set update); None when none."""
    kv = await js.key_value(KV_LIVE_STREAMS)
    try:
        entry = await kv.get(session_id)
    except KeyNotFoundError:
        return None
    if not entry.value or entry.revision is None:
        return None
    return Attachment.model_validate_json(entry.value), entry.revision


class WorkerKind(enum.StrEnum):
    ASR = "asr"
    RECORDER = "recorder"  # archives audio and persists finals
    DIARIZE = "diarize"
    AGENTS = "agents"
    WEBHOOKS = "webhooks"


class WorkerInfo(BaseModel):
    kind: WorkerKind
    worker_id: str
    pid: int
    host: str
    capacity: int = 0
    sessions: list[str] = Field(default_factory=list)
    model: str = ""
    device: str = "cpu"
    updated_at: float = 0.0

    @property
    def key(self) -> str:
        return f"{self.kind.value}.{self.worker_id}"


class SessionEvent(BaseModel):
    """Payload of the post-call events on EVENTS (``session.diarized``, ``session.completed``, ...)."""

    session_id: str
    owner_id: str
    data: dict[str, Any] = Field(default_factory=dict)
