from __future__ import annotations

import pytest

from ayka import bus
from gateway.audio import Encoding
from gateway.listen.protocol import (
    CloseCode,
    Control,
    ProtocolError,
    parse_control,
    parse_params,
    results_message,
)


def test_defaults_detect_a_container() -> None:
    params = parse_params({})
    assert params.encoding is Encoding.CONTAINER
    assert params.options.interim_results is True
    assert params.options.endpointing_ms == 300


def test_deepgram_parameters_are_parsed() -> None:
    params = parse_params(
        {
            "encoding": "linear16",
            "sample_rate": "48000",
            "channels": "2",
            "language": "en",
            "model": "nova-3",
            "interim_results": "false",
            "endpointing": "500",
            "utterance_end_ms": "1500",
            "vad_events": "true",
            "punctuate": "true",
            "smart_format": "true",
            "diarize": "true",
        },
        ["a", "b"],
    )
    assert (params.encoding, params.sample_rate, params.channels) == (Encoding.LINEAR16, 48000, 2)
    opts = params.options
    assert opts.interim_results is False
    assert opts.endpointing_ms == 500
    assert opts.utterance_end_ms == 1500
    assert opts.vad_events and opts.diarize and opts.smart_format
    assert opts.tags == ["a", "b"]


def test_newer_deepgram_spellings_are_accepted() -> None:
    params = parse_params({"diarize_model": "latest", "language_hint": "en"})
    assert params.options.diarize is True


def test_speaker_count_hints() -> None:
    opts = parse_params({"min_speakers": "2", "max_speakers": "3"}).options
    assert (opts.min_speakers, opts.max_speakers) == (2, 3)


def test_endpointing_false_turns_it_off() -> None:
    assert parse_params({"endpointing": "false"}).options.endpointing_ms is None


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ({"encoding": "mp3"}, "encoding"),
        ({"encoding": "linear16"}, "sample_rate"),
        ({"encoding": "linear16", "sample_rate": "12345"}, "sample_rate"),
        ({"sample_rate": "abc"}, "sample_rate"),
        ({"channels": "0"}, "channels"),
        ({"interim_results": "maybe"}, "interim_results"),
        ({"endpointing": "-5"}, "endpointing"),
        ({"utterance_end_ms": "10"}, "utterance_end_ms"),
        ({"bogus": "1"}, "bogus"),
        ({"session_id": "a.b"}, "session_id"),
        ({"min_speakers": "0"}, "min_speakers"),
        ({"min_speakers": "4", "max_speakers": "2"}, "min_speakers"),
        ({"session_id": "abc", "resume_seq": "3"}, "resume_seq"),  # containers are not framed 1:1
        ({"encoding": "linear16", "sample_rate": "48000", "resume_seq": "3"}, "resume_seq"),
        ({"encoding": "linear16", "sample_rate": "16000", "channels": "2", "resume_seq": "3"}, "resume_seq"),
        ({"encoding": "mulaw", "sample_rate": "16000", "resume_seq": "3"}, "resume_seq"),
    ],
)
def test_bad_parameters_close_with_a_reason_naming_them(query: dict[str, str], names: str) -> None:
    with pytest.raises(ProtocolError) as err:
        parse_params(query)
    assert err.value.code is CloseCode.BAD_PARAMETER
    assert names in err.value.reason


def test_resume_seq_counts_linear16_16k_mono_frames() -> None:
    params = parse_params(
        {"encoding": "linear16", "sample_rate": "16000", "session_id": "abc", "resume_seq": "7"}
    )
    assert params.resume_seq == 7 and params.frames_one_to_one
    assert parse_params({"encoding": "webm", "session_id": "abc"}).resume_seq is None


def test_control_messages() -> None:
    assert parse_control('{"type": "KeepAlive"}') is Control.KEEPALIVE
    assert parse_control('{"type": "Finalize"}') is Control.FINALIZE
    assert parse_control('{"type": "CloseStream"}') is Control.CLOSE_STREAM


@pytest.mark.parametrize("text", ["hello", "[1,2]", '{"type": 3}', '{"type": "Reboot"}', "{}"])
def test_bad_control_messages_are_unsupported_data(text: str) -> None:
    with pytest.raises(ProtocolError) as err:
        parse_control(text)
    assert err.value.code is CloseCode.UNSUPPORTED_DATA


def test_results_message_has_deepgram_shape() -> None:
    result = bus.TranscriptResult(
        session_id="s1",
        is_final=True,
        speech_final=True,
        index=3,
        start_s=1.0,
        end_s=2.5,
        transcript="Hello, world.",
        words=[
            bus.Word(
                word="hello", punctuated_word="Hello,", start_s=1.0, end_s=1.4, confidence=0.9, speaker=1
            ),
            bus.Word(
                word="world", punctuated_word="world.", start_s=1.5, end_s=2.5, confidence=0.8, speaker=1
            ),
        ],
    )
    options = bus.StreamOptions(diarize=True)
    msg = results_message(result, request_id="r", options=options)
    assert msg["type"] == "Results"
    assert msg["is_final"] and msg["speech_final"] and not msg["from_finalize"]
    assert msg["start"] == 1.0 and msg["duration"] == 1.5
    alt = msg["channel"]["alternatives"][0]
    assert alt["transcript"] == "Hello, world."
    assert alt["words"][0] == {
        "word": "hello",
        "start": 1.0,
        "end": 1.4,
        "confidence": 0.9,
        "punctuated_word": "Hello,",
        "speaker": 1,
        "speaker_confidence": 1.0,
    }
    unpunctuated = results_message(result, request_id="r", options=bus.StreamOptions(punctuate=False))
    assert unpunctuated["channel"]["alternatives"][0]["transcript"] == "hello world"
    assert "speaker" not in unpunctuated["channel"]["alternatives"][0]["words"][0]
    smart = results_message(
        result, request_id="r", options=bus.StreamOptions(punctuate=False, smart_format=True)
    )
    assert smart["channel"]["alternatives"][0]["transcript"] == "Hello, world.", (
        "smart_format implies punctuate"
    )
