"""/v1/listen limits, end to end over a real WebSocket: ASR lag (warning, then close 4004 with the session
kept), audio after CloseStream (4003), the session length limit (4002) and the per-account stream limit
(1013). Each test that needs other limits runs its own gateway beside the platform's (same NATS,
PostgreSQL and ASR worker)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from typing import Any

import numpy as np
import pytest
import websockets

from persistence.repositories import sessions as sessions_repo
from stream_asr.decode import DecodeRequest, Hypothesis
from tests.data.clips import sample_clip
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.platform import extra_gateway as gateway

FRAME = 3200
QUERY = "encoding=linear16&sample_rate=16000&channels=1"


def speech(start_s: float, seconds: float) -> bytes:
    audio = sample_clip().audio[int(start_s * 16000) : int((start_s + seconds) * 16000)]
    return (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()


def silence(seconds: float) -> bytes:
    noise = np.random.default_rng(0).normal(0, 30, int(seconds * 16000))  # a quiet room, not digital zero
    return bytes(noise.astype("<i2").tobytes())


async def drain(ws: Any, sink: list[dict[str, Any]], timeout_s: float = 90) -> None:
    with contextlib.suppress(websockets.ConnectionClosed):
        async with asyncio.timeout(timeout_s):
            async for raw in ws:
                sink.append(json.loads(raw))


def headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Token {key}"}


def connect(url: str, key: str, query: str = QUERY) -> Any:
    return websockets.connect(f"{url}?{query}", additional_headers=headers(key))


@contextlib.contextmanager
def slow_model(platform: RunningPlatform, delay_s: float) -> Any:
    """Every model call of the platform's ASR worker takes ``delay_s`` longer: the worker falls behind."""
    scheduler = platform.asr.scheduler
    original = scheduler._decode

    def slow(requests: list[DecodeRequest], wide: bool = False) -> list[Hypothesis]:
        time.sleep(delay_s)
        return original(requests, wide)

    scheduler._decode = slow  # type: ignore[method-assign]
    try:
        yield
    finally:
        scheduler._decode = original  # type: ignore[method-assign]


async def test_a_lagging_worker_warns_then_closes_4004_and_the_session_resumes(
    platform: RunningPlatform,
) -> None:
    pcm = speech(6.0, 12.0)
    messages: list[dict[str, Any]] = []
    async with gateway(platform, max_buffered_audio_s=1.5) as url:  # warning past 1.5 s, close past 3 s
        with slow_model(platform, 4.0):
            async with connect(url, platform.api_key) as ws:
                reader = asyncio.create_task(drain(ws, messages))
                with contextlib.suppress(websockets.ConnectionClosed):
                    for i in range(0, len(pcm), FRAME):
                        await ws.send(pcm[i : i + FRAME])
                        await asyncio.sleep(0.05)  # twice real time: a slow worker cannot keep up
                await reader
            assert ws.close_code == 4004, ws.close_reason
            reason = ws.close_reason or ""
            assert "behind" in reason and "session kept" in reason
            warnings = [m for m in messages if m.get("type") == "Warning"]
            assert warnings and warnings[0]["code"] == "asr_lagging", messages
            session_id = messages[0]["session_id"]
            match = re.search(r"resume_seq=(\d+)", reason)
            assert match is not None
            resume_seq = int(match.group(1))
            assert 0 < resume_seq < len(pcm) // FRAME, "closed before all the audio was sent"
            row = await sessions_repo.get(platform.pool, platform.owner_id, session_id)
            assert row is not None and row.ended_at is None, "the session must wait for a resume"

        # The worker catches up; the client resumes where the gateway stopped and finishes the stream.
        second: list[dict[str, Any]] = []
        have = len([m for m in messages if m.get("type") == "Results" and m.get("is_final")])
        resume = f"{url}?{QUERY}&session_id={session_id}&resume_seq={resume_seq}&resume_final={have}"
        async with websockets.connect(resume, additional_headers=headers(platform.api_key)) as ws2:
            reader2 = asyncio.create_task(drain(ws2, second, 120))
            for i in range(resume_seq * FRAME, len(pcm), FRAME):
                await ws2.send(pcm[i : i + FRAME])
            await ws2.send(json.dumps({"type": "CloseStream"}))
            await reader2
    assert ws2.close_code == 1000, ws2.close_reason
    assert second[0]["resumed"] is True and second[-1]["type"] == "Metadata"
    assert abs(second[-1]["duration"] - len(pcm) / 32000) < 0.2
    finals = [m for m in messages + second if m.get("type") == "Results" and m.get("is_final")]
    indexes = [m["final_index"] for m in finals]
    assert sorted(set(indexes)) == list(range(len(set(indexes)))) and len(indexes) == len(set(indexes))
    text = " ".join(m["channel"]["alternatives"][0]["transcript"] for m in finals).lower()
    assert "hello" in text, text


