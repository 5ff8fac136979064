"""The ASR worker on the real bus: it claims sessions by lease, publishes finals durably, and when it dies
another worker takes the session over from the resume point with the same words as a run without the
fault. Audio goes straight onto the bus (no gateway) so that the worker alone is under test."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import nats
import numpy as np
import pytest
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import KeyNotFoundError
from prometheus_client import REGISTRY

from ayka import bus
from ayka.runtime.nats import EmbeddedNats
from ayka.settings import Settings
from gateway.ingest import AudioIngest
from stream_asr.decode import DecodeRequest, Hypothesis
from stream_asr.scheduler import Scheduler, UpdateRecord, build_scheduler
from stream_asr.worker import AsrWorker, _FrameReader, _observe, _ReplayStart
from tests.data.clips import sample_clip
from tests.fixtures.platform import ASR_CAPACITY, PINNED_POLICY

LEASE_S = 1.5


def settings() -> Settings:
    return Settings(asr_capacity=4, asr_quick_sessions=2, asr_lease_ttl_s=LEASE_S)


@pytest.fixture(scope="module")
def second_scheduler() -> Scheduler:
    """A second model with the fixed policy of ``asr_scheduler``: workers that must decode alike (the
    fault test compares words) have their floors set, not measured (``LoadPolicy.follow_calls``)."""
    return build_scheduler(Settings(asr_capacity=ASR_CAPACITY, **PINNED_POLICY))  # type: ignore[arg-type]


RUNNING: list[RunningWorker] = []


class RunningWorker:
    def __init__(self, nc: NATS, scheduler: Scheduler, name: str) -> None:
        RUNNING.append(self)
        self.worker = AsrWorker(settings(), nc, scheduler, worker_id=f"{name}-{uuid.uuid4().hex[:6]}")
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(self.worker.run(self.stop))

    async def crash(self) -> None:
        """Die without releasing anything: leases expire, KV entries stay, nothing is flushed."""
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task

    async def shutdown(self) -> None:
        self.stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.task, 10)


@pytest.fixture(scope="module")
async def lease_nats(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[NATS]:
    """A nats-server of this module's own: no other test's ASR worker claims these sessions, and the
    owners bucket can have this module's short lease (its TTL is the lease)."""
    server = EmbeddedNats(Path(tmp_path_factory.mktemp("nats-lease")))
    server.start()
    client = await nats.connect(server.url)
    await bus.ensure_bus(client.jetstream(), lease_ttl_s=LEASE_S)
    yield client
    while RUNNING:
        await RUNNING.pop().crash()
    await client.close()
    server.stop()


@pytest.fixture(autouse=True)
async def no_worker_outlives_its_test(lease_nats: NATS) -> AsyncIterator[None]:
    """A test that failed half-way leaves its workers running; they would claim the next test's sessions."""
    yield
    while RUNNING:
        await RUNNING.pop().crash()


def clip_frames(seconds: float) -> list[bytes]:
    audio = sample_clip().audio[: int(seconds * 16000)]
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()
    return [pcm[i : i + 3200] for i in range(0, len(pcm), 3200)]


async def open_session(nc: NATS) -> AudioIngest:
    start = bus.SessionStart(session_id=uuid.uuid4().hex, owner_id="owner", started_at=time.time())
    ingest = AudioIngest(nc.jetstream(), start)
    await ingest.announce()
    return ingest


async def watch_finals(
    nc: NATS,
    session_id: str,
    on_msg: Callable[[Msg], Awaitable[None]],
    until: asyncio.Event,
    timeout_s: float,
) -> None:
    """Hand every message on the session's finals subject (from the first) to ``on_msg`` until ``until``."""
    sub = await nc.jetstream().subscribe(
        bus.final_subject(session_id),
        cb=on_msg,
        ordered_consumer=True,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
    )
    try:
        await asyncio.wait_for(until.wait(), timeout_s)
    finally:
        await sub.unsubscribe()


async def finals_of(nc: NATS, session_id: str, timeout_s: float = 120) -> list[bus.TranscriptResult]:
    """Every final of the session, in order, once the worker says it has flushed."""
    results: dict[int, bus.TranscriptResult] = {}
    done = asyncio.Event()

    async def on_msg(msg: Msg) -> None:
        if (msg.headers or {}).get(bus.HDR_KIND) == bus.FinalKind.FLUSHED:
            done.set()
            return
        result = bus.TranscriptResult.model_validate_json(msg.data)
        assert result.index not in results, f"final {result.index} published twice"
        results[result.index] = result

    await watch_finals(nc, session_id, on_msg, done, timeout_s)
    assert sorted(results) == list(range(len(results))), "a final index is missing"
    return [results[i] for i in sorted(results)]


