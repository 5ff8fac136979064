"""Resume: a client whose connection drops reconnects with session_id and resume_seq and continues the same
session; resent frames are deduplicated, finals are neither lost nor doubled."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
from typing import Any

import numpy as np
import pytest
import websockets

from ayka import bus
from persistence.repositories import sessions as sessions_repo
from tests.data.clips import SAMPLE_CUT_S, sample_clip, wer
from tests.fixtures.platform import RunningPlatform

FRAME = 3200


async def _drain_until_closed(ws: Any, sink: list[dict[str, Any]]) -> None:
    async for raw in ws:
        sink.append(json.loads(raw))


def _joined_finals(messages: list[dict[str, Any]]) -> str:
    """The finals' transcripts in order, each delivered once and none missing."""
    finals: dict[int, str] = {}
    for message in messages:
        if message.get("type") == "Results" and message.get("is_final"):
            index = message["final_index"]
            assert index not in finals, f"final {index} delivered twice"
            finals[index] = message["channel"]["alternatives"][0]["transcript"]
    assert sorted(finals) == list(range(len(finals))), "a final was lost"
    return " ".join(finals[i] for i in sorted(finals))


async def _archived(platform: RunningPlatform, session_id: str) -> bytes:
    """The session's archived PCM, once the session is ready."""
    deadline = asyncio.get_running_loop().time() + 60
    while (await _session_row(platform, session_id)).ready_at is None:
        assert asyncio.get_running_loop().time() < deadline, "the session never became ready"
        await asyncio.sleep(0.2)
    return await asyncio.to_thread(platform.archive.read_pcm, session_id)


async def test_a_dropped_connection_resumes_the_same_session(platform: RunningPlatform) -> None:
    clip = sample_clip(SAMPLE_CUT_S)  # 18 s (7 utterances): what a resume does needs no more
    pcm = (np.clip(clip.audio, -1, 1) * 32767).astype("<i2").tobytes()
    frames = [pcm[i : i + FRAME] for i in range(0, len(pcm), FRAME)]
    headers = {"Authorization": f"Token {platform.api_key}"}
    base = f"{platform.ws_url}?encoding=linear16&sample_rate=16000&channels=1"
    first: list[dict[str, Any]] = []
    cut = 150  # 15 s in

    ws = await websockets.connect(base, additional_headers=headers)
    reader = asyncio.create_task(_drain_until_closed(ws, first))
    for frame in frames[:cut]:
        await ws.send(frame)
        await asyncio.sleep(0.005)
    await asyncio.sleep(3)  # let some finals arrive
    ws.transport.abort()  # the network drops: no CloseStream, no close frame
    await asyncio.gather(reader, return_exceptions=True)
    session_id = first[0]["session_id"]
    got_finals = {m["final_index"] for m in first if m.get("type") == "Results" and m.get("is_final")}

    row = await sessions_repo.get(platform.pool, platform.owner_id, session_id)
    assert row is not None and row.ended_at is None, "the session must wait for a resume"

    resend_from = cut - 20  # resend the last 2 s: the bus deduplicates them
    second: list[dict[str, Any]] = []
    url = f"{base}&session_id={session_id}&resume_seq={resend_from}&resume_final={len(got_finals)}"
    async with websockets.connect(url, additional_headers=headers) as ws2:
        reader2 = asyncio.create_task(_drain_until_closed(ws2, second))
        for frame in frames[resend_from:]:
            await ws2.send(frame)
            await asyncio.sleep(0.005)
        await ws2.send(json.dumps({"type": "CloseStream"}))
        await asyncio.wait_for(reader2, 120)
    assert ws2.close_code == 1000
    assert second[0]["type"] == "Metadata" and second[0]["session_id"] == session_id and second[0]["resumed"]

    text = _joined_finals(first + second)
    assert wer(clip.reference, text) <= 0.3, text

    archived = await _archived(platform, session_id)
    assert hashlib.sha256(archived).hexdigest() == hashlib.sha256(pcm).hexdigest(), "archived audio differs"