async def test_silence_is_not_mistaken_for_lag(platform: RunningPlatform) -> None:
    """Silence yields no words; the worker still reports that it keeps up, so no Warning goes out."""
    pcm = silence(8.0)
    messages: list[dict[str, Any]] = []
    async with gateway(platform, max_buffered_audio_s=1.5) as url, connect(url, platform.api_key) as ws:
        reader = asyncio.create_task(drain(ws, messages))
        for i in range(0, len(pcm), FRAME):
            await ws.send(pcm[i : i + FRAME])
            await asyncio.sleep(0.1)
        await ws.send(json.dumps({"type": "CloseStream"}))
        await reader
    assert ws.close_code == 1000, ws.close_reason
    assert not [m for m in messages if m.get("type") == "Warning"], messages
    assert abs(messages[-1]["duration"] - 8.0) < 0.2


async def test_audio_after_close_stream_is_refused_with_4003(platform: RunningPlatform) -> None:
    pcm = speech(6.0, 3.0)
    messages: list[dict[str, Any]] = []
    async with websockets.connect(
        f"{platform.ws_url}?{QUERY}", additional_headers=headers(platform.api_key)
    ) as ws:
        reader = asyncio.create_task(drain(ws, messages))
        for i in range(0, len(pcm), FRAME):
            await ws.send(pcm[i : i + FRAME])
        await ws.send(json.dumps({"type": "CloseStream"}))
        await ws.send(pcm[:FRAME])  # too late
        await reader
    assert ws.close_code == 4003, ws.close_reason
    assert "after CloseStream" in (ws.close_reason or "")
    # What came before CloseStream is still flushed: the closing Metadata went out before the close.
    assert messages[-1]["type"] == "Metadata" and "finals" in messages[-1]
    assert abs(messages[-1]["duration"] - 3.0) < 0.2


async def test_close_stream_then_hanging_up_still_flushes(platform: RunningPlatform) -> None:
    pcm = speech(6.0, 3.0)
    async with websockets.connect(
        f"{platform.ws_url}?{QUERY}", additional_headers=headers(platform.api_key)
    ) as ws:
        session_id = json.loads(await ws.recv())["session_id"]
        for i in range(0, len(pcm), FRAME):
            await ws.send(pcm[i : i + FRAME])
        await ws.send(json.dumps({"type": "CloseStream"}))
    deadline = asyncio.get_running_loop().time() + 60
    while (row := await sessions_repo.get(platform.pool, platform.owner_id, session_id)) is None or (
        row.ended_at is None
    ):
        assert asyncio.get_running_loop().time() < deadline, row
        await asyncio.sleep(0.2)
    assert abs((row.duration_s or 0) - 3.0) < 0.2


async def test_the_session_length_limit_closes_4002(platform: RunningPlatform) -> None:
    pcm = speech(6.0, 4.0)
    messages: list[dict[str, Any]] = []
    async with gateway(platform, max_session_s=2.0) as url, connect(url, platform.api_key) as ws:
        reader = asyncio.create_task(drain(ws, messages))
        with contextlib.suppress(websockets.ConnectionClosed):
            for i in range(0, len(pcm), FRAME):
                await ws.send(pcm[i : i + FRAME])
                await asyncio.sleep(0.01)
        await reader
    assert ws.close_code == 4002, ws.close_reason
    assert "maximum length of 2 s" in (ws.close_reason or "")
    closing = messages[-1]
    assert closing["type"] == "Metadata" and abs(closing["duration"] - 2.0) < 0.15
    row = await sessions_repo.get(platform.pool, platform.owner_id, messages[0]["session_id"])
    assert row is not None and row.ended_at is not None


async def test_the_per_account_stream_limit_closes_1013(platform: RunningPlatform) -> None:
    from gateway.auth import create_api_key
    from persistence.repositories import users

    owner = await users.create(platform.pool, "two-streams@example.com", "x", "Two Streams")
    _public, key = await create_api_key(platform.pool, owner.id, "limit", ["listen"])
    async with gateway(platform, max_streams_per_owner=1) as url:
        async with websockets.connect(f"{url}?{QUERY}", additional_headers=headers(key)) as first:
            assert json.loads(await first.recv())["type"] == "Metadata"
            async with websockets.connect(f"{url}?{QUERY}", additional_headers=headers(key)) as second:
                with pytest.raises(websockets.ConnectionClosed):
                    await asyncio.wait_for(second.recv(), 30)
            assert second.close_code == 1013, second.close_reason
            assert "concurrent streams" in (second.close_reason or "")
            await first.send(json.dumps({"type": "CloseStream"}))
            async for _ in first:
                pass
        assert first.close_code == 1000
