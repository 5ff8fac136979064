"""The ASR worker: claims sessions by KV lease, feeds their audio from JetStream into the shared-model
scheduler, and publishes what the engine says. Knows nothing of Whisper internals.

Ownership: a session waiting for a worker sits in KV ``asr-sessions``; a worker with room claims it with
``create`` on KV ``asr-owners`` (TTL = the lease) and renews with ``update(last=revision)``. When a worker
dies its lease expires and another worker claims the session, reads the resume point from KV
``asr-progress``, replays ``audio.<session>`` from there and carries on: no final lost, none doubled
(finals carry their index; JetStream deduplicates a re-published final by its Nats-Msg-Id).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import logging
import os
import socket
import time
import uuid

import nats.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KV_DEL, KV_PURGE, KeyValue

from ayka import bus
from ayka.connect import Heartbeat
from ayka.settings import Settings
from stream_asr import events as ev
from stream_asr import metrics
from stream_asr.config import ResumePoint
from stream_asr.options import engine_config
from stream_asr.scheduler import CapacityExceeded, Scheduler, SessionHandle, UpdateRecord

log = logging.getLogger("ayka.asr")

SAMPLES_PER_FRAME = 1600
ABANDONED_AFTER_S = 120.0  # no audio and no client attached for this long: the session is over
ABANDON_CHECK_S = 10.0
UPLOAD_UPDATE_S = 6.0  # measured on the sample clip: 3x faster than 1 s steps, WER 0.148 vs 0.160
WATCH_RENEW_S = 60.0
MAX_SESSION_FAILURES = 3  # a session that fails this often on one worker is given up, not retried forever
PROGRESS_EVERY_S = 1.0  # how often the gateway hears the session's lag, in silence as in speech


def _observe(record: UpdateRecord) -> None:
    if record.preview:
        metrics.PREVIEW.inc()
    else:
        metrics.UPDATE.observe(record.duration_s)
    if record.wide:
        metrics.WIDE.inc()


def to_bus_words(words: tuple[ev.Word, ...], speaker: int | None = None) -> list[bus.Word]:
    return [
        bus.Word(
            word=w.text,
            punctuated_word=w.punctuated,
            start_s=w.start_s,
            end_s=w.end_s,
            confidence=w.confidence,
            speaker=speaker,
        )
        for w in words
    ]


class SessionDropped(Exception):
    """The scheduler ended a session's events without its close flush: the session is not over."""