async def first_words(nc: NATS, session_id: str, timeout_s: float) -> None:
    """Wait for the session's first final with words."""
    got = asyncio.Event()

    async def on_msg(msg: Msg) -> None:
        if (msg.headers or {}).get(bus.HDR_KIND) != bus.FinalKind.RESULT:
            return
        if bus.TranscriptResult.model_validate_json(msg.data).words:  # type: ignore[attr-defined]
            got.set()

    await watch_finals(nc, session_id, on_msg, got, timeout_s)


def words(finals: list[bus.TranscriptResult]) -> list[str]:
    return [w.word for f in finals for w in f.words]


async def progress_saved(
    nc: NATS, session_id: str, timeout_s: float = 60, after_s: float = 0.0, in_frame: int | None = None
) -> None:
    """Wait until the worker has recorded a resume point (whose buffer starts after ``after_s``, and in
    frame ``in_frame`` when given)."""
    kv = await nc.jetstream().key_value(bus.KV_ASR_PROGRESS)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            entry = await kv.get(session_id)
            point_saved = entry.value and b'"point":""' not in entry.value
            progress = bus.Progress.model_validate_json(entry.value) if point_saved else None
            at_frame = progress is not None and (in_frame is None or progress.resume_seq == in_frame)
            if at_frame and progress is not None and progress.committed_until_s > after_s:
                return
        await asyncio.sleep(0.1)
    raise AssertionError("the worker never recorded a resume point")


def timed_words(finals: list[bus.TranscriptResult]) -> list[tuple[str, float, float]]:
    return [(w.word, w.start_s, w.end_s) for f in finals for w in f.words]


# The clip the failover tests stream: 24 s, with two Finalizes that each cut a frame (the marker holds 50 ms
# of its frame, which comes whole later): one early, and one in frame 150 (15 s).
FAILOVER_PCM_S = 24.0
FINALIZE_AT = (10 * 3200 + 1600, 150 * 3200 + 1600)


async def stream_with_finalizes(session: AudioIngest, pcm: bytes, until: int, start: int = 0) -> None:
    """``pcm[start:until]`` in 100 ms frames, a Finalize at each of ``FINALIZE_AT`` (mid-frame)."""
    cuts = {at for at in FINALIZE_AT if start < at < until}
    for begin, end in itertools.pairwise(sorted({*range(start, until, 3200), until} | cuts)):
        await session.push_pcm(pcm[begin:end])
        if end in FINALIZE_AT:
            await session.finalize()


@pytest.fixture(scope="module")
async def failover_reference(
    lease_nats: NATS, second_scheduler: Scheduler
) -> tuple[bytes, list[bus.TranscriptResult]]:
    """The clip and its finals from one worker with no fault: what every failover run must reproduce."""
    nc = lease_nats
    pcm = b"".join(clip_frames(FAILOVER_PCM_S))
    worker = RunningWorker(nc, second_scheduler, "reference")
    try:
        session = await open_session(nc)
        await session.wait_for_worker(10)
        await stream_with_finalizes(session, pcm, len(pcm))
        await session.close()
        expected = await finals_of(nc, session.session_id)
    finally:
        RUNNING.remove(worker)
        await worker.shutdown()
    assert sum(f.from_finalize for f in expected) == len(FINALIZE_AT)
    assert len(words(expected)) > 20
    return pcm, expected


async def crash_and_take_over(
    nc: NATS,
    schedulers: tuple[Scheduler, Scheduler],
    pcm: bytes,
    crash_at: int,
    **point: float | int,
) -> tuple[AudioIngest, list[bus.TranscriptResult]]:
    """Stream ``pcm`` to a first worker up to byte ``crash_at``, wait for a resume point (``point``: the
    arguments of ``progress_saved``), crash it; a second worker takes over after the lease expires and
    gets the rest. The session and its finals."""
    first = RunningWorker(nc, schedulers[0], "first")
    session = await open_session(nc)
    assert (await session.wait_for_worker(10)).startswith("first")
    await stream_with_finalizes(session, pcm, crash_at)
    await progress_saved(nc, session.session_id, **point)  # type: ignore[arg-type]
    await first.crash()
    second = RunningWorker(nc, schedulers[1], "second")
    await stream_with_finalizes(session, pcm, len(pcm), start=crash_at)
    await session.close()
    got = await finals_of(nc, session.session_id)
    await second.shutdown()
    return session, got


