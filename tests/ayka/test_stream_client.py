"""``ayka stream FILE``: a real subprocess against the real gateway; captions on stdout, JSON/SRT/VTT out."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import soundfile

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
