"""Uploaded recordings: through the live path to a transcript (real ASR worker), bad files, size limits,
and the presigned-PUT flow on the real S3 server."""

from __future__ import annotations

import asyncio
import io
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import soundfile
from fastapi import FastAPI

import gateway.api.ingest_upload as ingest_upload
from tests.data.clips import _pyannote_sample_dir
from tests.gateway.api.fixtures import make_settings, running, signup

SAMPLE = _pyannote_sample_dir() / "sample.wav"


def speech_clip(start_s: float = 6.5, end_s: float = 18.0, fmt: str = "FLAC") -> bytes:
    """Diane and Sheila introduce themselves (pyannote's sample clip), as a FLAC file."""
    audio, rate = soundfile.read(SAMPLE, dtype="int16")
    out = io.BytesIO()
    soundfile.write(out, audio[int(start_s * rate) : int(end_s * rate)], rate, format=fmt)
    return out.getvalue()


async def wait_for(check: Any, timeout_s: float) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.25)
    raise AssertionError(f"not done within {timeout_s} s")


async def session_of(client: httpx.AsyncClient, sid: str, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get(f"/v1/sessions/{sid}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.slow
async def test_upload_is_transcribed_like_a_live_stream(platform: Any) -> None:
    headers = {"Authorization": f"Token {platform.api_key}"}
    async with httpx.AsyncClient(base_url=platform.base_url, timeout=30) as client:
        started = time.monotonic()
        upload = await client.post(
            "/v1/recordings",
            files={"file": ("intro.flac", speech_clip(), "audio/flac")},
            data={"title": "Intro call", "language": "en", "diarize": "false"},
            headers=headers,
        )
        assert upload.status_code == 202, upload.text
        session = upload.json()
        assert session["status"] == "processing" and session["source"] == "upload"
        assert session["title"] == "Intro call"
        sid = session["id"]

        async def transcribed() -> tuple[dict[str, Any], str] | None:
            found = await session_of(client, sid, headers)
            assert found["status"] != "failed", found
            text = (
                await client.get(f"/v1/sessions/{sid}/transcript?format=txt", headers=headers)
            ).text.lower()
            finished = found["ended_at"] and found["duration_s"] and "chicago" in text
            return (found, text) if finished or found["status"] == "completed" else None

        done, text = await wait_for(transcribed, 120)
        elapsed = time.monotonic() - started
        assert "jersey" in text and "chicago" in text, text
        assert abs(done["duration_s"] - 11.5) < 0.2
        print(f"11.5 s upload transcribed in {elapsed:.1f} s (segments: {done['segment_count']})")


async def test_not_audio_fails_the_session(client: httpx.AsyncClient) -> None:
    person = await signup(client, "uploader")
    upload = await client.post(
        "/v1/recordings",
        files={"file": ("notes.txt", b"this is not audio" * 100, "text/plain")},
        headers=person.headers,
    )
    assert upload.status_code == 202
    sid = upload.json()["id"]

    async def failed() -> dict[str, Any] | None:
        found = await session_of(client, sid, person.headers)
        return found if found["status"] == "failed" else None

    done = await wait_for(failed, 20)
    assert "audio" in done["error"]
    no_file = await client.post("/v1/recordings", data={"title": "x"}, headers=person.headers)
    assert no_file.status_code == 422


async def test_presign_needs_s3(client: httpx.AsyncClient) -> None:
    person = await signup(client, "presigner")
    response = await client.post("/v1/recordings/presign", json={"filename": "a.wav"}, headers=person.headers)
    assert response.status_code == 409 and response.json()["error"]["code"] == "presign_unsupported"


async def test_upload_size_limit(tmp_path: Path, database_url: str, nats_url: str, nc: Any) -> None:
    settings = make_settings(tmp_path, database_url, nats_url, max_upload_bytes=4096)
    async with running(settings) as (_, client):
        person = await signup(client, "big")
        big = await client.post(
            "/v1/recordings",
            files={"file": ("big.wav", b"\0" * 200_000, "audio/wav")},
            headers=person.headers,
        )
        assert big.status_code == 413 and big.json()["error"]["code"] == "payload_too_large"
        # Under the request limit (which allows multipart overhead) but over the file limit.
        edge = await client.post(
            "/v1/recordings", files={"file": ("edge.wav", b"\0" * 5000, "audio/wav")}, headers=person.headers
        )
        assert edge.status_code == 413
        listed = await client.get("/v1/sessions", headers=person.headers)
        assert listed.json()["items"] == []  # nothing half-made is left behind


async def test_upload_longer_than_the_session_limit(
    tmp_path: Path, database_url: str, nats_url: str, nc: Any
) -> None:
    settings = make_settings(tmp_path, database_url, nats_url, max_session_s=1.0)
    async with running(settings) as (_, client):
        person = await signup(client, "long")
        upload = await client.post(
            "/v1/recordings",
            files={"file": ("long.flac", speech_clip(6.5, 9.0), "audio/flac")},
            headers=person.headers,
        )
        sid = upload.json()["id"]

        async def failed() -> dict[str, Any] | None:
            found = await session_of(client, sid, person.headers)
            return found if found["status"] == "failed" else None

        done = await wait_for(failed, 30)
        assert "longer than the limit" in done["error"], done


@pytest.fixture
async def s3_app(
    tmp_path: Path, database_url: str, nats_url: str, nc: Any, s3: Any
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    settings = make_settings(
        tmp_path,
        database_url,
        nats_url,
        archive_url=s3.archive_url(f"presign-{uuid.uuid4().hex[:8]}"),
        s3_endpoint_url=s3.endpoint_url,
        s3_access_key_id=s3.access_key,
        s3_secret_access_key=s3.secret_key,
        s3_region=s3.region,
    )
    async with running(settings) as pair:
        yield pair


async def test_presigned_upload_flow(s3_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest_upload, "WORKER_WAIT_S", 0.5)  # no ASR worker in this app: fail fast
    _, client = s3_app
    person = await signup(client, "s3-uploader")
    early = await client.post(
        "/v1/recordings/presign", json={"filename": "call.flac"}, headers=person.headers
    )
    missing = await client.post(
        f"/v1/recordings/{early.json()['session_id']}/complete", headers=person.headers
    )
    assert missing.status_code == 409 and missing.json()["error"]["code"] == "upload_missing"

    presigned = await client.post(
        "/v1/recordings/presign",
        json={"filename": "call.flac", "content_type": "audio/flac", "title": "From S3"},
        headers=person.headers,
    )
    assert presigned.status_code == 200, presigned.text
    body = presigned.json()
    async with httpx.AsyncClient() as outside:  # the browser/phone talks to S3 directly
        put = await outside.put(body["upload_url"], content=speech_clip(6.5, 9.0), headers=body["headers"])
        assert put.status_code == 200, put.text
    sid = body["session_id"]
    done = await client.post(f"/v1/recordings/{sid}/complete", headers=person.headers)
    assert done.status_code == 202 and done.json()["title"] == "From S3"
    again = await client.post(f"/v1/recordings/{sid}/complete", headers=person.headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_completed"

    async def settled() -> dict[str, Any] | None:
        found = await session_of(client, sid, person.headers)
        return found if found["status"] == "failed" or found["ended_at"] else None

    # The file came back from S3 and decoded: all its audio went on the bus (a worker of the session-wide
    # platform fixture may take it), or with no worker at all the session fails for lack of capacity.
    found = await wait_for(settled, 30)
    if found["status"] == "failed":
        assert "no ASR worker" in found["error"], found
    else:
        assert abs(found["duration_s"] - 2.5) < 0.1, found
