"""``ayka stream FILE``: a real subprocess against the real gateway; captions on stdout, JSON/SRT/VTT out."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import soundfile

from ayka.stream_client import mic_frames, stream_frames
from persistence.repositories import sessions as sessions_repo
from tests.data.clips import sample_clip
from tests.fixtures.platform import RunningPlatform


async def _run(*args: str, timeout_s: float = 180) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ayka",
        "stream",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout_s)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_stream_a_file_fast_and_write_json_srt_vtt(platform: RunningPlatform, tmp_path: Path) -> None:
    wav = tmp_path / "clip.wav"
    soundfile.write(wav, sample_clip().audio[6 * 16000 : 16 * 16000], 16000, subtype="PCM_16")
    code, out, err = await _run(
        str(wav),
        "--fast",
        "--url",
        platform.base_url,
        "--key",
        platform.api_key,
        "--out",
        str(tmp_path / "call"),
    )
    assert code == 0, err
    assert "hello" in out.lower()  # finals printed as captions
    data = json.loads((tmp_path / "call.json").read_text())
    assert data["session_id"] and data["segments"]
    srt = (tmp_path / "call.srt").read_text()
    assert srt.startswith("1\n00:00:") and " --> " in srt
    vtt = (tmp_path / "call.vtt").read_text()
    assert vtt.startswith("WEBVTT")


async def test_stream_without_a_key_says_how_to_get_one(platform: RunningPlatform, tmp_path: Path) -> None:
    code, _out, err = await _run(str(tmp_path / "x.wav"), "--url", platform.base_url)
    assert code == 2
    assert "ayka keys create" in err


async def test_stream_with_a_wrong_key_fails_with_the_reason(
    platform: RunningPlatform, tmp_path: Path
) -> None:
    wav = tmp_path / "clip.wav"
    soundfile.write(wav, sample_clip().audio[:16000], 16000, subtype="PCM_16")
    code, _out, err = await _run(str(wav), "--fast", "--url", platform.base_url, "--key", "ayka_wrong")
    assert code == 1
    assert "1008" in err and "invalid_api_key" in err


def _sine(seconds: float, hz: int = 440) -> Any:
    import av

    return av.open(f"sine=frequency={hz}:duration={seconds}:sample_rate=48000", format="lavfi")


async def test_mic_capture_from_an_injected_source_streams_to_a_closed_session(
    platform: RunningPlatform,
) -> None:
    result = await asyncio.wait_for(
        stream_frames(platform.base_url, platform.api_key, mic_frames(lambda: _sine(2.0))), 60
    )
    assert result.close_code == 1000 and not result.source_error
    closing = result.transcript.closing_metadata
    assert closing is not None and abs(closing["duration"] - 2.0) < 0.1


class _Unplugged:
    """A capture device that fails after 0.5 s (a USB microphone pulled out)."""

    def __init__(self) -> None:
        self.inner = _sine(10.0)

    def __enter__(self) -> _Unplugged:
        return self

    def __exit__(self, *exc: object) -> None:
        self.inner.close()

    def decode(self, audio: int = 0) -> Iterator[Any]:
        for frame in self.inner.decode(audio=audio):
            if frame.pts is not None and frame.pts >= 24000:
                raise OSError("Input/output error: device unplugged")
            yield frame


async def test_mic_capture_that_fails_mid_stream_still_ends_the_session(platform: RunningPlatform) -> None:
    result = await asyncio.wait_for(
        stream_frames(platform.base_url, platform.api_key, mic_frames(_Unplugged)), 60
    )
    assert "device unplugged" in result.source_error
    assert result.close_code == 1000, "CloseStream went out: the session ended cleanly"
    closing = result.transcript.closing_metadata
    assert closing is not None and abs(closing["duration"] - 0.5) < 0.1
    row = await sessions_repo.get(platform.pool, platform.owner_id, result.transcript.session_id)
    assert row is not None and row.ended_at is not None