async def test_a_worker_that_dies_is_replaced_and_the_words_are_the_same(
    lease_nats: NATS,
    asr_scheduler: Scheduler,
    second_scheduler: Scheduler,
    failover_reference: tuple[bytes, list[bus.TranscriptResult]],
) -> None:
    # The owner dies 18 s in, after both Finalizes; a second worker takes over after the lease expires and
    # replays from the last resume point. A Finalize mid-frame used to put the resumed session's audio 50 ms
    # off (the worker derived its replay position from the frame number).
    nc = lease_nats
    pcm, expected = failover_reference
    session, got = await crash_and_take_over(
        nc, (asr_scheduler, second_scheduler), pcm, 18 * 16000 * 2, after_s=FINALIZE_AT[0] / 32000
    )
    assert timed_words(got) == timed_words(expected)
    assert [f.from_finalize for f in got] == [f.from_finalize for f in expected]
    owners = await nc.jetstream().key_value(bus.KV_ASR_OWNERS)
    deadline = time.monotonic() + 10
    while True:  # the lease is released right after the flushed marker
        try:
            await owners.get(session.session_id)
        except KeyNotFoundError:
            break
        assert time.monotonic() < deadline, "the lease was not released when the session ended"
        await asyncio.sleep(0.1)


async def test_a_failover_inside_a_frame_a_finalize_cut_resumes_at_the_right_sample(
    lease_nats: NATS,
    asr_scheduler: Scheduler,
    second_scheduler: Scheduler,
    failover_reference: tuple[bytes, list[bus.TranscriptResult]],
) -> None:
    # The worker dies while the second Finalize's frame has only the start the marker carried, and its
    # replacement resumes from a point in that frame: it replays the marker's audio and takes only the
    # rest of the whole frame.
    pcm, expected = failover_reference
    crash_at = FINALIZE_AT[1]
    _, got = await crash_and_take_over(
        lease_nats, (asr_scheduler, second_scheduler), pcm, crash_at, in_frame=crash_at // 3200
    )
    assert timed_words(got) == timed_words(expected)
    assert [f.from_finalize for f in got] == [f.from_finalize for f in expected]


async def test_a_session_dropped_unflushed_is_resumed_not_ended(
    lease_nats: NATS,
    second_scheduler: Scheduler,
    failover_reference: tuple[bytes, list[bus.TranscriptResult]],
) -> None:
    # The scheduler drops a session without its close flush when its worker stops or loses the lease, and
    # cancels the session's tasks; a cancel that Python 3.11's wait_for swallows (it lands as a publish
    # completes) left the emitter running to the end of the events, where it marked the session flushed
    # and deleted it from KV: the gateway ended the session and the rest of the audio was never
    # transcribed (seen once in CI, as a failover run with only the first final). The worker hands such
    # a session on instead, and a claim resumes it.
    nc = lease_nats
    pcm, expected = failover_reference
    worker = RunningWorker(nc, second_scheduler, "dropping")
    session = await open_session(nc)
    await session.wait_for_worker(10)
    await stream_with_finalizes(session, pcm, 18 * 16000 * 2)
    await progress_saved(nc, session.session_id, after_s=FINALIZE_AT[0] / 32000)
    second_scheduler.discard(session.session_id)  # what the emitter sees when the cancel was lost
    await stream_with_finalizes(session, pcm, len(pcm), start=18 * 16000 * 2)
    await session.close()
    got = await finals_of(nc, session.session_id)
    await worker.shutdown()
    assert timed_words(got) == timed_words(expected)


async def test_a_stopped_workers_loops_end_without_being_cancelled(
    lease_nats: NATS, second_scheduler: Scheduler
) -> None:
    # A cancel can be lost (see the test above); a stopped worker whose lease renewal or claim loop lived
    # on would keep the leases of sessions it no longer serves, and no other worker would take them.
    running = RunningWorker(lease_nats, second_scheduler, "stopping")
    await running.shutdown()
    worker = running.worker
    assert worker.stopped
    sessions_kv = await lease_nats.jetstream().key_value(bus.KV_ASR_SESSIONS)
    loops = (worker._renew_leases(), worker._watch(sessions_kv), worker._scan(asyncio.Event()))
    await asyncio.wait_for(asyncio.gather(*loops), 5)


def test_a_frame_whose_start_came_with_a_finalize_is_read_once() -> None:
    # A Finalize carries the start of the frame the gateway holds (so the bus keeps the client's 100 ms
    # frame numbers); the frame comes whole later, and only its rest is new audio.
    pcm = np.random.default_rng(3).integers(-3000, 3000, 16000 * 2, dtype=np.int16).tobytes()
    frames = [pcm[i : i + 3200] for i in range(0, len(pcm), 3200)]
    sent = [(seq, frames[seq], True) for seq in range(4)]
    sent += [(4, frames[4][:1000], False), (4, frames[4][:2000], False), (4, frames[4], True)]
    sent += [(seq, frames[seq], True) for seq in range(5, 9)]
    sent += [(9, frames[9][:600], False), (10, frames[10], True)]  # frame 9 never came whole: it ends there

    def read(start: _ReplayStart, messages: list[tuple[int, bytes, bool]]) -> tuple[bytes, _FrameReader]:
        reader = _FrameReader(start, collections.OrderedDict())
        taken = [
            reader.take(seq, data, stream_seq, whole)
            for stream_seq, (seq, data, whole) in enumerate(messages)
        ]
        return b"".join(taken), reader

    got, reader = read(_ReplayStart(), sent)
    assert got == pcm[: 9 * 3200 + 600] + frames[10]
    assert reader.frames[5] == (7, 5 * 1600) and reader.frames[10] == (12, 9 * 1600 + 300)
    assert reader.frames[4] == (4, 4 * 1600)  # the replay of a point in frame 4 starts at its start
    # A worker that resumes at a point inside frame 4, after the Finalize's start of it:
    got, _ = read(_ReplayStart(4, 4 * 1600, 4 * 1600 + 700), sent[4:])
    assert got == pcm[(4 * 1600 + 700) * 2 : 9 * 3200 + 600] + frames[10]


