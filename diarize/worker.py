"""The diarization worker: live speaker labels on finals, and post-call diarization on session.ready.

Live: a durable consumer on ``session.start`` hands each session that asked for ``diarize`` to one
worker, which follows ``audio.<s>`` and ``final.<s>`` with ordered consumers, labels every final and
publishes ``SpeakerUpdate`` on ``speaker.<s>`` (also for earlier finals the tracker relabels), and
stores the label on the segment.
Post-call: a durable consumer on ``session.ready`` diarizes the archived audio, relabels the stored
transcript and always publishes ``session.diarized`` (also when diarization is off or failed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import FetchTimeoutError

from ayka import bus
from ayka.settings import DiarizeBackend, Settings
from diarize.backends import make_diarizer, make_tracker
from diarize.embedding import shared_embedder
from diarize.live import LiveSession
from diarize.postcall import Outcome, diarize_session
from diarize.types import DiarizationError, OfflineDiarizer
from persistence.archive import Archive
from persistence.db import Db
from persistence.repositories import segments as segments_repo
from persistence.repositories.sessions import StepStatus

log = logging.getLogger(__name__)

START_CONSUMER = "diarize-start"
READY_CONSUMER = "diarize-ready"
AUDIO_WAIT_S = 1.5  # a final may arrive just before the last of its audio
SEGMENT_RETRY_S = 5.0  # the recorder may store the segment just after we label it
IDLE_END_S = 600.0  # a live session with no message this long is dropped


async def run_diarize_worker(
    settings: Settings, nc: NATS, pool: Db, archive: Archive, stop_event: asyncio.Event
) -> None:
    worker = DiarizeWorker(settings, nc, pool, archive)
    await worker.run(stop_event)


class DiarizeWorker:
    def __init__(self, settings: Settings, nc: NATS, pool: Db, archive: Archive) -> None:
        self.settings = settings
        self.nc = nc
        self.js = nc.jetstream()
        self.pool = pool
        self.archive = archive
        self.live: dict[str, asyncio.Task[None]] = {}
        self._diarizer: OfflineDiarizer | None = None
        self._diarizer_error: str | None = None
        self.ready = asyncio.Event()  # set once consumers exist and the models are loaded
        self._stores: set[asyncio.Task[None]] = set()  # pending segment updates (kept referenced)

    async def run(self, stop: asyncio.Event) -> None:
        # Consumers first (nothing published meanwhile is missed), then the models.
        ready = await self._pull(
            bus.EVENTS_STREAM, bus.every_session(bus.SESSION_READY), READY_CONSUMER, DeliverPolicy.ALL, 300
        )
        starts = None
        if self.settings.diarize_backend is not DiarizeBackend.OFF:
            starts = await self._pull(
                bus.SESSIONS_STREAM,
                bus.every_session(bus.SESSION_START),
                START_CONSUMER,
                DeliverPolicy.NEW,
                30,
            )
        await self._load_diarizer()
        self.ready.set()
        tasks = [asyncio.create_task(self._ready_loop(ready, stop), name="diarize-ready")]
        if starts is not None:
            tasks.append(asyncio.create_task(self._start_loop(starts, stop), name="diarize-start"))
        try:
            await stop.wait()
        finally:
            for task in [*tasks, *self.live.values()]:
                task.cancel()
            for task in [*tasks, *self.live.values()]:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _load_diarizer(self) -> None:
        # Loads weights once per process, off the event loop.
        if self.settings.diarize_backend is not DiarizeBackend.OFF:
            await asyncio.to_thread(shared_embedder)  # the live tracker's encoder
        try:
            self._diarizer = await asyncio.to_thread(make_diarizer, self.settings)
        except DiarizationError as exc:
            self._diarizer_error = str(exc)
            log.error("post-call diarization unavailable: %s", exc)

    # ------------------------------------------------------------ post-call

    async def _ready_loop(self, sub: Any, stop: asyncio.Event) -> None:
        while not stop.is_set():
            for msg in await _fetch(sub, 1):
                try:
                    await self._on_ready(msg)
                except Exception:  # storage down: JetStream redelivers it later (max_deliver 5)
                    log.exception("post-call diarization of %s failed; will retry", msg.subject)
                    with contextlib.suppress(Exception):
                        await msg.nak(delay=5)

    async def _on_ready(self, msg: Msg) -> None:
        try:
            event = bus.SessionEvent.model_validate_json(msg.data)
        except ValueError:
            log.warning("dropping malformed session.ready")
            await msg.ack()
            return
        heartbeat = asyncio.create_task(_keep_in_progress(msg))
        try:
            outcome = await self._diarize(event.session_id)
        finally:
            heartbeat.cancel()
        if outcome is not None:
            done = bus.SessionEvent(
                session_id=event.session_id, owner_id=event.owner_id, data=outcome.as_data()
            )
            await self.js.publish(
                bus.event_subject(bus.SESSION_DIARIZED, event.session_id),
                done.model_dump_json().encode(),
                headers={bus.HDR_MSG_ID: f"{bus.SESSION_DIARIZED}.{event.session_id}"},
            )
        await msg.ack()

    async def _diarize(self, session_id: str) -> Outcome | None:
        if self._diarizer_error is not None:
            from persistence.repositories import sessions as sessions_repo

            if await sessions_repo.get_for_worker(self.pool, session_id) is None:
                return None
            await sessions_repo.update_state(
                self.pool,
                session_id,
                diarization_status=StepStatus.FAILED,
                diarize_backend=str(self.settings.diarize_backend),
            )
            return Outcome(StepStatus.FAILED, str(self.settings.diarize_backend), error=self._diarizer_error)
        return await diarize_session(self.pool, self.archive, self._diarizer, session_id)

    # ------------------------------------------------------------ live

    async def _start_loop(self, sub: Any, stop: asyncio.Event) -> None:
        while not stop.is_set():
            msgs = await _fetch(sub, 20)
            if stop.is_set():  # (a lost cancel, see cancel_and_wait): unacked, another worker follows them
                return
            for msg in msgs:
                with contextlib.suppress(Exception):
                    await msg.ack()
                try:
                    start = bus.SessionStart.model_validate_json(msg.data)
                except ValueError:
                    continue
                fresh = time.time() - start.started_at < self.settings.max_session_s
                if (
                    start.options.diarize
                    and start.source == "live"
                    and fresh
                    and start.session_id not in self.live
                ):
                    self._start_live(start.session_id)

    def _start_live(self, session_id: str) -> None:
        task = asyncio.create_task(self._follow(session_id), name=f"diarize-live-{session_id}")
        self.live[session_id] = task

        def forget(_task: asyncio.Task[None]) -> None:
            self.live.pop(session_id, None)

        task.add_done_callback(forget)

    async def _follow(self, session_id: str) -> None:
        tracker = make_tracker(self.settings)
        if tracker is None:
            return
        session = LiveSession(session_id, tracker)
        finals: asyncio.Queue[Msg] = asyncio.Queue()
        audio_sub = await self.js.subscribe(
            bus.audio_subject(session_id), ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
        )
        final_sub = await self.js.subscribe(
            bus.final_subject(session_id), ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
        )
        feeder = asyncio.create_task(self._feed_audio(audio_sub, session))
        collector = asyncio.create_task(_collect(final_sub, finals))
        try:
            while True:
                try:
                    msg = await asyncio.wait_for(finals.get(), timeout=IDLE_END_S)
                except TimeoutError:
                    log.info("live diarization of %s idle; dropping it", session_id)
                    return
                headers = msg.headers or {}
                if headers.get(bus.HDR_KIND) == bus.FinalKind.FLUSHED:
                    return
                await self._label(session, bus.TranscriptResult.model_validate_json(msg.data))
        finally:
            for task in (feeder, collector):
                task.cancel()
            for sub in (audio_sub, final_sub):
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()

    async def _feed_audio(self, sub: Any, session: LiveSession) -> None:
        async for msg in sub.messages:
            headers = msg.headers or {}
            kind = headers.get(bus.HDR_KIND, bus.FrameKind.AUDIO)
            if kind == bus.FrameKind.AUDIO or (kind == bus.FrameKind.FINALIZE and msg.data):
                session.audio.add(int(headers.get(bus.HDR_SEQ, "0")), msg.data)  # a Finalize: a frame's start
            elif kind == bus.FrameKind.CLOSE:
                session.audio.closed = True

    async def _label(self, session: LiveSession, result: bus.TranscriptResult) -> None:
        end_s = max([result.end_s, *(w.end_s for w in result.words)])
        waited = 0.0
        while session.audio.covered_s < end_s - 0.05 and not session.audio.closed and waited < AUDIO_WAIT_S:
            await asyncio.sleep(0.05)
            waited += 0.05
        try:
            updates = await asyncio.to_thread(session.label_final, result)
        except Exception:
            log.exception("live diarization of %s final %d failed", session.session_id, result.index)
            return
        subject = bus.speaker_subject(session.session_id)
        for update in updates:
            await self.nc.publish(subject, update.model_dump_json().encode())
        for update in updates:
            task = asyncio.create_task(self._store_speaker(session, update.final_index))
            self._stores.add(task)
            task.add_done_callback(self._stores.discard)

    async def _store_speaker(self, session: LiveSession, index: int) -> None:
        """Store a final's label. Stores of one final may overlap (its first label, then a relabel):
        each writes the label published last, read at write time, so the newest always wins."""
        session_id = session.session_id
        deadline = time.monotonic() + SEGMENT_RETRY_S
        while True:
            try:
                async with session.store_lock:  # one write at a time: the last reads the newest label
                    speaker = session.labels.get(index)
                    if await segments_repo.set_speaker(self.pool, session_id, index, speaker):
                        return
            except Exception as exc:
                log.warning("storing live speaker of %s/%d failed: %s", session_id, index, exc)
            if time.monotonic() > deadline:
                return
            await asyncio.sleep(0.25)

    async def _pull(
        self, stream: str, subject: str, durable: str, deliver: DeliverPolicy, ack_wait_s: float
    ) -> Any:
        config = ConsumerConfig(
            durable_name=durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=deliver,
            ack_wait=ack_wait_s,
            filter_subject=subject,
            max_deliver=5,
        )
        return await self.js.pull_subscribe(subject, durable=durable, stream=stream, config=config)


async def _fetch(sub: Any, batch: int) -> list[Msg]:
    try:
        msgs: list[Msg] = await sub.fetch(batch, timeout=1)
        return msgs
    except (FetchTimeoutError, NatsTimeoutError, TimeoutError):
        return []
    except Exception as exc:
        log.warning("fetch failed (%s); retrying", exc)
        await asyncio.sleep(0.5)
        return []


async def _collect(sub: Any, queue: asyncio.Queue[Msg]) -> None:
    async for msg in sub.messages:
        await queue.put(msg)


async def _keep_in_progress(msg: Msg) -> None:
    """Long diarizations tell JetStream they are alive, so the message is not redelivered meanwhile."""
    while True:
        await asyncio.sleep(20)
        with contextlib.suppress(Exception):
            await msg.in_progress()