@pytest.mark.parametrize(
    ("resend_from", "elsewhere"),
    [(10, False), (25, True)],  # before both Finalizes; at the frame still open, on another gateway
)
async def test_a_resume_after_a_finalize_mid_frame_neither_loses_nor_doubles_audio(
    platform: RunningPlatform, resend_from: int, elsewhere: bool
) -> None:
    # A client that sends audio in pieces that are not whole 100 ms frames, sends Finalize, drops and
    # resumes at a frame number. A Finalize used to publish the audio the gateway held as a short frame,
    # which moved every later frame off the client's 100 ms grid: the resent frames then overlapped what
    # the bus held under their numbers, and audio was lost or doubled.
    from tests.fixtures.platform import extra_gateway as gateway

    clip = sample_clip(SAMPLE_CUT_S)
    pcm = (np.clip(clip.audio, -1, 1) * 32767).astype("<i2").tobytes()
    piece = 1000
    finalize_after = {12 * FRAME + 600, 25 * FRAME + 1000}  # both inside a frame
    headers = {"Authorization": f"Token {platform.api_key}"}
    query = "encoding=linear16&sample_rate=16000&channels=1"

    async def send(ws: Any, begin: int, end: int) -> None:
        for at in range(begin, end, piece):
            await ws.send(pcm[at : min(at + piece, end)])
            if min(at + piece, end) in finalize_after:
                await ws.send(json.dumps({"type": "Finalize"}))
            await asyncio.sleep(0.003)

    first: list[dict[str, Any]] = []
    ws = await websockets.connect(f"{platform.ws_url}?{query}", additional_headers=headers)
    reader = asyncio.create_task(_drain_until_closed(ws, first))
    await send(ws, 0, 25 * FRAME + 1000)  # drops while frame 25 has only the start the Finalize carried
    await asyncio.sleep(3)  # let the Finalizes' finals arrive
    ws.transport.abort()
    await asyncio.gather(reader, return_exceptions=True)
    session_id = first[0]["session_id"]
    got_finals = {m["final_index"] for m in first if m.get("type") == "Results" and m.get("is_final")}
    assert any(m.get("from_finalize") for m in first if m.get("type") == "Results"), "no Finalize flushed"

    # What the bus has is deduplicated, the rest of the open frame completed.
    second: list[dict[str, Any]] = []
    resume = f"{query}&session_id={session_id}&resume_seq={resend_from}&resume_final={len(got_finals)}"
    async with contextlib.AsyncExitStack() as stack:
        url = await stack.enter_async_context(gateway(platform)) if elsewhere else platform.ws_url
        async with websockets.connect(f"{url}?{resume}", additional_headers=headers) as ws2:
            reader2 = asyncio.create_task(_drain_until_closed(ws2, second))
            finalize_after.clear()
            await send(ws2, resend_from * FRAME, len(pcm))
            await ws2.send(json.dumps({"type": "CloseStream"}))
            await asyncio.wait_for(reader2, 120)
    assert ws2.close_code == 1000

    text = _joined_finals(first + second)
    assert wer(clip.reference, text) <= 0.3, text
    archived = await _archived(platform, session_id)
    assert len(archived) == len(pcm), "audio was lost or doubled"
    assert hashlib.sha256(archived).hexdigest() == hashlib.sha256(pcm).hexdigest(), "audio was moved"


async def test_a_resume_without_resume_seq_after_a_finalize_continues_after_the_finalized_audio(
    platform: RunningPlatform,
) -> None:
    # The Finalize carried the start of a frame that never came whole (the connection dropped). Another
    # gateway that numbered its first frame like that one would have had it taken for the frame's rest.
    from tests.fixtures.platform import extra_gateway as gateway

    clip = sample_clip()
    pcm = (np.clip(clip.audio[6 * 16000 : 14 * 16000], -1, 1) * 32767).astype("<i2").tobytes()
    cut = 30 * FRAME + 1400
    headers = {"Authorization": f"Token {platform.api_key}"}
    base = "encoding=linear16&sample_rate=16000&channels=1"
    ws = await websockets.connect(f"{platform.ws_url}?{base}", additional_headers=headers)
    session_id = json.loads(await ws.recv())["session_id"]
    for at in range(0, cut, 1400):
        await ws.send(pcm[at : min(at + 1400, cut)])
    await ws.send(json.dumps({"type": "Finalize"}))
    await asyncio.sleep(1.0)
    ws.transport.abort()

    async with gateway(platform) as other:
        messages: list[dict[str, Any]] = []
        url = f"{other}?{base}&session_id={session_id}"
        async with websockets.connect(url, additional_headers=headers) as again:
            reader = asyncio.create_task(_drain_until_closed(again, messages))
            for at in range(cut, len(pcm), FRAME):
                await again.send(pcm[at : at + FRAME])
            await again.send(json.dumps({"type": "CloseStream"}))
            await asyncio.wait_for(reader, 60)
    assert again.close_code == 1000, again.close_reason
    assert messages[0]["resumed"] is True and messages[0]["next_seq"] == 31
    archived = await _archived(platform, session_id)
    assert hashlib.sha256(archived).hexdigest() == hashlib.sha256(pcm).hexdigest(), "audio was lost"