async def test_a_session_whose_model_call_fails_is_handed_on_not_left_hanging(
    lease_nats: NATS, asr_scheduler: Scheduler
) -> None:
    # The scheduler ends a session whose model call raised; its worker used to go on waiting for audio
    # with nothing decoding it, renewing the lease, so no other worker took the session over.
    nc = lease_nats
    decode = asr_scheduler._decode
    failures = []

    def failing_once(requests: list[DecodeRequest], wide: bool = False) -> list[Hypothesis]:
        if not failures:
            failures.append(requests)
            raise RuntimeError("the model call failed")
        return decode(requests, wide)

    worker = RunningWorker(nc, asr_scheduler, "flaky")
    asr_scheduler._decode = failing_once  # type: ignore[method-assign]
    try:
        session = await open_session(nc)
        await session.wait_for_worker(10)
        for frame in clip_frames(12.0):
            await session.push_pcm(frame)
        await first_words(nc, session.session_id, timeout_s=30)  # while the stream is still open
        await session.close()
        got = await finals_of(nc, session.session_id, timeout_s=60)
    finally:
        asr_scheduler._decode = decode  # type: ignore[method-assign]
        await worker.shutdown()
    assert failures  # the fault happened, and the session was resumed after it: every word came out
    assert len(words(got)) > 10


async def test_the_resume_point_moves_on_through_silence(lease_nats: NATS, asr_scheduler: Scheduler) -> None:
    # Silence publishes no final, but the engine cuts its buffer in it: the worker records those points
    # too, or a failover after a long silence would replay (and publish again) finals that the bus's
    # deduplication window has forgotten.
    nc = lease_nats
    worker = RunningWorker(nc, asr_scheduler, "quiet")
    try:
        session = await open_session(nc)
        await session.wait_for_worker(10)
        for frame in clip_frames(9.0):
            await session.push_pcm(frame)
        for _ in range(10):  # the endpoint: the last final
            await session.push_pcm(bytes(3200))
        await first_words(nc, session.session_id, timeout_s=30)
        await asyncio.sleep(2.0)
        for _ in range(70):  # 7 s more of silence
            await session.push_pcm(bytes(3200))
        await progress_saved(nc, session.session_id, timeout_s=15, after_s=13.0)
        await session.close()
        await finals_of(nc, session.session_id)
    finally:
        await worker.shutdown()


async def test_a_session_is_claimed_by_exactly_one_of_two_workers(
    lease_nats: NATS, asr_scheduler: Scheduler, second_scheduler: Scheduler
) -> None:
    nc = lease_nats
    a = RunningWorker(nc, asr_scheduler, "a")
    b = RunningWorker(nc, second_scheduler, "b")
    try:
        sessions = [await open_session(nc) for _ in range(4)]
        owners = [await s.wait_for_worker(10) for s in sessions]
        for s in sessions:
            await s.close()
        for s in sessions:
            await finals_of(nc, s.session_id)
        served_a = {x for x in owners if x.startswith("a")}
        served_b = {x for x in owners if x.startswith("b")}
        assert served_a or served_b
        assert not set(a.worker.runners) & set(b.worker.runners)
    finally:
        await a.shutdown()
        await b.shutdown()


def test_model_calls_are_counted_by_kind() -> None:
    names = (
        "ayka_asr_update_duration_seconds_count",
        "ayka_asr_wide_calls_total",
        "ayka_asr_preview_calls_total",
    )

    def values() -> list[float]:
        return [REGISTRY.get_sample_value(name) or 0.0 for name in names]

    before = values()
    _observe(UpdateRecord(duration_s=0.5, batch_size=1, audio_s=8.0, wide=True))  # a lone session's update
    _observe(UpdateRecord(duration_s=0.7, batch_size=2, audio_s=16.0))  # two sessions, one call per core
    _observe(UpdateRecord(duration_s=0.1, batch_size=1, audio_s=8.0, preview=True))
    assert [after - b for after, b in zip(values(), before, strict=True)] == [2.0, 1.0, 1.0]
