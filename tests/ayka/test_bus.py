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


def test_lifecycle_subjects_carry_the_session() -> None:
    subject = bus.event_subject(bus.SESSION_READY, "abc")
    assert subject == "session.ready.abc" and bus.session_of(subject) == "abc"
    assert bus._covers(bus.every_session(bus.SESSION_READY), subject)
    assert bus._covers(bus.session_subjects("abc"), bus.event_subject(bus.LEAD_FINALIZED, "abc"))
    assert not bus._covers(bus.session_subjects("abc"), bus.event_subject(bus.LEAD_FINALIZED, "abd"))
    assert not bus._covers(bus.every_session(bus.SESSION_READY), bus.SESSION_READY)


async def test_a_data_dir_from_before_per_session_subjects_is_upgraded(nc: NATS) -> None:
    """Old durable consumers filtered on ``session.ready``; after the upgrade the stream carries
    ``session.ready.*`` and a consumer with the old filter would never see a message: it is dropped."""
    from nats.js.api import ConsumerConfig, StreamConfig

    js = nc.jetstream()
    await js.add_stream(StreamConfig(name="LEGACY", subjects=["legacy.ready", "legacy.done"]))
    await js.add_consumer("LEGACY", ConsumerConfig(durable_name="old", filter_subject="legacy.ready"))
    await js.add_consumer("LEGACY", ConsumerConfig(durable_name="fine", filter_subject="legacy.done"))
    upgraded = StreamConfig(name="LEGACY", subjects=["legacy.ready.*", "legacy.done"])
    await bus._drop_stale_consumers(js, upgraded)
    await js.update_stream(upgraded)
    names = {info.name for info in await js.consumers_info("LEGACY")}
    assert names == {"fine"}
    sub = await js.pull_subscribe("legacy.ready.*", durable="old", stream="LEGACY")
    await js.publish("legacy.ready.s1", b"x")
    (msg,) = await sub.fetch(1, timeout=5)
    assert msg.subject == "legacy.ready.s1"
