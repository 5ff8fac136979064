"""/v1/listen end to end: the real gateway, NATS, PostgreSQL, ASR worker (real model) and recorder."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest
import websockets

from ayka.stream_client import stream_frames
from persistence.repositories import segments as segments_repo
from persistence.repositories import sessions as sessions_repo
from tests.data.clips import sample_clip, wer
from tests.fixtures.platform import RunningPlatform, extra_gateway

FRAME = 3200


def clip_pcm(seconds: float | None = None) -> bytes:
    audio = sample_clip().audio
    if seconds is not None:
        audio = audio[: int(seconds * 16000)]
    return (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()


async def frames_of(pcm: bytes, pace_s: float = 0.0) -> AsyncIterator[bytes]:
    for i in range(0, len(pcm), FRAME):
        yield pcm[i : i + FRAME]
        await asyncio.sleep(pace_s)


async def wait_ready(
    platform: RunningPlatform, session_id: str, timeout_s: float = 60
) -> sessions_repo.Session:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        row = await sessions_repo.get(platform.pool, platform.owner_id, session_id)
        if row is not None and row.ready_at is not None:
            return row
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"session {session_id} not ready: {row}")
        await asyncio.sleep(0.1)


async def test_the_sample_clip_streams_to_finals_persisted_and_archived(platform: RunningPlatform) -> None:
    pcm = clip_pcm()
    messages: list[dict[str, Any]] = []
    result = await stream_frames(
        platform.base_url, platform.api_key, frames_of(pcm), on_message=messages.append
    )
    assert result.close_code == 1000
    kinds = [m["type"] for m in messages]
    assert kinds[0] == "Metadata" and kinds[-1] == "Metadata"
    assert any(m["type"] == "Results" and not m["is_final"] for m in messages), "no interim results"
    finals = [m for m in messages if m["type"] == "Results" and m["is_final"]]
    assert [m["final_index"] for m in finals] == list(range(len(finals)))
    starts = [m["start"] for m in finals]
    assert starts == sorted(starts)
    text = result.transcript.text
    assert wer(sample_clip().reference, text) <= 0.15, text
    closing = messages[-1]
    assert closing["finals"] == len(finals)
    assert abs(closing["duration"] - len(pcm) / 32000) < 0.2

    session_id = result.transcript.session_id
    row = await wait_ready(platform, session_id)
    assert row.status in ("processing", "completed")
    stored = await segments_repo.list_for_session(platform.pool, platform.owner_id, session_id)
    assert [s.text for s in stored] == [m["channel"]["alternatives"][0]["transcript"] for m in finals]
    archived = await asyncio.to_thread(platform.archive.read_pcm, session_id)
    assert hashlib.sha256(archived).hexdigest() == hashlib.sha256(pcm).hexdigest()


async def test_finalize_flushes_the_tail_with_from_finalize(platform: RunningPlatform) -> None:
    pcm = clip_pcm(10.0)
    uri = f"{platform.ws_url}?encoding=linear16&sample_rate=16000&channels=1"
    async with websockets.connect(
        uri, additional_headers={"Authorization": f"Token {platform.api_key}"}
    ) as ws:
        for i in range(0, len(pcm), FRAME):
            await ws.send(pcm[i : i + FRAME])
        await ws.send(json.dumps({"type": "Finalize"}))
        flushed = None
        async with asyncio.timeout(60):
            async for raw in ws:
                message = json.loads(raw)
                if message.get("type") == "Results" and message.get("from_finalize"):
                    flushed = message
                    break
        assert flushed is not None and flushed["is_final"]
        await ws.send(json.dumps({"type": "CloseStream"}))
        async for _ in ws:
            pass
        assert ws.close_code == 1000


@pytest.mark.parametrize(
    ("headers", "query", "reason"),
    [
        ({}, "", "not_authenticated"),
        ({"Authorization": "Token ayka_wrong"}, "", "invalid_api_key"),
        ({}, "&token=nonsense", "invalid"),
    ],
)
async def test_bad_credentials_close_with_1008(
    platform: RunningPlatform, headers: dict[str, str], query: str, reason: str
) -> None:
    uri = f"{platform.ws_url}?encoding=linear16&sample_rate=16000{query}"
    async with websockets.connect(uri, additional_headers=headers) as ws:
        with pytest.raises(websockets.ConnectionClosed):
            await ws.recv()
    assert ws.close_code == 1008
    assert reason in (ws.close_reason or "")


async def test_an_origin_outside_the_allowlist_closes_with_1008(platform: RunningPlatform) -> None:
    query = "?encoding=linear16&sample_rate=16000"
    auth = {"Authorization": f"Token {platform.api_key}"}
    async with extra_gateway(platform, ws_allowed_origins=["https://app.example.com"]) as url:
        refused = {**auth, "Origin": "https://evil.example"}
        async with websockets.connect(url + query, additional_headers=refused) as ws:
            with pytest.raises(websockets.ConnectionClosed):
                await ws.recv()
        assert ws.close_code == 1008 and "origin not allowed" in (ws.close_reason or "")

        allowed = {**auth, "Origin": "https://app.example.com"}
        async with websockets.connect(url + query, additional_headers=allowed) as ws:
            assert json.loads(await ws.recv())["type"] == "Metadata"
            await ws.send(json.dumps({"type": "CloseStream"}))
            with pytest.raises(websockets.ConnectionClosed):
                while True:
                    await ws.recv()
        assert ws.close_code == 1000


async def test_browser_subprotocol_auth_is_accepted(platform: RunningPlatform) -> None:
    uri = f"{platform.ws_url}?encoding=linear16&sample_rate=16000"
    async with websockets.connect(uri, subprotocols=["token", platform.api_key]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "token"
        metadata = json.loads(await ws.recv())
        assert metadata["type"] == "Metadata" and metadata["session_id"]
        await ws.send(json.dumps({"type": "CloseStream"}))
        async for _ in ws:
            pass
    assert ws.close_code == 1000


@pytest.mark.parametrize(
    ("query", "send", "code", "reason"),
    [
        ("encoding=mp3", None, 4000, "encoding"),
        ("encoding=linear16&sample_rate=16000&bogus=1", None, 4000, "bogus"),
        ("encoding=linear16&sample_rate=16000", "not json", 1003, "JSON"),
        ("encoding=linear16&sample_rate=16000", '{"type": "Explode"}', 1003, "Explode"),
        ("encoding=webm", b"definitely not webm" * 200, 1007, "decode"),
        ("encoding=linear16&sample_rate=16000", b"\x00" * (2**20), 1009, "exceeds"),
    ],
)
async def test_bad_input_closes_with_a_specific_code_and_reason(
    platform: RunningPlatform, query: str, send: str | bytes | None, code: int, reason: str
) -> None:
    uri = f"{platform.ws_url}?{query}"
    async with websockets.connect(
        uri, additional_headers={"Authorization": f"Token {platform.api_key}"}, max_size=2**22
    ) as ws:
        if send is not None:
            await ws.send(send)
            if isinstance(send, bytes) and code == 1007:
                await ws.send(json.dumps({"type": "CloseStream"}))
        with pytest.raises(websockets.ConnectionClosed):
            async with asyncio.timeout(30):
                while True:
                    await ws.recv()
    assert ws.close_code == code, ws.close_reason
    assert reason.lower() in (ws.close_reason or "").lower()


async def test_idle_stream_is_closed_after_the_timeout(platform: RunningPlatform) -> None:
    uri = f"{platform.ws_url}?encoding=linear16&sample_rate=16000"
    async with websockets.connect(
        uri, additional_headers={"Authorization": f"Token {platform.api_key}"}
    ) as ws:
        started = asyncio.get_running_loop().time()
        with pytest.raises(websockets.ConnectionClosed):
            async with asyncio.timeout(30):
                while True:
                    await ws.recv()
        elapsed = asyncio.get_running_loop().time() - started
    assert ws.close_code == 1011
    assert "NET-0001" in (ws.close_reason or "")
    assert 9 <= elapsed <= 20


async def test_keepalive_holds_an_idle_stream_open(platform: RunningPlatform) -> None:
    uri = f"{platform.ws_url}?encoding=linear16&sample_rate=16000"
    async with websockets.connect(
        uri, additional_headers={"Authorization": f"Token {platform.api_key}"}
    ) as ws:
        await ws.recv()  # Metadata
        for _ in range(3):
            await asyncio.sleep(4)
            await ws.send(json.dumps({"type": "KeepAlive"}))
        await ws.send(json.dumps({"type": "CloseStream"}))
        async for _ in ws:
            pass
    assert ws.close_code == 1000


async def test_readyz_names_every_component_and_scope_self_ignores_workers(platform: RunningPlatform) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=platform.base_url) as client:
        # The workers share this test process's event loop: right after a heavy test (50 streams) their
        # heartbeats may have lapsed for a moment, and /readyz rightly says so until the next beat.
        deadline = asyncio.get_running_loop().time() + 30
        while (ready := await client.get("/readyz")).status_code != 200:
            if asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.5)
        self_only = await client.get("/readyz", params={"scope": "self"})
        healthz = await client.get("/healthz")
    assert healthz.json() == {"status": "ok"}
    body = ready.json()
    assert ready.status_code == 200, body
    for name in ("nats", "postgres", "archive"):
        assert body["components"][name]["state"] == "ready"
    asr = [w for w in body["components"]["workers"] if w["kind"] == "asr"]
    assert asr and asr[0]["pid"] > 0 and asr[0]["capacity"] > 0
    assert self_only.status_code == 200


async def test_a_session_beyond_capacity_is_refused_with_a_clear_reason(platform: RunningPlatform) -> None:
    asr = platform.asr
    capacity = asr.capacity
    asr.capacity = 0  # the worker is full: it claims nothing and advertises no room
    asr.heartbeat.info.capacity = 0
    await asr.heartbeat.beat()
    try:
        uri = f"{platform.ws_url}?encoding=linear16&sample_rate=16000"
        started = asyncio.get_running_loop().time()
        async with websockets.connect(
            uri, additional_headers={"Authorization": f"Token {platform.api_key}"}
        ) as ws:
            with pytest.raises(websockets.ConnectionClosed):
                await ws.recv()
        assert ws.close_code == 1013
        assert "capacity" in (ws.close_reason or "")
        assert asyncio.get_running_loop().time() - started < 5
    finally:
        asr.capacity = capacity
        asr.heartbeat.info.capacity = capacity
        await asr.heartbeat.beat()


async def _stream(
    platform: RunningPlatform, query: str, chunks: list[bytes], headers: dict[str, str] | None = None
) -> tuple[list[dict[str, Any]], int | None]:
    """Open /v1/listen with ``query``, send ``chunks`` then CloseStream; every message and the close code."""
    messages: list[dict[str, Any]] = []
    auth = {"Authorization": f"Token {platform.api_key}"} if headers is None else headers
    async with websockets.connect(f"{platform.ws_url}?{query}", additional_headers=auth) as ws:
        for chunk in chunks:
            await ws.send(chunk)
        await ws.send(json.dumps({"type": "CloseStream"}))
        async with asyncio.timeout(60):
            async for raw in ws:
                messages.append(json.loads(raw))
    return messages, ws.close_code


async def test_vad_events_and_utterance_end_reach_the_client(platform: RunningPlatform) -> None:
    pcm = clip_pcm(10.0)[6 * 32000 :] + b"\x00\x00" * 16000 * 3  # "hello there ..." then 3 s of silence
    query = "encoding=linear16&sample_rate=16000&vad_events=true&utterance_end_ms=1000"
    chunks = [pcm[i : i + FRAME] for i in range(0, len(pcm), FRAME)]
    messages, code = await _stream(platform, query, chunks)
    assert code == 1000
    started = [m for m in messages if m["type"] == "SpeechStarted"]
    assert started and started[0]["channel"] == [0] and 0 <= started[0]["timestamp"] < 4.0, messages
    ends = [m for m in messages if m["type"] == "UtteranceEnd"]
    assert ends and 0 < ends[0]["last_word_end"] <= 4.0, [m["type"] for m in messages]
    finals = [m for m in messages if m["type"] == "Results" and m["is_final"]]
    last_word = max(w["end"] for m in finals for w in m["channel"]["alternatives"][0]["words"])
    assert ends[-1]["last_word_end"] == pytest.approx(last_word, abs=0.01)
    # Without the flags neither message goes out (Deepgram's default).
    plain, _ = await _stream(platform, "encoding=linear16&sample_rate=16000", chunks)
    assert not [m for m in plain if m["type"] in ("SpeechStarted", "UtteranceEnd")]


async def test_token_in_the_query_string_logs_in(platform: RunningPlatform) -> None:
    messages, code = await _stream(
        platform, f"encoding=linear16&sample_rate=16000&token={platform.api_key}", [b"\x00" * FRAME], {}
    )
    assert code == 1000
    assert messages[0]["type"] == "Metadata" and messages[0]["session_id"]
    assert messages[-1]["type"] == "Metadata" and messages[-1]["duration"] == pytest.approx(0.1)


async def test_webm_opus_streams_through_listen_and_is_archived_as_16k_pcm(platform: RunningPlatform) -> None:
    from tests.gateway.test_audio import _ogg_opus, dominant_hz

    webm = _ogg_opus(2.0, "webm", hz=660.0)
    chunks = [webm[i : i + 1000] for i in range(0, len(webm), 1000)]  # MediaRecorder-sized pieces
    messages, code = await _stream(platform, "encoding=webm", chunks)
    assert code == 1000
    assert messages[-1]["duration"] == pytest.approx(2.0, abs=0.1)
    await wait_ready(platform, messages[0]["session_id"])
    archived = await asyncio.to_thread(platform.archive.read_pcm, messages[0]["session_id"])
    assert len(archived) / 32000 == pytest.approx(2.0, abs=0.1)
    assert dominant_hz(archived) == pytest.approx(660, abs=5)
