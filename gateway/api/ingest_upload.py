"""An uploaded recording takes the live path: decoded to 16 kHz PCM16, published frame by frame on
``audio.<session>`` by the lead's ``AudioIngest``, so the same ASR workers, archiver, diarization and
agents handle it. The session's ``status`` shows progress (``processing`` → ``completed``/``failed``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from ayka import bus
from gateway.audio import TARGET_RATE as SAMPLE_RATE_HZ
from gateway.audio import DecodeError, decode_file
from gateway.ingest import AudioIngest, NoCapacity
from persistence.repositories import sessions

if TYPE_CHECKING:
    from gateway.state import GatewayState

log = logging.getLogger("ayka.gateway.recordings")

WORKER_WAIT_S = 120.0
PUSH_CHUNK_BYTES = SAMPLE_RATE_HZ * 2 * 10  # 10 s of PCM per read
_running: set[asyncio.Task[None]] = set()


class TooLong(DecodeError):
    """The recording is longer than ``AYKA_MAX_SESSION_S``."""


def _decode_to_pcm(path: Path, limit_s: float) -> tuple[Path, float]:
    """The whole file → 16 kHz mono PCM16 next to it, before anything reaches the bus: a damaged, empty
    or too long file fails here and leaves no half-published session behind."""
    pcm_path = path.with_suffix(".pcm")
    total = 0
    try:
        with pcm_path.open("wb") as out:
            for chunk in decode_file(path):
                out.write(chunk)
                total += len(chunk)
                if total / 2 / SAMPLE_RATE_HZ > limit_s:
                    raise TooLong(
                        f"the recording is longer than the limit of {limit_s:.0f} s (AYKA_MAX_SESSION_S)"
                    )
        if total == 0:
            raise DecodeError("the file holds no audio")
    except BaseException:
        pcm_path.unlink(missing_ok=True)
        raise
    return pcm_path, total / 2 / SAMPLE_RATE_HZ


def _read_chunk(handle: BinaryIO) -> bytes:
    return handle.read(PUSH_CHUNK_BYTES)


async def ingest_file(state: GatewayState, start: bus.SessionStart, path: Path) -> None:
    """Decode ``path`` and publish it as session ``start.session_id``; removes ``path`` when done."""
    session_id = start.session_id
    pcm_path: Path | None = None
    try:
        decoded, _duration_s = await asyncio.to_thread(_decode_to_pcm, path, state.settings.max_session_s)
        pcm_path = decoded
        ingest = AudioIngest(state.js, start)
        await ingest.announce()
        try:
            worker = await ingest.wait_for_worker(WORKER_WAIT_S)
        except NoCapacity:
            await ingest.withdraw()
            raise
        await sessions.update_state(state.pool, session_id, worker_id=worker)
        with decoded.open("rb") as handle:
            while chunk := await asyncio.to_thread(_read_chunk, handle):
                await ingest.push_pcm(chunk)
        await ingest.close(reason="upload complete")
        await sessions.mark_ended(
            state.pool, session_id, last_seq=ingest.next_seq - 1, duration_s=ingest.duration_s
        )
        event = bus.SessionEvent(
            session_id=session_id, owner_id=start.owner_id, data={"duration_s": ingest.duration_s}
        )
        await state.js.publish(
            bus.event_subject(bus.RECORDING_UPLOADED, session_id), event.model_dump_json().encode()
        )
    except (DecodeError, NoCapacity) as exc:
        log.info("recording %s failed: %s", session_id, exc)
        await sessions.update_state(
            state.pool, session_id, status=sessions.SessionStatus.FAILED, error=str(exc)[:500]
        )
    except Exception as exc:
        log.exception("recording %s failed", session_id)
        with contextlib.suppress(Exception):
            await sessions.update_state(
                state.pool,
                session_id,
                status=sessions.SessionStatus.FAILED,
                error=f"ingest failed: {exc!r}"[:500],
            )
    finally:
        await asyncio.to_thread(path.unlink, True)
        if pcm_path is not None:
            await asyncio.to_thread(pcm_path.unlink, True)


def start_ingest(state: GatewayState, start: bus.SessionStart, path: Path) -> asyncio.Task[None]:
    """Run ``ingest_file`` in the background (kept referenced until it ends)."""
    task = asyncio.create_task(ingest_file(state, start, path), name=f"ingest-{start.session_id}")
    _running.add(task)
    task.add_done_callback(_running.discard)
    return task


async def wait_for_ingests(timeout_s: float = 60.0) -> None:
    """Tests and shutdown: wait for running uploads to finish publishing."""
    if _running:
        await asyncio.wait(set(_running), timeout=timeout_s)


def upload_start(owner_id: str, session_id: str, language: str, diarize: bool) -> bus.SessionStart:
    return bus.SessionStart(
        session_id=session_id,
        owner_id=owner_id,
        options=bus.StreamOptions(language=language, diarize=diarize, interim_results=False),
        source="upload",
        started_at=time.time(),
    )
