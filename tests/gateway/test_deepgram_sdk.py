"""The official Deepgram Python SDK, pointed at our gateway, streams the sample clip."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
from deepgram import AsyncDeepgramClient
from deepgram.environment import DeepgramClientEnvironment

from tests.data.clips import sample_clip, wer
from tests.fixtures.platform import RunningPlatform


async def test_the_deepgram_sdk_streams_the_clip_and_gets_interim_and_final_results(
    platform: RunningPlatform,
) -> None:
    ws_base = platform.base_url.replace("http://", "ws://")
    client = AsyncDeepgramClient(
        api_key=platform.api_key,
        environment=DeepgramClientEnvironment(
            base=platform.base_url, production=ws_base, agent=ws_base, agent_rest=platform.base_url
        ),
    )
    clip = sample_clip()
    pcm = (np.clip(clip.audio, -1, 1) * 32767).astype("<i2").tobytes()
    received: list[Any] = []
    async with client.listen.v1.connect(
        model="nova-3",
        encoding="linear16",
        sample_rate=16000,
        channels=1,
        interim_results="true",
        punctuate="true",
        endpointing=300,
        vad_events="true",
    ) as socket:

        async def read() -> None:
            async for message in socket:
                received.append(message)

        reader = asyncio.create_task(read())
        for i in range(0, len(pcm), 3200):
            await socket.send_media(pcm[i : i + 3200])
            await asyncio.sleep(0.01)
        await socket.send_finalize()
        await socket.send_close_stream()
        await asyncio.wait_for(reader, 120)

    results = [m for m in received if getattr(m, "type", None) == "Results"]
    finals = [m for m in results if m.is_final]
    interims = [m for m in results if not m.is_final]
    assert interims, "no interim results"
    assert finals, "no final results"
    assert all(m.channel.alternatives[0].words is not None for m in finals)
    text = " ".join(m.channel.alternatives[0].transcript for m in finals)
    assert wer(clip.reference, text) <= 0.15, text
    assert any(getattr(m, "type", None) == "Metadata" for m in received)