async def test_resuming_someone_elses_session_is_refused(platform: RunningPlatform) -> None:
    from gateway.auth import create_api_key
    from persistence.repositories import users

    other = await users.create(platform.pool, "intruder@example.com", "x", "Intruder")
    _public, key = await create_api_key(platform.pool, other.id, "intruder", ["listen"])
    headers = {"Authorization": f"Token {platform.api_key}"}
    base = f"{platform.ws_url}?encoding=linear16&sample_rate=16000&channels=1"
    async with websockets.connect(base, additional_headers=headers) as ws:
        session_id = json.loads(await ws.recv())["session_id"]
        url = f"{base}&session_id={session_id}&resume_seq=0"
        async with websockets.connect(url, additional_headers={"Authorization": f"Token {key}"}) as intruder:
            with contextlib.suppress(websockets.ConnectionClosed):
                async for _ in intruder:
                    pass
        assert intruder.close_code == 1008
        assert "not yours" in (intruder.close_reason or "")
        await ws.send(json.dumps({"type": "CloseStream"}))
        async for _ in ws:
            pass


async def test_resuming_an_ended_session_says_it_ended(platform: RunningPlatform) -> None:
    headers = {"Authorization": f"Token {platform.api_key}"}
    base = f"{platform.ws_url}?encoding=linear16&sample_rate=16000&channels=1"
    async with websockets.connect(base, additional_headers=headers) as ws:
        session_id = json.loads(await ws.recv())["session_id"]
        await ws.send(json.dumps({"type": "CloseStream"}))
        async for _ in ws:
            pass
    async with websockets.connect(f"{base}&session_id={session_id}", additional_headers=headers) as again:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for _ in again:
                pass
    assert again.close_code == 4001


