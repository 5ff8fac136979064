"""The recorder: the bus into storage. It archives every session's audio (``audio.<session>`` → one
FLAC/WAV per session) and persists every final (``final.<session>`` → segments, idempotently by index).
When a session is both archived and transcribed it announces ``session.ready`` exactly once, and the
post-call work (diarization, agents) starts.

Both consumers are durable: a restart of the recorder, of NATS or of PostgreSQL loses nothing, because
a message is acknowledged only after what it carries is stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable

import asyncpg
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import FetchTimeoutError
from prometheus_client import Counter

from ayka import bus
from ayka.settings import Settings
from persistence.archive import Archive, ArchiveWriter
from persistence.db import TRANSIENT_ERRORS
from persistence.repositories import segments as segments_repo
from persistence.repositories import sessions as sessions_repo

log = logging.getLogger("ayka.recorder")

ARCHIVE_UPLOADS = Counter("ayka_archive_uploads_total", "Finished session archives", ["result"])
FINALS_STORED = Counter("ayka_finals_stored_total", "Final results written to PostgreSQL")

AUDIO_CONSUMER = "recorder-audio"
FINALS_CONSUMER = "recorder-finals"
IDLE_WRITER_S = 300.0


async def retry_transient(action: Callable[[], Awaitable[object]], what: str) -> None:
    """Run ``action`` until it succeeds, waiting out failures that pass (``TRANSIENT_ERRORS``: a
    database restarting, say); any other error is the caller's."""
    delay = 0.2
    while True:
        try:
            await action()
            return
        except TRANSIENT_ERRORS as exc:
            log.warning("storing %s failed (%s); retrying", what, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


class Recorder:
    def __init__(self, settings: Settings, nc: NATS, pool: asyncpg.Pool, archive: Archive) -> None:
        self.settings = settings
        self.nc = nc
        self.js = nc.jetstream()
        self.pool = pool
        self.archive = archive
        self.writers: dict[str, ArchiveWriter] = {}
        self.writer_used: dict[str, float] = {}
        self.touched: dict[str, ArchiveWriter] = {}  # writers the current batch appended to

    async def run(self, stop: asyncio.Event) -> None:
        audio = await self._consumer(bus.AUDIO_STREAM, f"{bus.AUDIO_PREFIX}.*", AUDIO_CONSUMER)
        finals = await self._consumer(bus.TRANSCRIPTS_STREAM, f"{bus.FINAL_PREFIX}.*", FINALS_CONSUMER)
        tasks = [
            asyncio.create_task(self._loop(audio, self._on_audio, stop), name="recorder-audio"),
            asyncio.create_task(self._loop(finals, self._on_final, stop), name="recorder-finals"),
        ]
        try:
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            for writer in self.writers.values():
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(writer.close)

    async def _consumer(self, stream: str, subject: str, durable: str) -> object:
        config = ConsumerConfig(
            durable_name=durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=30,
            max_ack_pending=20000,
            filter_subject=subject,
        )
        return await self.js.pull_subscribe(subject, durable=durable, stream=stream, config=config)

    async def _loop(self, sub: object, handle: object, stop: asyncio.Event) -> None:
        """Fetch in order, store the batch, make it durable, then acknowledge it; on a storage fault, retry
        the same message (nothing is acknowledged that is not stored)."""
        while not stop.is_set():
            try:
                msgs = await sub.fetch(200, timeout=1)  # type: ignore[attr-defined]
            except (FetchTimeoutError, TimeoutError):
                self._close_idle_writers()
                continue
            except Exception as exc:
                log.warning("fetch failed (%s); retrying", exc)
                await asyncio.sleep(0.5)
                continue
            self.touched.clear()
            for msg in msgs:
                await self._store(msg, handle)
            # S3 writers buffer up to a part: make what this batch appended durable before acknowledging.
            for writer in list(self.touched.values()):
                await retry_transient(functools.partial(asyncio.to_thread, writer.checkpoint), "checkpoint")
            for msg in msgs:
                with contextlib.suppress(Exception):
                    await msg.ack()

    async def _store(self, msg: Msg, handle: object) -> None:
        try:
            await retry_transient(lambda: handle(msg), msg.subject)  # type: ignore[operator]
        except asyncpg.ForeignKeyViolationError:
            # The session row is gone (erased) or never existed: nothing to store it under.
            log.info("dropping a message for a session with no row: %s", msg.subject)
        except Exception:
            log.exception("dropping unprocessable message on %s", msg.subject)

    # ------------------------------------------------------------ audio → archive

    def _writer(self, session_id: str) -> ArchiveWriter:
        writer = self.writers.get(session_id)
        if writer is None:
            writer = self.archive.writer(session_id)
            self.writers[session_id] = writer
        self.writer_used[session_id] = time.monotonic()
        return writer

    def _close_idle_writers(self) -> None:
        now = time.monotonic()
        for session_id, used in list(self.writer_used.items()):
            if now - used > IDLE_WRITER_S:
                writer = self.writers.pop(session_id, None)
                self.writer_used.pop(session_id, None)
                if writer is not None:
                    with contextlib.suppress(Exception):
                        writer.close()

    async def _on_audio(self, msg: Msg) -> None:
        headers = msg.headers or {}
        session_id = bus.session_of(msg.subject)
        kind = headers.get(bus.HDR_KIND, bus.FrameKind.AUDIO.value)
        # A Finalize carries the start of the next frame (the frame comes whole later; the writer then adds
        # only the rest): stored now, so that the archive holds whatever the transcript was made from.
        if kind == bus.FrameKind.AUDIO or (kind == bus.FrameKind.FINALIZE and msg.data):
            writer = self._writer(session_id)
            await asyncio.to_thread(writer.append, int(headers.get(bus.HDR_SEQ, "0")), msg.data)
            self.touched[session_id] = writer
        elif kind == bus.FrameKind.CLOSE:
            writer = self._writer(session_id)
            try:
                audio = await asyncio.to_thread(writer.finalize, self.settings.archive_format.value)
            except Exception:
                ARCHIVE_UPLOADS.labels("failure").inc()
                raise
            ARCHIVE_UPLOADS.labels("success").inc()
            # Normally the gateway has marked the end already; a session a worker closed as abandoned has not.
            await sessions_repo.mark_ended(
                self.pool, session_id, last_seq=writer.last_seq, duration_s=audio.duration_s
            )
            self.touched.pop(session_id, None)
            self.writers.pop(session_id, None)
            self.writer_used.pop(session_id, None)
            if await sessions_repo.mark_archived(self.pool, session_id, audio):
                await self._announce_ready(session_id)

    # ------------------------------------------------------------ finals → segments

    async def _on_final(self, msg: Msg) -> None:
        headers = msg.headers or {}
        session_id = bus.session_of(msg.subject)
        if headers.get(bus.HDR_KIND) == bus.FinalKind.FLUSHED:
            if await sessions_repo.mark_transcribed(self.pool, session_id):
                await self._announce_ready(session_id)
            return
        result = bus.TranscriptResult.model_validate_json(msg.data)
        await segments_repo.apply_final(
            self.pool,
            session_id,
            result.index,
            result.start_s,
            result.end_s,
            result.transcript,
            [w.model_dump() for w in result.words],
        )
        FINALS_STORED.inc()

    async def _announce_ready(self, session_id: str) -> None:
        row = await sessions_repo.get_for_worker(self.pool, session_id)
        if row is None:
            return  # deleted meanwhile
        event = bus.SessionEvent(session_id=session_id, owner_id=row.owner_id)
        await self.js.publish(
            bus.event_subject(bus.SESSION_READY, session_id),
            event.model_dump_json().encode(),
            headers={bus.HDR_MSG_ID: f"ready.{session_id}"},
        )
        log.info("session %s ready for post-call work", session_id)


async def run_recorder(
    settings: Settings, nc: NATS, pool: asyncpg.Pool, archive: Archive, stop: asyncio.Event
) -> None:
    await Recorder(settings, nc, pool, archive).run(stop)
