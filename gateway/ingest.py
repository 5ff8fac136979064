"""Audio into the bus: one session's lifecycle messages and its 100 ms frames, numbered and deduplicated.

Used by live streams (WebSocket, WebRTC) and by uploaded recordings alike, so both take the same path
through the ASR workers, the recorder, diarization and the agents.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid

import nats.errors
from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError

from ayka import bus
from ayka.connect import list_workers
from gateway.audio import FRAME_BYTES, Framer

log = logging.getLogger("ayka.ingest")

PUBLISH_RETRY_S = 10.0  # how long a publish retries through a bus outage before the stream fails
# Bus failures that pass: no JetStream answer yet (leader election, restart), reconnecting, buffer full.
_PASSING = (
    TimeoutError,
    nats.errors.NoRespondersError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.StaleConnectionError,
    nats.errors.OutboundBufferLimitError,
)


class NoCapacity(Exception):
    """No ASR worker took the session in time."""


class AudioIngest:
    """Publishes one session's audio. ``next_seq`` is the sequence number the next frame gets."""

    def __init__(self, js: JetStreamContext, start: bus.SessionStart, next_seq: int = 0) -> None:
        self.js = js
        self.start_msg = start
        self.session_id = start.session_id
        self.next_seq = next_seq
        self.framer = Framer()
        self.closed = False
        self.published_bytes = next_seq * FRAME_BYTES
        # The start of frame ``next_seq`` that a Finalize has published already (see ``finalize``).
        self.provisional_bytes = 0

    @property
    def duration_s(self) -> float:
        return (self.published_bytes + self.provisional_bytes) / 2 / 16000

    async def announce(self) -> None:
        """session.start on the bus and a request for a worker (KV asr-sessions)."""
        payload = self.start_msg.model_dump_json().encode()
        await self.js.publish(
            bus.event_subject(bus.SESSION_START, self.session_id),
            payload,
            headers={bus.HDR_MSG_ID: f"start.{self.session_id}"},
        )
        kv = await self.js.key_value(bus.KV_ASR_SESSIONS)
        await kv.put(self.session_id, payload)

    async def wait_for_worker(self, timeout_s: float, full_after_s: float = 1.0) -> str:
        """The id of the ASR worker that claimed the session. NoCapacity when every ASR worker is at capacity
        (checked after ``full_after_s``), or when none took it within ``timeout_s``."""
        owners = await self.js.key_value(bus.KV_ASR_OWNERS)
        started = time.monotonic()
        checked = False
        while time.monotonic() - started < timeout_s:
            with contextlib.suppress(KeyNotFoundError):
                entry = await owners.get(self.session_id)
                if entry.value:
                    return entry.value.decode()
            if not checked and time.monotonic() - started >= full_after_s:
                checked = True
                asr = [w for w in await list_workers(self.js) if w.kind is bus.WorkerKind.ASR]
                if not asr:
                    raise NoCapacity("no ASR worker is running")
                if all(len(w.sessions) >= w.capacity for w in asr):
                    total = sum(w.capacity for w in asr)
                    raise NoCapacity(f"all {len(asr)} ASR workers are at capacity ({total} sessions)")
            await asyncio.sleep(0.02)
        raise NoCapacity(f"no ASR worker took the session within {timeout_s:.0f} s")

    async def withdraw(self) -> None:
        """The session will not run after all (no capacity): take back the worker request."""
        kv = await self.js.key_value(bus.KV_ASR_SESSIONS)
        with contextlib.suppress(Exception):
            await kv.delete(self.session_id)

    async def _publish(self, seq: int, kind: bus.FrameKind, payload: bytes, msg_id: str = "") -> None:
        """Publish with its id (a repeat is deduplicated), retrying through a short bus outage (a server
        restarting, a leader election): the frame has left the Framer, so giving up loses it."""
        deadline = time.monotonic() + PUBLISH_RETRY_S
        delay = 0.05
        while True:
            try:
                await self._publish_once(seq, kind, payload, msg_id)
                return
            except _PASSING as exc:
                if time.monotonic() + delay > deadline:
                    raise
                log.warning("publishing frame %d of %s failed (%s); retrying", seq, self.session_id, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def _publish_once(self, seq: int, kind: bus.FrameKind, payload: bytes, msg_id: str) -> None:
        await self.js.publish(
            bus.audio_subject(self.session_id),
            payload,
            headers={
                bus.HDR_MSG_ID: msg_id or bus.audio_msg_id(self.session_id, seq),
                bus.HDR_SEQ: str(seq),
                bus.HDR_KIND: kind.value,
            },
        )

    async def push_pcm(self, pcm: bytes) -> int:
        """Publish the whole 100 ms frames in ``pcm`` (16 kHz mono PCM16); returns how many."""
        frames = self.framer.push(pcm)
        for frame in frames:
            await self._publish(self.next_seq, bus.FrameKind.AUDIO, frame)
            self.next_seq += 1
            self.published_bytes += len(frame)
            self.provisional_bytes = 0
        return len(frames)

    async def push_frame(self, seq: int, frame: bytes) -> None:
        """Publish one already-numbered frame (a resend after resume is deduplicated by the bus)."""
        await self._publish(seq, bus.FrameKind.AUDIO, frame)
        if seq >= self.next_seq:
            self.published_bytes += len(frame) + (seq - self.next_seq) * FRAME_BYTES
            self.next_seq = seq + 1
            self.provisional_bytes = 0

    async def _flush_partial(self) -> None:
        for frame in self.framer.flush():
            await self._publish(self.next_seq, bus.FrameKind.AUDIO, frame)
            self.next_seq += 1
            self.published_bytes += len(frame)
            self.provisional_bytes = 0

    async def finalize(self) -> None:
        """Flush now. The marker carries the position (the next frame's seq; markers take no number of
        their own, clients count only audio frames when they resume) and the start of that frame, the
        audio held so far: the frame itself is still published whole when the rest of it arrives, so
        the bus numbers frames as the client does (100 ms each) and a client that resumes at a frame
        number after a Finalize resends exactly what the bus lacks. Readers take from a frame the bytes
        beyond what a Finalize gave them of it (``bus.FrameKind.FINALIZE``)."""
        held = self.framer.held
        # Unique: a counter restarts on another gateway after a resume, and a Finalize at the same frame
        # would be taken for a repeat (its flush lost). Retries of this publish keep the id.
        marker_id = f"{self.session_id}.finalize.{self.next_seq}.{uuid.uuid4().hex[:16]}"
        await self._publish(self.next_seq, bus.FrameKind.FINALIZE, held, msg_id=marker_id)
        self.provisional_bytes = max(self.provisional_bytes, len(held))

    async def close(self, reason: str = "closed") -> None:
        """End of the session: flush, CLOSE marker, session.end."""
        if self.closed:
            return
        self.closed = True
        await self._flush_partial()
        last_seq = self.next_seq - 1
        await self._publish(self.next_seq, bus.FrameKind.CLOSE, b"", msg_id=f"{self.session_id}.close")
        end = bus.SessionEnd(
            session_id=self.session_id,
            owner_id=self.start_msg.owner_id,
            last_seq=last_seq,
            duration_s=self.duration_s,
            reason=reason,
        )
        await self.js.publish(
            bus.event_subject(bus.SESSION_END, self.session_id),
            end.model_dump_json().encode(),
            headers={bus.HDR_MSG_ID: f"end.{self.session_id}"},
        )