async def test_a_session_nobody_comes_back_to_is_closed_by_its_worker(
    platform: RunningPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    import stream_asr.worker as asr_worker

    monkeypatch.setattr(asr_worker, "ABANDONED_AFTER_S", 1.5)
    monkeypatch.setattr(asr_worker, "ABANDON_CHECK_S", 0.5)
    clip = sample_clip()
    pcm = (np.clip(clip.audio[6 * 16000 : 10 * 16000], -1, 1) * 32767).astype("<i2").tobytes()
    headers = {"Authorization": f"Token {platform.api_key}"}
    ws = await websockets.connect(
        f"{platform.ws_url}?encoding=linear16&sample_rate=16000", additional_headers=headers
    )
    session_id = json.loads(await ws.recv())["session_id"]
    for i in range(0, len(pcm), FRAME):
        await ws.send(pcm[i : i + FRAME])
    ws.transport.abort()  # the client vanishes and never resumes

    deadline = asyncio.get_running_loop().time() + 40
    while True:
        row = await sessions_repo.get(platform.pool, platform.owner_id, session_id)
        if row is not None and row.ready_at is not None and session_id not in platform.asr.runners:
            break
        assert asyncio.get_running_loop().time() < deadline, f"abandoned session never closed: {row}"
        await asyncio.sleep(0.2)
    assert row.ended_at is not None
    archived = await asyncio.to_thread(platform.archive.read_pcm, session_id)
    assert hashlib.sha256(archived).hexdigest() == hashlib.sha256(pcm).hexdigest()


async def test_resampled_audio_resumes_without_resume_seq_and_is_neither_lost_nor_doubled(
    platform: RunningPlatform,
) -> None:
    """48 kHz audio is resampled, so client bytes do not map to bus frames: resume_seq is refused, and a
    resume with session_id alone (here on another gateway) continues after the audio the session has."""
    from tests.fixtures.platform import extra_gateway as gateway
    from tests.gateway.test_audio import dominant_hz, tone

    second = tone(48000, 1.0, hz=880.0).astype("<i2").tobytes()
    first = tone(48000, 1.0, hz=440.0).astype("<i2").tobytes()
    headers = {"Authorization": f"Token {platform.api_key}"}
    base = "encoding=linear16&sample_rate=48000&channels=1"
    ws = await websockets.connect(f"{platform.ws_url}?{base}", additional_headers=headers)
    session_id = json.loads(await ws.recv())["session_id"]
    for i in range(0, len(first), 9600):
        await ws.send(first[i : i + 9600])
    await asyncio.sleep(0.5)
    ws.transport.abort()

    async with gateway(platform) as other:
        url = f"{other}?{base}&session_id={session_id}"
        async with websockets.connect(f"{url}&resume_seq=5", additional_headers=headers) as refused:
            with contextlib.suppress(websockets.ConnectionClosed):
                async for _ in refused:
                    pass
        assert refused.close_code == 4000
        assert "resume_seq" in (refused.close_reason or "")

        messages: list[dict[str, Any]] = []
        async with websockets.connect(url, additional_headers=headers) as again:
            reader = asyncio.create_task(_drain_until_closed(again, messages))
            for i in range(0, len(second), 9600):
                await again.send(second[i : i + 9600])
            await again.send(json.dumps({"type": "CloseStream"}))
            await asyncio.wait_for(reader, 60)
    assert again.close_code == 1000, again.close_reason
    assert messages[0]["resumed"] is True and 8 <= messages[0]["next_seq"] <= 10
    archived = await _archived(platform, session_id)
    assert abs(len(archived) / 32000 - 2.0) < 0.15, "resumed audio was lost or doubled"
    half = len(archived) // 2
    assert abs(dominant_hz(archived[: half - 3200]) - 440) < 10
    assert abs(dominant_hz(archived[half + 3200 :]) - 880) < 10


async def _session_row(platform: RunningPlatform, session_id: str) -> sessions_repo.Session:
    row = await sessions_repo.get(platform.pool, platform.owner_id, session_id)
    assert row is not None
    return row


async def test_a_reconnect_before_the_old_connection_drops_keeps_the_session(
    platform: RunningPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A phone changes networks: the client reconnects with session_id while this gateway still holds the
    # old connection, which drops only later. The old connection's drop used to write its own attachment
    # back, and its grace period then closed the session the new connection was streaming on.
    import gateway.listen.session as listen_session

    monkeypatch.setattr(listen_session, "RESUME_GRACE_S", 1.0)
    clip = sample_clip()
    pcm = (np.clip(clip.audio[6 * 16000 : 14 * 16000], -1, 1) * 32767).astype("<i2").tobytes()
    frames = [pcm[i : i + FRAME] for i in range(0, len(pcm), FRAME)]
    headers = {"Authorization": f"Token {platform.api_key}"}
    base = f"{platform.ws_url}?encoding=linear16&sample_rate=16000&channels=1"
    old = await websockets.connect(base, additional_headers=headers)
    session_id = json.loads(await old.recv())["session_id"]
    for frame in frames[:40]:
        await old.send(frame)
    await asyncio.sleep(0.5)

    received: list[dict[str, Any]] = []
    url = f"{base}&session_id={session_id}&resume_seq=40"
    async with websockets.connect(url, additional_headers=headers) as new:
        received.append(json.loads(await new.recv()))  # the resume is done: the new connection serves
        assert received[0]["type"] == "Metadata" and received[0]["resumed"]
        reader = asyncio.create_task(_drain_until_closed(new, received))
        old.transport.abort()  # now the old connection drops
        await asyncio.sleep(2.0)  # past the grace period
        assert (await _session_row(platform, session_id)).ended_at is None, "the session was closed"
        for frame in frames[40:]:
            await new.send(frame)
        await new.send(json.dumps({"type": "CloseStream"}))
        await asyncio.wait_for(reader, 60)
    assert new.close_code == 1000
    assert [m for m in received if m.get("type") == "Results" and m.get("is_final")]
    archived = await _archived(platform, session_id)
    assert hashlib.sha256(archived).hexdigest() == hashlib.sha256(pcm).hexdigest(), "audio was lost"


async def test_a_client_that_only_keeps_alive_is_not_taken_for_gone(
    platform: RunningPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A muted microphone: KeepAlive and no audio. The worker ends a session with no audio and no attached
    # client for ABANDONED_AFTER_S; the gateway never refreshed the attachment it reads, so a connected
    # but quiet client's session was closed under it.
    import gateway.listen.session as listen_session
    import stream_asr.worker as asr_worker

    monkeypatch.setattr(asr_worker, "ABANDONED_AFTER_S", 1.5)
    monkeypatch.setattr(asr_worker, "ABANDON_CHECK_S", 0.5)
    monkeypatch.setattr(listen_session, "ATTACHMENT_REFRESH_S", 0.3)
    clip = sample_clip()
    pcm = (np.clip(clip.audio[6 * 16000 : 10 * 16000], -1, 1) * 32767).astype("<i2").tobytes()
    headers = {"Authorization": f"Token {platform.api_key}"}
    received: list[dict[str, Any]] = []
    async with websockets.connect(
        f"{platform.ws_url}?encoding=linear16&sample_rate=16000", additional_headers=headers
    ) as ws:
        session_id = json.loads(await ws.recv())["session_id"]
        reader = asyncio.create_task(_drain_until_closed(ws, received))
        for i in range(0, len(pcm) // 2, FRAME):
            await ws.send(pcm[i : i + FRAME])
        for _ in range(8):  # 4 s of KeepAlive only
            await ws.send(json.dumps({"type": "KeepAlive"}))
            await asyncio.sleep(0.5)
        assert (await _session_row(platform, session_id)).ended_at is None, "a connected session was closed"
        for i in range(len(pcm) // 2, len(pcm), FRAME):
            await ws.send(pcm[i : i + FRAME])
        await ws.send(json.dumps({"type": "CloseStream"}))
        await asyncio.wait_for(reader, 60)
    assert ws.close_code == 1000
    assert any(m.get("type") == "Results" and m.get("is_final") for m in received)


async def test_an_idle_timeout_on_a_connection_the_client_left_does_not_end_the_session(
    platform: RunningPlatform,
) -> None:
    # The client moved to another gateway (which rewrote the session's attachment) while its old socket
    # stayed half-open here. That socket's idle timeout used to flush and close the session under the
    # client, whose later audio was then never transcribed.
    clip = sample_clip()
    pcm = (np.clip(clip.audio[6 * 16000 : 10 * 16000], -1, 1) * 32767).astype("<i2").tobytes()
    headers = {"Authorization": f"Token {platform.api_key}"}
    base = f"{platform.ws_url}?encoding=linear16&sample_rate=16000&channels=1"
    async with websockets.connect(base, additional_headers=headers) as old:
        session_id = json.loads(await old.recv())["session_id"]
        for i in range(0, len(pcm) // 2, FRAME):
            await old.send(pcm[i : i + FRAME])
        elsewhere = bus.Attachment(connection_id="another", gateway="gateway-b", attached_at=time.time())
        kv = await platform.nc.jetstream().key_value(bus.KV_LIVE_STREAMS)
        await kv.put(session_id, elsewhere.model_dump_json().encode())  # what a resume on gateway B writes
        with pytest.raises(websockets.ConnectionClosed):
            async with asyncio.timeout(30):
                while True:
                    await old.recv()  # sends nothing: the idle timeout (10 s) closes it
    assert old.close_code == 1011
    assert (await _session_row(platform, session_id)).ended_at is None, "the session was closed"

    received: list[dict[str, Any]] = []  # the client, on its new connection, finishes the session
    url = f"{base}&session_id={session_id}&resume_seq={len(pcm) // 2 // FRAME}"
    async with websockets.connect(url, additional_headers=headers) as new:
        reader = asyncio.create_task(_drain_until_closed(new, received))
        for i in range(len(pcm) // 2 // FRAME * FRAME, len(pcm), FRAME):
            await new.send(pcm[i : i + FRAME])
        await new.send(json.dumps({"type": "CloseStream"}))
        await asyncio.wait_for(reader, 60)
    assert new.close_code == 1000
    assert any(m.get("type") == "Results" and m.get("is_final") for m in received)
