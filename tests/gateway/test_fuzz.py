"""Fuzzing the gateway's input: property tests of the frame decoder and the control/query parser, and a
WebSocket fuzzer against a real gateway (its own instance beside the platform's, so its ``streams``
can be inspected): whatever a client sends, the server answers with a clean close, stays healthy, and
leaves no session behind (no live stream, no stray KV entries)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import websockets
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nats.js.errors import KeyNotFoundError

from ayka import bus
from ayka.runtime.process import free_port
from gateway.app import create_app
from gateway.audio import (
    FRAME_BYTES,
    SAMPLE_RATES,
    ContainerDecoder,
    DecodeError,
    Encoding,
    Framer,
    RawDecoder,
)
from gateway.listen.protocol import Control, ListenParams, ProtocolError, parse_control, parse_params
from gateway.state import GatewayState
from tests.fixtures.platform import RunningPlatform, _serve

RAW = [Encoding.LINEAR16, Encoding.MULAW, Encoding.ALAW]


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


# ---------------------------------------------------------------- the frame decoder


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.binary(max_size=6000),
    cuts=st.lists(st.integers(min_value=0, max_value=6000), max_size=12),
    encoding=st.sampled_from(RAW),
    channels=st.integers(min_value=1, max_value=3),
)
def test_raw_16k_decoding_of_any_bytes_in_any_chunking_keeps_every_whole_sample(
    data: bytes, cuts: list[int], encoding: Encoding, channels: int
) -> None:
    decoder = RawDecoder(encoding, 16000, channels)
    out = b""
    for chunk in _chunks(data, cuts):
        out += decoder.feed(chunk)
    width = 2 if encoding is Encoding.LINEAR16 else 1
    samples_in = len(data) // (width * channels)
    if channels == 1:
        # No resampling: every whole sample comes out, once, in order, whatever the chunking.
        assert len(out) == samples_in * 2
        if encoding is Encoding.LINEAR16:
            assert out == data[: samples_in * 2]
    else:
        out += decoder.flush()
        assert len(out) % 2 == 0
        assert abs(len(out) // 2 - samples_in) <= 64  # the downmix keeps the duration


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.binary(max_size=8000),
    cuts=st.lists(st.integers(min_value=0, max_value=8000), max_size=8),
    encoding=st.sampled_from(RAW),
    rate=st.sampled_from(sorted(SAMPLE_RATES)),
    channels=st.integers(min_value=1, max_value=2),
)
def test_resampled_output_length_follows_the_input_duration(
    data: bytes, cuts: list[int], encoding: Encoding, rate: int, channels: int
) -> None:
    decoder = RawDecoder(encoding, rate, channels)
    out = b""
    try:
        for chunk in _chunks(data, cuts):
            out += decoder.feed(chunk)
        out += decoder.flush()
    except DecodeError:
        return  # the one error the decoder may raise
    width = 2 if encoding is Encoding.LINEAR16 else 1
    seconds = len(data) // (width * channels) / rate
    assert len(out) % 2 == 0
    assert abs(len(out) / 2 - seconds * 16000) <= 64 + 16000 * 0.01


_CONTAINERS = [Encoding.WEBM, Encoding.OGG, Encoding.OPUS, Encoding.CONTAINER]
_WEBM_HEADER = bytes.fromhex("1a45dfa3")  # EBML magic: random bytes that get past the container probe
_OGG_HEADER = b"OggS\x00\x02"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.binary(max_size=4000),
    prefix=st.sampled_from([b"", _WEBM_HEADER, _OGG_HEADER]),
    cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=6),
    encoding=st.sampled_from(_CONTAINERS),
)
def test_random_bytes_into_the_container_decoder_only_ever_raise_decode_error(
    body: bytes, prefix: bytes, cuts: list[int], encoding: Encoding
) -> None:
    data = prefix + body
    decoder = ContainerDecoder(encoding)
    out = b""
    try:
        for chunk in _chunks(data, cuts):
            out += decoder.feed(chunk)
        out += decoder.flush()
    except DecodeError:
        with contextlib.suppress(DecodeError):
            decoder.flush()  # the decoder thread ends either way
        return
    assert len(out) % 2 == 0  # whatever decoded is whole 16-bit samples


@settings(max_examples=150, deadline=None)
@given(
    pieces=st.lists(st.binary(max_size=2 * FRAME_BYTES + 7), max_size=10),
)
def test_framer_cuts_whole_frames_and_loses_nothing(pieces: list[bytes]) -> None:
    framer = Framer()
    frames: list[bytes] = []
    for piece in pieces:
        frames += framer.push(piece)
    assert all(len(f) == FRAME_BYTES for f in frames)
    tail = framer.flush()
    assert len(tail) <= 1 and all(0 < len(t) < FRAME_BYTES for t in tail)
    assert b"".join(frames + tail) == b"".join(pieces)


# ---------------------------------------------------------------- the control and query parsers

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)
_control_texts = st.one_of(
    st.text(max_size=200),
    _json_values.map(json.dumps),
    st.builds(
        lambda t, extra: json.dumps({"type": t, **extra}),
        st.one_of(st.sampled_from([c.value for c in Control]), st.text(max_size=30), _json_values),
        st.dictionaries(st.text(max_size=8), _json_values, max_size=3),
    ),
)


@settings(max_examples=400, deadline=None)
@given(text=_control_texts)
def test_any_text_frame_is_a_control_or_a_protocol_error(text: str) -> None:
    try:
        control = parse_control(text)
    except ProtocolError as exc:
        assert exc.code == 1003 and exc.reason and len(exc.reason.encode()) <= 123 * 2
        return
    assert isinstance(control, Control)


_names = st.sampled_from(
    [
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
        "diarize_model",
        "tag",
        "session_id",
        "resume_seq",
        "resume_final",
        "live_leads",
        "keywords",
    ]
) | st.text(max_size=12)
_values = st.one_of(
    st.sampled_from(
        ["true", "false", "linear16", "mulaw", "opus", "webm", "16000", "48000", "0", "-1", "1e3"]
    ),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.text(max_size=30),
)


@settings(max_examples=400, deadline=None)
@given(query=st.dictionaries(_names, _values, max_size=8), tags=st.lists(st.text(max_size=10), max_size=3))
def test_any_query_is_listen_params_or_a_protocol_error(query: dict[str, str], tags: list[str]) -> None:
    try:
        params = parse_params(query, tags)
    except ProtocolError as exc:
        assert exc.code in (4000,) and exc.reason and len(exc.reason) <= 120
        return
    assert isinstance(params, ListenParams)
    if params.session_id is not None:
        bus.check_session_id(params.session_id)  # a valid subject token
    if params.encoding in (Encoding.LINEAR16, Encoding.MULAW, Encoding.ALAW):
        assert params.sample_rate in SAMPLE_RATES


# ---------------------------------------------------------------- the WebSocket fuzzer

CLEAN_CLOSES = {1000, 1003, 1007, 1008, 1009, 1011, 4000, 4003}


@dataclass
class FuzzGateway:
    app: FastAPI
    ws_url: str
    base_url: str

    @property
    def state(self) -> GatewayState:
        state: GatewayState = self.app.state.gateway
        return state


@pytest.fixture(scope="module")
async def fuzz_gateway(platform: RunningPlatform) -> AsyncIterator[FuzzGateway]:
    port = free_port()
    settings_ = platform.settings.model_copy(update={"port": port, "idle_timeout_s": 3.0})
    app = create_app(settings_)
    server, task = await _serve(app, port)
    try:
        yield FuzzGateway(app, f"ws://127.0.0.1:{port}/v1/listen", f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 15)


def _random_frame(rng: random.Random) -> str | bytes:
    roll = rng.random()
    if roll < 0.45:
        return rng.randbytes(rng.choice([0, 1, 3, 17, 320, 3199, 3200, 6401]))
    if roll < 0.6:
        return json.dumps({"type": rng.choice(["KeepAlive", "Finalize", "Configure"])})
    if roll < 0.7:
        return rng.choice(['{"type": "Explode"}', "not json", "[]", '{"type": 7}', "", "\x00\xff"])
    if roll < 0.75:
        return rng.randbytes(300 * 1024)  # over max_frame_bytes
    return bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 64)))


_QUERIES = [
    "encoding=linear16&sample_rate=16000",
    "encoding=linear16&sample_rate=44100&channels=2",
    "encoding=mulaw&sample_rate=8000",
    "encoding=alaw&sample_rate=8000&interim_results=false",
    "encoding=webm",
    "encoding=opus",
    "",
    "encoding=linear16",  # no sample_rate: refused
    "encoding=linear16&sample_rate=16000&endpointing=banana",
    "encoding=linear16&sample_rate=16000&session_id=../../etc",
]


async def _fuzz_one(gateway: FuzzGateway, key: str, rng: random.Random) -> tuple[int | None, str | None]:
    """One connection: a random query, random frames, then (usually) CloseStream. Returns (close code,
    session id)."""
    query = rng.choice(_QUERIES)
    session_id: str | None = None
    async with websockets.connect(
        f"{gateway.ws_url}?{query}", additional_headers={"Authorization": f"Token {key}"}, max_size=2**22
    ) as ws:
        with contextlib.suppress(websockets.ConnectionClosed):
            first = json.loads(await asyncio.wait_for(ws.recv(), 30))
            session_id = first.get("session_id")
            for _ in range(rng.randrange(1, 25)):
                await ws.send(_random_frame(rng))
            if rng.random() < 0.8:
                await ws.send(json.dumps({"type": "CloseStream"}))
                if rng.random() < 0.3:
                    await ws.send(rng.randbytes(3200))  # audio after CloseStream
            async with asyncio.timeout(90):
                async for _ in ws:
                    pass
    return ws.close_code, session_id


async def _kv_has(platform: RunningPlatform, bucket: str, key: str) -> bool:
    kv = await platform.nc.jetstream().key_value(bucket)
    try:
        entry = await kv.get(key)
    except KeyNotFoundError:
        return False
    return bool(entry.value)


async def test_random_frames_never_crash_the_gateway_nor_leak_a_session(
    platform: RunningPlatform, fuzz_gateway: FuzzGateway
) -> None:
    rng = random.Random(20261125)
    results: list[tuple[int | None, str | None]] = []
    for batch in range(4):
        seeds = [rng.random() for _ in range(6)]
        results += await asyncio.gather(
            *(_fuzz_one(fuzz_gateway, platform.api_key, random.Random(s)) for s in seeds)
        )
        async with httpx.AsyncClient() as client:
            health = await client.get(f"{fuzz_gateway.base_url}/healthz")
        assert health.status_code == 200, f"gateway unhealthy after batch {batch}"
    codes = [code for code, _ in results]
    assert all(code in CLEAN_CLOSES for code in codes), str(codes)

    # The fuzzer always ends with CloseStream or a protocol error, so nothing waits for a resume:
    # the gateway's live streams and the bus's per-session state must drain.
    sessions = [sid for _, sid in results if sid]
    assert sessions, "no fuzzed connection got a session"
    deadline = asyncio.get_running_loop().time() + 90
    while True:
        leaked: dict[str, list[str]] = {"streams": [s for s in sessions if s in fuzz_gateway.state.streams]}
        for bucket in (bus.KV_LIVE_STREAMS, bus.KV_ASR_SESSIONS, bus.KV_ASR_OWNERS):
            leaked[bucket] = [s for s in sessions if await _kv_has(platform, bucket, s)]
        if not any(leaked.values()):
            break
        assert asyncio.get_running_loop().time() < deadline, f"sessions leaked: {leaked}"
        await asyncio.sleep(0.5)
    assert not fuzz_gateway.state.streams


async def test_a_client_that_vanishes_mid_frame_leaves_the_gateway_healthy(
    platform: RunningPlatform, fuzz_gateway: FuzzGateway
) -> None:
    rng = random.Random(7)
    uri = f"{fuzz_gateway.ws_url}?encoding=linear16&sample_rate=16000"
    ws = await websockets.connect(uri, additional_headers={"Authorization": f"Token {platform.api_key}"})
    metadata: dict[str, Any] = json.loads(await ws.recv())
    for _ in range(5):
        await ws.send(rng.randbytes(3200))
    ws.transport.abort()
    # Detached, waiting for a resume (by design) ... and the next client is served normally.
    async with websockets.connect(
        uri, additional_headers={"Authorization": f"Token {platform.api_key}"}
    ) as ok:
        assert json.loads(await ok.recv())["type"] == "Metadata"
        await ok.send(json.dumps({"type": "CloseStream"}))
        async for _ in ok:
            pass
    assert ok.close_code == 1000
    # Closing the abandoned session by resuming it and sending CloseStream leaves nothing behind.
    resume = f"{uri}&session_id={metadata['session_id']}&resume_seq=5"
    async with websockets.connect(
        resume, additional_headers={"Authorization": f"Token {platform.api_key}"}
    ) as again:
        assert json.loads(await again.recv())["resumed"] is True
        await again.send(json.dumps({"type": "CloseStream"}))
        async for _ in again:
            pass
    assert again.close_code == 1000
    deadline = asyncio.get_running_loop().time() + 30
    while metadata["session_id"] in fuzz_gateway.state.streams:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.2)
