"""WebRTC: an aiortc peer streams the clip; results arrive on the `results` data channel."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import soundfile
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.frame import Frame

from persistence.repositories import sessions as sessions_repo
from tests.data.clips import sample_clip
from tests.fixtures.platform import RunningPlatform


async def test_an_aiortc_peer_gets_results_on_the_data_channel(
    platform: RunningPlatform, tmp_path: Path
) -> None:
    clip = sample_clip()
    wav = tmp_path / "clip.wav"
    soundfile.write(wav, clip.audio[6 * 16000 : 16 * 16000], 16000, subtype="PCM_16")  # 10 s with speech

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    channel = pc.createDataChannel("results")
    messages: list[dict[str, Any]] = []
    closing = asyncio.Event()

    @channel.on("message")
    def on_message(raw: str) -> None:
        message = json.loads(raw)
        messages.append(message)
        if message.get("type") == "Metadata" and "finals" in message:
            closing.set()

    player = MediaPlayer(str(wav))
    assert player.audio is not None
    pc.addTrack(player.audio)
    await pc.setLocalDescription(await pc.createOffer())
    async with httpx.AsyncClient(base_url=platform.base_url) as client:
        response = await client.post(
            "/v1/webrtc/offer",
            json={"sdp": pc.localDescription.sdp, "type": "offer", "options": {"interim_results": "true"}},
            headers={"Authorization": f"Token {platform.api_key}"},
        )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["session_id"]
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type=answer["type"]))

    async with asyncio.timeout(60):
        await asyncio.sleep(11)  # the clip plays in real time
        assert any(m.get("type") == "Results" for m in messages), messages
        channel.send(json.dumps({"type": "CloseStream"}))
        await closing.wait()
    await pc.close()

    assert messages[0]["type"] == "Metadata" and messages[0]["session_id"] == answer["session_id"]
    finals = [m for m in messages if m["type"] == "Results" and m["is_final"]]
    text = " ".join(m["channel"]["alternatives"][0]["transcript"] for m in finals).lower()
    assert "hello" in text and "there" in text, text
    assert any(m["type"] == "Results" and not m["is_final"] for m in messages)


async def test_an_offer_without_credentials_is_refused(platform: RunningPlatform) -> None:
    async with httpx.AsyncClient(base_url=platform.base_url) as client:
        response = await client.post("/v1/webrtc/offer", json={"sdp": "v=0", "type": "offer"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


async def test_a_malformed_offer_is_a_422_not_a_500(platform: RunningPlatform) -> None:
    async with httpx.AsyncClient(base_url=platform.base_url) as client:
        response = await client.post(
            "/v1/webrtc/offer",
            json={"sdp": "this is not sdp", "type": "offer"},
            headers={"Authorization": f"Token {platform.api_key}"},
        )
    assert response.status_code == 422, response.text
    assert "audio" in response.json()["error"]["message"]


class _MuteTrack(MediaStreamTrack):
    """An audio track that never yields a frame: a peer that stopped sending RTP."""

    kind = "audio"

    async def recv(self) -> Frame:
        await asyncio.Event().wait()
        raise MediaStreamError


async def test_a_peer_that_sends_no_audio_is_closed_after_the_idle_timeout(platform: RunningPlatform) -> None:
    from tests.fixtures.platform import extra_gateway as gateway

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    channel = pc.createDataChannel("results")
    messages: list[dict[str, Any]] = []
    closing = asyncio.Event()

    @channel.on("message")
    def on_message(raw: str) -> None:
        messages.append(json.loads(raw))
        if messages[-1].get("type") == "Metadata" and "finals" in messages[-1]:
            closing.set()

    pc.addTrack(_MuteTrack())
    await pc.setLocalDescription(await pc.createOffer())
    async with gateway(platform, idle_timeout_s=4.0) as ws_url:
        base_url = ws_url.replace("ws://", "http://").removesuffix("/v1/listen")
        async with httpx.AsyncClient(base_url=base_url) as client:
            response = await client.post(
                "/v1/webrtc/offer",
                json={"sdp": pc.localDescription.sdp, "type": "offer"},
                headers={"Authorization": f"Token {platform.api_key}"},
            )
        assert response.status_code == 200, response.text
        answer = response.json()
        started = asyncio.get_running_loop().time()
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type=answer["type"]))
        async with asyncio.timeout(30):
            await closing.wait()
        elapsed = asyncio.get_running_loop().time() - started
    await pc.close()
    assert 3.5 <= elapsed <= 12, elapsed
    errors = [m for m in messages if m["type"] == "Error"]
    assert errors and errors[0]["code"] == "1011" and "NET-0001" in errors[0]["message"], messages
    row = await sessions_repo.get(platform.pool, platform.owner_id, answer["session_id"])
    assert row is not None and row.ended_at is not None, "the idle session is flushed and ended"
