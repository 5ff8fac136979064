"""Deepgram's live protocol, as pure functions: query parameters in, control messages in, JSON out."""

from __future__ import annotations

import enum
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ayka import bus
from gateway.audio import SAMPLE_RATES, Encoding


class CloseCode(enum.IntEnum):
    """WebSocket close codes of /v1/listen (documented in the README)."""

    NORMAL = 1000  # after CloseStream, everything flushed
    GOING_AWAY = 1001  # server shutting down: reconnect with session_id to resume
    UNSUPPORTED_DATA = 1003  # a text frame that is not JSON, or an unknown `type`
    BAD_AUDIO = 1007  # audio that does not decode in the announced encoding
    POLICY = 1008  # no or bad credentials, origin not allowed, a session that is not yours
    TOO_BIG = 1009  # a frame over the size limit
    INTERNAL = 1011  # a server fault; also Deepgram's NET-0001 idle timeout
    TRY_AGAIN = 1013  # no ASR capacity, or too many concurrent streams for this account
    BAD_PARAMETER = 4000  # an unknown or invalid query parameter value
    SESSION_ENDED = 4001  # resume of a session that has already ended
    TOO_LONG = 4002  # the session reached its maximum length
    AFTER_CLOSE = 4003  # audio sent after CloseStream
    TOO_FAR_BEHIND = 4004  # transcription fell too far behind the audio; the session is kept for a resume


class ProtocolError(Exception):
    def __init__(self, code: CloseCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason[:120]  # close reasons must fit in a control frame (123 bytes)


_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}
# Accepted and ignored: Deepgram options whose effect we do not (yet) change.
_IGNORED = {
    "language_hint",
    "version",
    "keywords",
    "keyterm",
    "search",
    "replace",
    "redact",
    "numerals",
    "profanity_filter",
    "filler_words",
    "dictation",
    "multichannel",
    "alternatives",
    "callback",
    "callback_method",
    "extra",
    "mip_opt_out",
    "no_delay",
    "detect_entities",
    "topics",
    "intents",
    "sentiment",
}
_KNOWN = {
    "encoding",
    "sample_rate",
    "channels",
    "language",
    "model",
    "interim_results",
    "endpointing",
    "utterance_end_ms",
    "vad_events",
    "punctuate",
    "smart_format",
    "diarize",
    "tag",
    "token",
    "session_id",
    "resume_seq",
    "resume_final",
    "live_leads",
    "diarize_version",
    "diarize_model",
    "min_speakers",
    "max_speakers",
}


