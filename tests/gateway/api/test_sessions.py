"""Sessions through the API: list with filters and keyset pages, read, rename, transcript in every format,
diarization, speakers, summary, the signed audio link, and deletion."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI

from persistence.repositories import sessions
from tests.gateway.api.fixtures import signup
from tests.gateway.api.seed import seed_session


async def test_list_paginates_and_filters(client: httpx.AsyncClient, app: FastAPI) -> None:
    person = await signup(client, "lister")
    pool = app.state.gateway.pool
    ids = [await seed_session(pool, person.id, title=f"call {n}") for n in range(5)]
    await sessions.update_state(pool, ids[0], status=sessions.SessionStatus.COMPLETED)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/sessions", params=params, headers=person.headers)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))  # newest first, each exactly once
    done = await client.get("/v1/sessions", params={"status": "completed"}, headers=person.headers)
    assert [s["id"] for s in done.json()["items"]] == [ids[0]]
    found = await client.get("/v1/sessions", params={"q": "call 3"}, headers=person.headers)
    assert [s["id"] for s in found.json()["items"]] == [ids[3]]
    by_text = await client.get("/v1/sessions", params={"q": "hi, bob"}, headers=person.headers)
    assert len(by_text.json()["items"]) == 5
    later = await client.get("/v1/sessions", params={"since": "2100-01-01T00:00:00Z"}, headers=person.headers)
    assert later.json()["items"] == []
    bad = await client.get("/v1/sessions", params={"cursor": "nonsense"}, headers=person.headers)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_cursor"
    wrong = await client.get("/v1/sessions", params={"status": "sleeping"}, headers=person.headers)
    assert wrong.status_code == 422


async def test_session_documents(client: httpx.AsyncClient, app: FastAPI) -> None:
    person = await signup(client, "reader")
    sid = await seed_session(app.state.gateway.pool, person.id)
    h = person.headers
    got = (await client.get(f"/v1/sessions/{sid}", headers=h)).json()
    assert got["segment_count"] == 2 and got["speaker_count"] == 2 and got["source"] == "live"
    renamed = await client.patch(f"/v1/sessions/{sid}", json={"title": "Renamed"}, headers=h)
    assert renamed.json()["title"] == "Renamed"

    speaker = await client.patch(f"/v1/sessions/{sid}/speakers/1", json={"name": "Bob"}, headers=h)
    assert speaker.json() == {"label": 1, "name": "Bob"}
    speakers = (await client.get(f"/v1/sessions/{sid}/speakers", headers=h)).json()["items"]
    assert speakers == [{"label": 0, "name": "Speaker 1"}, {"label": 1, "name": "Bob"}]

    transcript = (await client.get(f"/v1/sessions/{sid}/transcript", headers=h)).json()
    assert [s["text"] for s in transcript["segments"]] == ["Hello there.", "Hi, Bob!"]
    assert transcript["segments"][1]["speaker_name"] == "Bob"
    assert transcript["segments"][0]["words"][1]["punctuated_word"] == "there."
    txt = await client.get(f"/v1/sessions/{sid}/transcript?format=txt", headers=h)
    assert txt.text == "Speaker 1: Hello there.\nBob: Hi, Bob!\n"
    srt = await client.get(f"/v1/sessions/{sid}/transcript?format=srt", headers=h)
    assert srt.text.startswith("1\n00:00:00,000 --> 00:00:00,900\nSpeaker 1: Hello there.\n\n2\n00:00:01,200")
    vtt = await client.get(f"/v1/sessions/{sid}/transcript?format=vtt", headers=h)
    assert vtt.headers["content-type"].startswith("text/vtt")
    assert vtt.text.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:00.900\n<v Speaker 1>Hello there.")
    bad = await client.get(f"/v1/sessions/{sid}/transcript?format=doc", headers=h)
    assert bad.status_code == 422

    diar = (await client.get(f"/v1/sessions/{sid}/diarization", headers=h)).json()
    assert diar["turns"] == [
        {"start_s": 0.0, "end_s": 0.9, "speaker": 0},
        {"start_s": 1.2, "end_s": 1.9, "speaker": 1},
    ]
    rttm = await client.get(f"/v1/sessions/{sid}/diarization?format=rttm", headers=h)
    assert rttm.text.splitlines()[1] == f"SPEAKER {sid} 1 1.200 0.700 <NA> <NA> speaker_1 <NA> <NA>"
    summary = (await client.get(f"/v1/sessions/{sid}/summary", headers=h)).json()
    assert summary == {
        "abstract": "A greeting.",
        "bullets": ["hello"],
        "action_items": [{"text": "reply", "owner": "Bob"}],
        "engine": "offline",
    }


async def test_audio_link_is_signed_and_short_lived(client: httpx.AsyncClient, app: FastAPI) -> None:
    person = await signup(client, "listener")
    state = app.state.gateway
    sid = await seed_session(state.pool, person.id)
    missing = await client.get(f"/v1/sessions/{sid}/audio", headers=person.headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "audio_not_found"

    def archive_one_second() -> None:
        writer = state.archive.writer(sid)
        for seq in range(10):
            writer.append(seq, b"\x01\x00" * 1600)
        writer.finalize("wav")

    await asyncio.to_thread(archive_one_second)
    link = (await client.get(f"/v1/sessions/{sid}/audio", headers=person.headers)).json()
    url = urlsplit(link["url"])
    audio = await client.get(f"{url.path}?{url.query}")  # no credential: the link is the credential
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    assert audio.content[:4] == b"RIFF" and len(audio.content) > 32000
    ranged = await client.get(f"{url.path}?{url.query}", headers={"Range": "bytes=0-99"})
    assert ranged.status_code == 206 and ranged.content == audio.content[:100]
    sig = url.query.split("sig=")[1]
    flipped = ("0" if sig[0] != "0" else "1") + sig[1:]
    tampered = await client.get(f"{url.path}?{url.query.replace(sig, flipped)}")
    assert tampered.status_code == 403 and tampered.json()["error"]["code"] == "invalid_signature"
    expired = await client.get(f"{url.path}", params={"expires": "1", "sig": "ab" * 32})
    assert expired.status_code == 403


async def test_delete_session(client: httpx.AsyncClient, app: FastAPI) -> None:
    person = await signup(client, "deleter")
    sid = await seed_session(app.state.gateway.pool, person.id)
    assert (await client.delete(f"/v1/sessions/{sid}", headers=person.headers)).status_code == 204
    assert (await client.get(f"/v1/sessions/{sid}", headers=person.headers)).status_code == 404
    assert (await client.delete(f"/v1/sessions/{sid}", headers=person.headers)).status_code == 404
    audit = await app.state.gateway.pool.fetchrow(
        "SELECT actor, action FROM audit_log WHERE target = $1", f"session:{sid}"
    )
    assert dict(audit) == {"actor": person.id, "action": "session.delete"}
