"""An uploaded recording takes the live path's whole way through the real ``ayka up``: transcribed by the
ASR worker, stored by the recorder, then the agents pipeline (diarization is off in this platform), until
the session is ``completed`` with its transcript, summary and agents step done."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from tests.gateway.api.test_recordings import speech_clip
from tests.reliability.conftest import Up

pytestmark = pytest.mark.timeout(240)


async def test_an_upload_is_transcribed_and_goes_through_the_agents(up: Up) -> None:
    headers = {"Authorization": f"Token {up.client.api_key}"}
    async with httpx.AsyncClient(base_url=up.base_url, timeout=30) as client:
        upload = await client.post(
            "/v1/recordings",
            files={"file": ("intro.flac", speech_clip(), "audio/flac")},
            data={"title": "Intro call", "language": "en"},
            headers=headers,
        )
        assert upload.status_code == 202, upload.text
        sid = upload.json()["id"]

        deadline = time.monotonic() + 180
        session: dict[str, Any] = {}
        while time.monotonic() < deadline:
            session = (await client.get(f"/v1/sessions/{sid}", headers=headers)).json()
            assert session["status"] != "failed", session
            if session["status"] == "completed":
                break
            await asyncio.sleep(0.5)
        assert session["status"] == "completed", session
        assert session["source"] == "upload" and session["agents_status"] == "done", session
        assert abs(session["duration_s"] - 11.5) < 0.2 and session["segment_count"] > 0

        text = (await client.get(f"/v1/sessions/{sid}/transcript?format=txt", headers=headers)).text.lower()
        assert "jersey" in text and "chicago" in text, text
        summary = await client.get(f"/v1/sessions/{sid}/summary", headers=headers)
        assert summary.status_code == 200, summary.text
        assert summary.json()["abstract"], summary.json()