class SessionRunner:
    """One claimed session: audio in, results out, progress recorded."""

    def __init__(self, worker: AsrWorker, start: bus.SessionStart, revision: int) -> None:
        self.worker = worker
        self.nc = worker.nc
        self.js = worker.nc.jetstream()
        self.start = start
        self.session_id = start.session_id
        self.revision = revision
        self.handle: SessionHandle | None = None
        self.task: asyncio.Task[None] | None = None
        self.finals_published = 0
        self.last_seq = -1
        # frame seq -> (JetStream sequence of its first bytes, the frame's first sample in the session),
        # for frames that may still hold a resume point (see _FrameReader).
        self.frames: collections.OrderedDict[int, tuple[int, int]] = collections.OrderedDict()
        self.saved_point: str | None = None  # the resume point last written to KV
        self._saving = asyncio.Lock()  # the emitter and the progress reporter both save
        self.closed = asyncio.Event()
        self.last_message_at = time.monotonic()

    # ------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        progress = await self._read_progress()
        resume = None
        start_stream_seq = 0
        start_frame = _ReplayStart()
        if progress is not None and progress.point:
            resume = ResumePoint.from_json(progress.point)
            start_stream_seq = progress.resume_stream_seq
            start_frame = _ReplayStart(
                progress.resume_seq, progress.frame_start_sample(), resume.sample_offset
            )
            self.finals_published = progress.finals
            self.saved_point = progress.point
            log.info(
                "session %s resumed at frame %d (%d finals)",
                self.session_id,
                progress.resume_seq,
                progress.finals,
            )
        config = engine_config(self.start.options, self.worker.settings)
        if self.start.source == "upload":
            # All the audio is already there: longer steps are faster and, with more context, as accurate.
            config = dataclasses.replace(config, update_s=max(config.update_s, UPLOAD_UPDATE_S))
        self.handle = self.worker.scheduler.open(self.session_id, config, resume=resume)
        emitter = asyncio.create_task(self._emit(), name=f"emit-{self.session_id}")
        feeder = asyncio.create_task(
            self._feed(start_stream_seq, start_frame), name=f"feed-{self.session_id}"
        )
        watchdog = asyncio.create_task(self._watch_abandonment(), name=f"watch-{self.session_id}")
        reporter = asyncio.create_task(self._report_progress(), name=f"progress-{self.session_id}")
        try:
            # The emitter ends after the close flush; it fails when the model call for this session failed
            # (DecodeFailed), and then the session must not wait on for audio: the error ends the run, and
            # the worker hands the session on (AsrWorker._run_session).
            await asyncio.wait((emitter, feeder), return_when=asyncio.FIRST_EXCEPTION)
            for task in (feeder, emitter):
                if task.done():
                    task.result()  # raises what failed
            await emitter
        finally:
            for task in (emitter, feeder, watchdog, reporter):
                task.cancel()
            self.worker.scheduler.discard(self.session_id)

    async def _feed(self, start_stream_seq: int, start: _ReplayStart) -> None:
        """Audio frames (and markers) from JetStream into the engine, in order."""
        assert self.handle is not None
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE if start_stream_seq else DeliverPolicy.ALL,
            opt_start_seq=start_stream_seq or None,
        )
        queue: asyncio.Queue[Msg] = asyncio.Queue()

        async def on_msg(msg: Msg) -> None:
            await queue.put(msg)

        sub = await self.js.subscribe(
            bus.audio_subject(self.session_id), cb=on_msg, ordered_consumer=True, config=config
        )
        reader = _FrameReader(start, self.frames)
        try:
            while True:
                msg = await queue.get()
                self.last_message_at = time.monotonic()
                headers = msg.headers or {}
                kind = headers.get(bus.HDR_KIND, bus.FrameKind.AUDIO.value)
                seq = int(headers.get(bus.HDR_SEQ, "-1"))
                # Before the resume point, or a frame resent after the bus forgot its id: nothing new.
                new = seq >= start.seq and seq > self.last_seq
                if kind == bus.FrameKind.AUDIO:
                    if new:
                        self._push(reader.take(seq, msg.data, msg.metadata.sequence.stream, whole=True))
                        self.last_seq = seq
                elif kind == bus.FrameKind.FINALIZE:
                    if new and msg.data:  # the start of frame seq (AudioIngest.finalize)
                        self._push(reader.take(seq, msg.data, msg.metadata.sequence.stream, whole=False))
                    if seq >= start.seq:  # (the engine also drops a Finalize it already made final)
                        # Where the client asked: on a replay from a point inside the frame this marker
                        # cut, the engine has audio past it, and would take the Finalize for a new one.
                        self.handle.finalize(at_sample=reader.next_sample)
                elif kind == bus.FrameKind.CLOSE:
                    self.handle.close()
                    return
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    def _push(self, pcm: bytes) -> None:
        if pcm and self.handle is not None:
            self.handle.push(pcm)

    async def _watch_abandonment(self) -> None:
        """A session whose gateway died and whose client never came back would hold this worker forever:
        after ABANDONED_AFTER_S with no audio and no client attached, end it as the gateway would have
        (the CLOSE marker has the same Nats-Msg-Id, so a late gateway's own CLOSE is deduplicated)."""
        if self.start.source != "live":
            return
        assert self.handle is not None
        while not self.handle.finished:  # (not only the cancel: it can be lost, see SessionDropped)
            await asyncio.sleep(ABANDON_CHECK_S)
            idle_s = time.monotonic() - self.last_message_at
            if idle_s < ABANDONED_AFTER_S or await self._client_attached():
                continue
            log.warning(
                "session %s abandoned (no audio and no client for %.0f s): closing", self.session_id, idle_s
            )
            await self._js_publish(
                bus.audio_subject(self.session_id),
                b"",
                {
                    bus.HDR_MSG_ID: f"{self.session_id}.close",
                    bus.HDR_SEQ: str(self.last_seq + 1),
                    bus.HDR_KIND: bus.FrameKind.CLOSE.value,
                },
            )
            return

    async def _client_attached(self) -> bool:
        found = await bus.read_attachment(self.js, self.session_id)
        if found is None:
            return False
        attachment = found[0]
        if attachment.detached_at is not None:
            return time.time() - attachment.detached_at < ABANDONED_AFTER_S
        return time.time() - max(attachment.seen_at, attachment.attached_at) < ABANDONED_AFTER_S

    @property
    def lag_s(self) -> float | None:
        return round(self.handle.lag_s, 3) if self.handle is not None else None

    async def _report_progress(self) -> None:
        """The session's lag, every PROGRESS_EVERY_S: results carry it too, but silence has none, and the
        gateway must tell a worker that keeps up in silence from one that fell behind."""
        assert self.handle is not None
        while not self.handle.finished:
            await asyncio.sleep(PROGRESS_EVERY_S)
            # Silence makes resume points too (the engine cuts its buffer), and no final is published
            # to record them: a replay from an old point would outlive the bus's deduplication window.
            await self._save_progress()
            position = round(self.handle.processed_s, 3)
            report = bus.TranscriptResult(
                session_id=self.session_id,
                is_final=False,
                index=self.finals_published,
                start_s=position,
                end_s=position,
                transcript="",
                last_seq=self.last_seq,
                lag_s=self.lag_s,
            )
            await self._publish_live(bus.LiveKind.PROGRESS, report.model_dump_json())

    async def _emit(self) -> None:
        """Engine events onto the bus."""
        assert self.handle is not None
        sid = self.session_id
        async for event in self.handle.events():
            if isinstance(event, ev.Interim):
                if not event.words:
                    continue
                result = bus.TranscriptResult(
                    session_id=sid,
                    is_final=False,
                    index=self.finals_published,
                    start_s=event.words[0].start_s,
                    end_s=event.words[-1].end_s,
                    transcript=event.transcript,
                    words=to_bus_words(event.words),
                    last_seq=self.last_seq,
                    lag_s=self.lag_s,
                )
                await self._publish_live(bus.LiveKind.INTERIM, result.model_dump_json())
            elif isinstance(event, ev.SegmentFinal):
                await self._publish_final(event)
            elif isinstance(event, ev.SpeechStarted):
                msg = bus.SpeechStarted(session_id=sid, timestamp_s=event.timestamp_s)
                await self._publish_live(bus.LiveKind.SPEECH_STARTED, msg.model_dump_json())
            elif isinstance(event, ev.UtteranceEnd):
                msg2 = bus.UtteranceEnd(session_id=sid, last_word_end_s=event.last_word_end_s)
                await self._publish_live(bus.LiveKind.UTTERANCE_END, msg2.model_dump_json())
        if not self.handle.engine.done:
            # The events also end when the scheduler drops the session unflushed: this worker is stopping
            # or lost the lease, and cancelled this task, but Python 3.11's wait_for (inside nats-py's
            # publish) can swallow a cancel that lands as its publish completes. Marking the session
            # flushed here would end it for the gateway and delete it from KV, so another worker never
            # resumed it and the rest of its audio was never transcribed.
            raise SessionDropped(f"session {sid} was dropped before its close flush")
        await self._flushed()

    async def _publish_live(self, kind: bus.LiveKind, payload: str) -> None:
        with contextlib.suppress(Exception):  # interim results may be lost; the next one replaces them
            await self.nc.publish(
                bus.transcript_subject(self.session_id), payload.encode(), headers={bus.HDR_KIND: kind.value}
            )

    async def _publish_final(self, event: ev.SegmentFinal) -> None:
        result = bus.TranscriptResult(
            session_id=self.session_id,
            is_final=True,
            speech_final=event.speech_final,
            from_finalize=event.from_finalize,
            index=event.index,
            start_s=event.start_s,
            end_s=event.end_s,
            transcript=event.transcript,
            words=to_bus_words(event.words),
            last_seq=self.last_seq,
            lag_s=self.lag_s,
        )
        await self._js_publish(
            bus.final_subject(self.session_id),
            result.model_dump_json().encode(),
            {
                bus.HDR_MSG_ID: bus.final_msg_id(self.session_id, event.index),
                bus.HDR_KIND: bus.FinalKind.RESULT.value,
            },
        )
        self.finals_published = max(self.finals_published, event.index + 1)
        await self._save_progress()

    async def _js_publish(self, subject: str, payload: bytes, headers: dict[str, str]) -> None:
        """Durable publish: retry through a NATS outage rather than lose a final."""
        delay = 0.1
        while True:
            try:
                await self.js.publish(subject, payload, headers=headers, timeout=5)
                return
            except Exception as exc:
                log.warning("publish to %s failed (%s); retrying", subject, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def _flushed(self) -> None:
        flushed = bus.SessionFlushed(
            session_id=self.session_id, last_seq=self.last_seq, finals=self.finals_published
        )
        await self._js_publish(
            bus.final_subject(self.session_id),
            flushed.model_dump_json().encode(),
            {bus.HDR_MSG_ID: f"{self.session_id}.flushed", bus.HDR_KIND: bus.FinalKind.FLUSHED.value},
        )
        self.closed.set()
        await self.worker.release(self.session_id, done=True)

    # ------------------------------------------------------------ progress

    async def _read_progress(self) -> _StoredProgress | None:
        kv = await self.js.key_value(bus.KV_ASR_PROGRESS)
        try:
            entry = await kv.get(self.session_id)
        except KeyNotFoundError:
            return None
        return _StoredProgress.model_validate_json(entry.value) if entry.value else None

    async def _save_progress(self) -> None:
        async with self._saving:  # one at a time, so that an older point never lands after a newer one
            await self._save_progress_now()

    async def _save_progress_now(self) -> None:
        assert self.handle is not None
        point = self.handle.resume_point()
        if point.finals_emitted > self.finals_published:
            # The engine is ahead of what is on the bus: finals before this point are not all published yet.
            # (A point behind is safe: the finals a replay re-emits are deduplicated by their Nats-Msg-Id.)
            return
        text = point.to_json()
        if text == self.saved_point:
            return
        # The frame that holds the point's first sample: the last one that starts at or before it.
        held = [seq for seq, (_, first) in self.frames.items() if first <= point.sample_offset]
        if not held:
            return
        seq = held[-1]
        stream_seq, frame_sample = self.frames[seq]
        for old in held[:-1]:
            del self.frames[old]
        progress = _StoredProgress(
            resume_seq=seq,
            finals=point.finals_emitted,
            committed_until_s=point.sample_offset / 16000,
            resume_stream_seq=stream_seq,
            resume_frame_sample=frame_sample,
            point=text,
        )
        kv = await self.js.key_value(bus.KV_ASR_PROGRESS)
        with contextlib.suppress(Exception):
            await kv.put(self.session_id, progress.model_dump_json().encode())
            self.saved_point = text


class _StoredProgress(bus.Progress):
    resume_stream_seq: int = 0  # JetStream sequence of frame ``resume_seq``: where the replay starts
    resume_frame_sample: int | None = None  # the session sample where frame ``resume_seq`` starts
    point: str = ""  # the engine's ResumePoint, as JSON

    def frame_start_sample(self) -> int:
        # (Progress written before frames were counted: every frame was a whole 100 ms then.)
        if self.resume_frame_sample is None:
            return self.resume_seq * SAMPLES_PER_FRAME
        return self.resume_frame_sample


class _FrameReader:
    """Places a session's frames on its audio clock and hands the engine each sample once.

    Frames are 100 ms, except the last one of a stream (closed mid-frame) and, in audio published before
    a Finalize carried the frame's start instead, the one a Finalize cut short; so a frame starts where
    the one before it ended, and samples are counted, never derived from a seq. A Finalize carries the
    start of the next frame, which arrives whole later: of it, only the bytes past that start are new."""

    def __init__(self, start: _ReplayStart, frames: collections.OrderedDict[int, tuple[int, int]]) -> None:
        self.start = start
        self.frames = frames  # shared with the session: seq -> (JetStream sequence, first sample)
        self.next_sample = start.frame_sample  # where the next frame starts in the session
        # A frame known so far only by its start (a Finalize's): seq, its first sample, bytes of it taken.
        self.open: tuple[int, int, int] | None = None

    def take(self, seq: int, pcm: bytes, stream_seq: int, whole: bool) -> bytes:
        """The samples of frame ``seq`` (whole, or its start from a Finalize) that are new to the engine."""
        if self.open is not None and self.open[0] == seq:
            _, frame_sample, had = self.open
        else:  # a new frame (a Finalize's start that no whole frame followed stands as the frame before it)
            frame_sample, had = self.next_sample, 0
            self.frames[seq] = (stream_seq, frame_sample)
            while len(self.frames) > 600:  # 60 s: resume points are never older
                self.frames.popitem(last=False)
        size = max(had, len(pcm))
        self.open = None if whole else (seq, frame_sample, size)
        self.next_sample = frame_sample + size // 2
        fresh, first = pcm[had:], frame_sample + had // 2  # first: the session sample of fresh[0]
        if first < self.start.skip_to:  # the frame that holds the resume point
            fresh = fresh[(self.start.skip_to - first) * 2 :]
        return fresh


@dataclasses.dataclass(frozen=True, slots=True)
class _ReplayStart:
    """Where a session's audio is read from: frame ``seq``, which starts at session sample
    ``frame_sample``; the engine takes samples from ``skip_to`` on (the resume point's buffer start)."""

    seq: int = 0
    frame_sample: int = 0
    skip_to: int = 0


class AsrWorker:
    def __init__(
        self, settings: Settings, nc: NATS, scheduler: Scheduler, worker_id: str | None = None
    ) -> None:
        self.settings = settings
        self.nc = nc
        self.js = nc.jetstream()
        self.scheduler = scheduler
        self.worker_id = worker_id or f"asr-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.runners: dict[str, SessionRunner] = {}
        self.capacity = scheduler.capacity  # set, or calibrated when the model loaded
        self.heartbeat = Heartbeat(
            nc,
            bus.WorkerInfo(
                kind=bus.WorkerKind.ASR,
                worker_id=self.worker_id,
                pid=os.getpid(),
                host=socket.gethostname(),
                capacity=self.capacity,
                model=settings.asr_model,
                device=settings.asr_device,
            ),
        )
        self._claiming: set[str] = set()
        # Set when run() ends. Its loops check it as well as being cancelled: Python 3.11's wait_for can
        # swallow a cancel (see SessionDropped), and a loop that lived on would renew the leases of the
        # sessions this worker no longer serves, or claim new ones.
        self.stopped = False
        self._owners: KeyValue | None = None
        self._failures: collections.Counter[str] = collections.Counter()
        self._waiting: dict[str, bytes] = {}  # KV asr-sessions, mirrored by a watcher: sessions to serve
        self._next_try: dict[str, float] = {}  # when to try again to claim a session someone else holds
        scheduler.on_update = _observe

    async def run(self, stop: asyncio.Event) -> None:
        self._owners = await self.js.key_value(bus.KV_ASR_OWNERS)
        sessions_kv = await self.js.key_value(bus.KV_ASR_SESSIONS)
        self.heartbeat.start()
        tasks = [
            asyncio.create_task(self._renew_leases(), name="asr-leases"),
            asyncio.create_task(self._watch(sessions_kv), name="asr-watch"),
            asyncio.create_task(self._scan(stop), name="asr-scan"),
        ]
        log.info("ASR worker %s ready (capacity %d)", self.worker_id, self.capacity)
        try:
            await stop.wait()
        finally:
            self.stopped = True
            for task in tasks:
                task.cancel()
            for runner in list(self.runners.values()):
                if runner.task:
                    runner.task.cancel()
            # Leases are left to expire: another worker resumes these sessions.
            await self.heartbeat.stop()

    async def _watch(self, sessions_kv: KeyValue) -> None:
        """Mirror KV asr-sessions into ``_waiting`` with one long-lived watcher. (Listing the keys on every
        scan made an ephemeral consumer each time; they outlive their use by minutes and, at 20 scans a
        second, hit the server's consumer limit: the worker then claimed nothing.) The watcher is renewed
        every WATCH_RENEW_S, so a subscription that silently broke is replaced."""
        while not self.stopped:
            try:
                watcher = await sessions_kv.watchall()
            except Exception as exc:
                log.warning("watching %s failed (%s); retrying", bus.KV_ASR_SESSIONS, exc)
                await asyncio.sleep(1.0)
                continue
            renew_at = time.monotonic() + WATCH_RENEW_S
            seen: set[str] = set()
            snapshot = True
            try:
                while time.monotonic() < renew_at and not self.stopped:
                    try:
                        entry = await watcher.updates(timeout=1.0)  # type: ignore[no-untyped-call]
                    except nats.errors.TimeoutError:
                        continue
                    if entry is None:  # end of the initial snapshot: forget what is no longer there
                        if snapshot:
                            for gone in set(self._waiting) - seen:
                                self._forget(gone)
                            snapshot = False
                        continue
                    if entry.operation in (KV_DEL, KV_PURGE) or not entry.value:
                        self._forget(entry.key)
                    else:
                        seen.add(entry.key)
                        self._waiting[entry.key] = entry.value
            finally:
                with contextlib.suppress(Exception):
                    await watcher.stop()  # type: ignore[no-untyped-call]

    def _forget(self, session_id: str) -> None:
        self._waiting.pop(session_id, None)
        self._next_try.pop(session_id, None)

    async def _scan(self, stop: asyncio.Event) -> None:
        """Claim waiting sessions (new ones at once; ones someone holds again every quarter lease, so a
        dead owner's session is taken soon after its lease expires)."""
        retry_s = self.settings.asr_lease_ttl_s / 4
        while not stop.is_set() and not self.stopped:
            now = time.monotonic()
            for session_id, value in list(self._waiting.items()):
                if session_id in self.runners or session_id in self._claiming:
                    continue
                if len(self.runners) >= self.capacity:
                    break
                if self._next_try.get(session_id, 0.0) > now:
                    continue
                self._next_try[session_id] = now + retry_s
                try:
                    await self._try_claim(bus.SessionStart.model_validate_json(value))
                except Exception as exc:
                    log.warning("claiming %s failed: %s", session_id, exc)
            self._publish_state()
            await asyncio.sleep(0.05 if len(self.runners) < self.capacity else 0.25)

    async def _try_claim(self, start: bus.SessionStart) -> None:
        assert self._owners is not None
        session_id = start.session_id
        self._claiming.add(session_id)
        try:
            try:
                revision = await self._owners.create(session_id, self.worker_id.encode())
            except KeyWrongLastSequenceError:
                return  # someone else owns it
            except Exception as exc:
                if "wrong last sequence" in str(exc).lower() or "key exists" in str(exc).lower():
                    return
                raise
            wanted = await self._still_wanted(session_id)
            if self.stopped or not wanted:
                # The session ended between our scan and our claim, or this worker stopped meanwhile (the
                # claim outlived a lost cancel, and nothing would renew its lease): let go at once.
                with contextlib.suppress(Exception):
                    await self._owners.delete(session_id)
                return
            runner = SessionRunner(self, start, revision)
            # The scheduler admits (or refuses) the session inside the runner: see _run_session.
            runner.task = asyncio.create_task(self._run_session(runner), name=f"session-{session_id}")
            self.runners[session_id] = runner
            metrics.ACTIVE.set(len(self.runners))
        finally:
            self._claiming.discard(session_id)

    async def _still_wanted(self, session_id: str) -> bool:
        sessions_kv = await self.js.key_value(bus.KV_ASR_SESSIONS)
        try:
            entry = await sessions_kv.get(session_id)
        except KeyNotFoundError:
            return False
        return bool(entry.value)

    async def _run_session(self, runner: SessionRunner) -> None:
        try:
            await runner.run()
        except asyncio.CancelledError:
            raise
        except SessionDropped as exc:
            log.warning("%s; handing it on", exc)
            await self.release(runner.session_id, done=False)  # a claim resumes it from its resume point
        except CapacityExceeded as exc:
            metrics.REFUSED.inc()
            log.warning("session %s refused: %s", runner.session_id, exc)
            await self.release(runner.session_id, done=False)
        except Exception as exc:
            log.exception("session %s failed", runner.session_id)
            self._failures[runner.session_id] += 1
            if self._failures[runner.session_id] < MAX_SESSION_FAILURES:
                await self.release(runner.session_id, done=False)  # another claim resumes it
            else:
                await self._give_up(runner, exc)

    async def _give_up(self, runner: SessionRunner, exc: Exception) -> None:
        """A session that fails again on every resume would be re-claimed forever: tell its client, end
        its transcript (so the gateway and the recorder can finish it) and stop offering it."""
        sid = runner.session_id
        log.error("session %s failed %d times; giving up on it", sid, self._failures.pop(sid, 0))
        notice = bus.Notice(
            type="Error", session_id=sid, code="asr_failed", message=f"transcription failed: {exc}"[:200]
        )
        with contextlib.suppress(Exception):
            await self.nc.publish(bus.control_subject(sid), notice.model_dump_json().encode())
        flushed = bus.SessionFlushed(session_id=sid, last_seq=runner.last_seq, finals=runner.finals_published)
        with contextlib.suppress(Exception):
            await self.js.publish(
                bus.final_subject(sid),
                flushed.model_dump_json().encode(),
                headers={bus.HDR_MSG_ID: f"{sid}.flushed", bus.HDR_KIND: bus.FinalKind.FLUSHED.value},
            )
        await self.release(sid, done=True)

    async def release(self, session_id: str, *, done: bool) -> None:
        """Let go of a session; ``done`` = it is finished (remove it from every KV bucket)."""
        self.runners.pop(session_id, None)
        metrics.ACTIVE.set(len(self.runners))
        if done:
            self._failures.pop(session_id, None)
            for bucket in (bus.KV_ASR_SESSIONS, bus.KV_ASR_PROGRESS):
                with contextlib.suppress(Exception):
                    kv = await self.js.key_value(bucket)
                    await kv.delete(session_id)
        if self._owners is not None:
            with contextlib.suppress(Exception):
                await self._owners.delete(session_id)
        self._publish_state()

    async def _renew_leases(self) -> None:
        assert self._owners is not None
        interval = self.settings.asr_lease_ttl_s / 3
        while True:
            await asyncio.sleep(interval)
            if self.stopped:
                return
            for session_id, runner in list(self.runners.items()):
                try:
                    runner.revision = await self._owners.update(
                        session_id, self.worker_id.encode(), last=runner.revision
                    )
                except KeyWrongLastSequenceError:
                    log.warning("lost the lease of %s; dropping it", session_id)
                    if runner.task:
                        runner.task.cancel()
                    self.runners.pop(session_id, None)
                except Exception as exc:  # NATS down: keep serving, try again
                    log.debug("lease renewal of %s failed: %s", session_id, exc)
            self._observe()

    def _observe(self) -> None:
        lags = [r.handle.received_s - r.handle.processed_s for r in self.runners.values() if r.handle]
        metrics.LAG.set(max(lags, default=0.0))
        stats = self.scheduler.stats()
        metrics.RTF.set(stats.real_time_factor)
        metrics.FLOOR.set(stats.update_floor_s)

    def _publish_state(self) -> None:
        self.heartbeat.info.sessions = sorted(self.runners)


async def run_asr_worker(
    settings: Settings, nc: NATS, stop: asyncio.Event, scheduler: Scheduler | None = None
) -> None:
    """Load the model once, then serve sessions until ``stop`` is set."""
    if scheduler is None:
        from stream_asr.scheduler import build_scheduler

        started = time.monotonic()
        scheduler = await asyncio.to_thread(build_scheduler, settings)
        log.info("model %s loaded in %.1f s", settings.asr_model, time.monotonic() - started)
    worker = AsrWorker(settings, nc, scheduler)
    await worker.run(stop)