def _bool(name: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ProtocolError(CloseCode.BAD_PARAMETER, f"{name}={value!r} is not true or false")


def _int(name: str, value: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ProtocolError(CloseCode.BAD_PARAMETER, f"{name}={value!r} is not an integer") from None
    if not low <= number <= high:
        raise ProtocolError(CloseCode.BAD_PARAMETER, f"{name}={number} is outside {low}..{high}")
    return number


@dataclass
class ListenParams:
    encoding: Encoding = Encoding.CONTAINER
    sample_rate: int | None = None
    channels: int = 1
    options: bus.StreamOptions = field(default_factory=bus.StreamOptions)
    session_id: str | None = None  # resume this session
    # Sequence number of the first frame the client resends (linear16 16 kHz mono only: frames are counted
    # in 3200-byte units). None: nothing is resent, the audio continues after what the session has.
    resume_seq: int | None = None
    resume_final: int | None = None  # finals the client already has

    @property
    def frames_one_to_one(self) -> bool:
        """Client bytes become bus frames unchanged (3200 bytes = frame n), so a resent frame keeps its
        number and the bus drops the duplicate; any decoding or resampling breaks that."""
        return self.encoding is Encoding.LINEAR16 and self.sample_rate == 16000 and self.channels == 1


def parse_params(query: Mapping[str, str], multi_tags: list[str] | None = None) -> ListenParams:
    """Validate Deepgram query parameters; raise ProtocolError naming the first bad one."""
    unknown = sorted(set(query) - _KNOWN - _IGNORED)
    if unknown:
        raise ProtocolError(CloseCode.BAD_PARAMETER, f"unknown query parameter {unknown[0]!r}")
    params = ListenParams()
    if "encoding" in query:
        try:
            params.encoding = Encoding(query["encoding"].lower())
        except ValueError:
            raise ProtocolError(
                CloseCode.BAD_PARAMETER,
                f"encoding={query['encoding']!r} is not supported (linear16, mulaw, alaw, opus, ogg, webm)",
            ) from None
        if params.encoding is Encoding.CONTAINER:
            raise ProtocolError(CloseCode.BAD_PARAMETER, "encoding='container' is not a value; omit encoding")
    if "sample_rate" in query:
        params.sample_rate = _int("sample_rate", query["sample_rate"], 1, 192000)
        if params.sample_rate not in SAMPLE_RATES:
            raise ProtocolError(CloseCode.BAD_PARAMETER, f"sample_rate={params.sample_rate} is not supported")
    if params.encoding in {Encoding.LINEAR16, Encoding.MULAW, Encoding.ALAW} and params.sample_rate is None:
        raise ProtocolError(CloseCode.BAD_PARAMETER, f"encoding={params.encoding.value} needs sample_rate")
    if "channels" in query:
        params.channels = _int("channels", query["channels"], 1, 8)
    opts = params.options
    if "language" in query:
        opts.language = query["language"]
    if "model" in query:
        opts.model = query["model"]
    for name in ("interim_results", "vad_events", "punctuate", "smart_format", "diarize", "live_leads"):
        if name in query:
            setattr(opts, name, _bool(name, query[name]))
    if query.get("diarize_model"):  # Deepgram's newer spelling of diarize=true
        opts.diarize = True
    if "min_speakers" in query:
        opts.min_speakers = _int("min_speakers", query["min_speakers"], 1, 32)
    if "max_speakers" in query:
        opts.max_speakers = _int("max_speakers", query["max_speakers"], 1, 32)
    if opts.min_speakers and opts.max_speakers and opts.min_speakers > opts.max_speakers:
        raise ProtocolError(CloseCode.BAD_PARAMETER, "min_speakers is greater than max_speakers")
    if "endpointing" in query:
        value = query["endpointing"].lower()
        if value in _FALSE:
            opts.endpointing_ms = None
        elif value in _TRUE:
            opts.endpointing_ms = 300
        else:
            opts.endpointing_ms = _int("endpointing", value, 10, 60000)
    if "utterance_end_ms" in query:
        opts.utterance_end_ms = _int("utterance_end_ms", query["utterance_end_ms"], 1000, 60000)
    opts.tags = list(multi_tags) if multi_tags else ([query["tag"]] if "tag" in query else [])
    if "session_id" in query:
        try:
            params.session_id = bus.check_session_id(query["session_id"])
        except ValueError:
            raise ProtocolError(CloseCode.BAD_PARAMETER, "session_id is not a valid session id") from None
    if "resume_seq" in query:
        params.resume_seq = _int("resume_seq", query["resume_seq"], 0, 10**9)
        if not params.frames_one_to_one:
            raise ProtocolError(
                CloseCode.BAD_PARAMETER,
                "resume_seq needs encoding=linear16&sample_rate=16000&channels=1; resume other audio "
                "with session_id alone",
            )
    if "resume_final" in query:
        params.resume_final = _int("resume_final", query["resume_final"], 0, 10**9)
    return params


class Control(enum.StrEnum):
    KEEPALIVE = "KeepAlive"
    FINALIZE = "Finalize"
    CLOSE_STREAM = "CloseStream"
    CONFIGURE = "Configure"  # Deepgram's mid-stream reconfiguration: accepted, and changes nothing yet


def parse_control(text: str) -> Control:
    """A client text frame → a Control; raise ProtocolError(UNSUPPORTED_DATA) for anything else."""
    try:
        message = json.loads(text)
    except json.JSONDecodeError:
        raise ProtocolError(CloseCode.UNSUPPORTED_DATA, "text frames must be JSON control messages") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError(CloseCode.UNSUPPORTED_DATA, 'control messages need a string "type"')
    try:
        return Control(message["type"])
    except ValueError:
        raise ProtocolError(
            CloseCode.UNSUPPORTED_DATA,
            f"unknown message type {message['type'][:40]!r} (KeepAlive, Finalize, CloseStream, Configure)",
        ) from None


# ---------------------------------------------------------------- server messages


def _word(word: bus.Word, diarize: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "word": word.word,
        "start": round(word.start_s, 3),
        "end": round(word.end_s, 3),
        "confidence": round(word.confidence, 4),
        "punctuated_word": word.punctuated_word,
    }
    if diarize:
        out["speaker"] = word.speaker if word.speaker is not None else 0
        out["speaker_confidence"] = 0.0 if word.speaker is None else 1.0
    return out


def results_message(
    result: bus.TranscriptResult, *, request_id: str, options: bus.StreamOptions, channels: int = 1
) -> dict[str, Any]:
    words = [_word(w, options.diarize) for w in result.words]
    # Deepgram's smart_format implies punctuation; the rest of its formatting (numerals, dates, currency)
    # is what Whisper writes already, so nothing more is done for it.
    punctuated = options.punctuate or options.smart_format
    transcript = result.transcript if punctuated else " ".join(w.word for w in result.words)
    confidence = sum(w.confidence for w in result.words) / len(result.words) if result.words else 0.0
    return {
        "type": "Results",
        "channel_index": [0, channels],
        "duration": round(max(result.end_s - result.start_s, 0.0), 3),
        "start": round(result.start_s, 3),
        "is_final": result.is_final,
        "speech_final": result.speech_final,
        "from_finalize": result.from_finalize,
        "channel": {
            "alternatives": [{"transcript": transcript, "confidence": round(confidence, 4), "words": words}]
        },
        "metadata": {
            "request_id": request_id,
            "model_info": {"name": options.model or "whisper", "version": "ayka", "arch": "whisper"},
            "model_uuid": request_id,
        },
        # ours
        "session_id": result.session_id,
        "final_index": result.index if result.is_final else None,
        "last_seq": result.last_seq,
    }


def metadata_message(
    *, request_id: str, session_id: str, duration_s: float, channels: int, model: str, **extra: Any
) -> dict[str, Any]:
    return {
        "type": "Metadata",
        "transaction_key": "deprecated",
        "request_id": request_id,
        "sha256": "",
        "created": "",
        "duration": round(duration_s, 3),
        "channels": channels,
        "models": [request_id],
        "model_info": {request_id: {"name": model or "whisper", "version": "ayka", "arch": "whisper"}},
        "session_id": session_id,
        **extra,
    }


def speech_started_message(event: bus.SpeechStarted) -> dict[str, Any]:
    return {"type": "SpeechStarted", "channel": [0], "timestamp": round(event.timestamp_s, 3)}


def utterance_end_message(event: bus.UtteranceEnd) -> dict[str, Any]:
    return {"type": "UtteranceEnd", "channel": [0, 1], "last_word_end": round(event.last_word_end_s, 3)}


def new_request_id() -> str:
    return str(uuid.uuid4())


def new_session_id() -> str:
    return uuid.uuid4().hex
