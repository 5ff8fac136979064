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
