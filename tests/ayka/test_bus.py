from __future__ import annotations

import pytest
from nats.aio.client import Client as NATS

from ayka import bus


async def test_ensure_bus_is_idempotent(nc: NATS) -> None:
    js = nc.jetstream()
    await bus.ensure_bus(js)
    await bus.ensure_bus(js)
    names = {info.config.name for info in await js.streams_info()}
    assert {bus.AUDIO_STREAM, bus.SESSIONS_STREAM, bus.TRANSCRIPTS_STREAM, bus.EVENTS_STREAM} <= names
    owners = await js.key_value(bus.KV_ASR_OWNERS)
    status = await owners.status()
    assert status.bucket == bus.KV_ASR_OWNERS


async def test_audio_frames_are_deduplicated_by_msg_id(nc: NATS) -> None:
    js = nc.jetstream()
    subject = bus.audio_subject("dedupe-test")
    headers = {bus.HDR_MSG_ID: bus.audio_msg_id("dedupe-test", 0), bus.HDR_SEQ: "0"}
    first = await js.publish(subject, b"\x00" * 3200, headers=headers)
    again = await js.publish(subject, b"\x00" * 3200, headers=headers)
    assert not first.duplicate
    assert again.duplicate
    assert again.seq == first.seq


@pytest.mark.parametrize("bad", ["", "a.b", "a b", "x" * 65, "a*"])
def test_session_ids_that_would_break_subjects_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        bus.audio_subject(bad)
