"""One live session as seen by the gateway: audio from the client onto the bus, results from the bus
back to the client. Transport-neutral: the WebSocket route and the WebRTC peer both drive a LiveStream.

A client that drops keeps its session for ``RESUME_GRACE_S``; a reconnect with ``session_id`` (to this
gateway or any other) attaches to it and the session goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from ayka import bus
from gateway.audio import FRAME_BYTES, AudioDecoder, ContainerDecoder, DecodeError, Framer, make_decoder
from gateway.ingest import AudioIngest, NoCapacity
from gateway.listen import protocol
from gateway.listen.lag import LagMeter, LagVerdict
from gateway.listen.protocol import CloseCode, Control, ListenParams, ProtocolError
from persistence.repositories import sessions as sessions_repo

if TYPE_CHECKING:
    from gateway.state import GatewayState

log = logging.getLogger("ayka.listen")

RESUME_GRACE_S = 60.0
ATTACHMENT_REFRESH_S = 10.0
FLUSH_TIMEOUT_S = 60.0
WORKER_CLAIM_TIMEOUT_S = 8.0
GATEWAY_ID = f"{socket.gethostname()}-{os.getpid()}"

Send = Callable[[dict[str, Any]], Awaitable[None]]


class StreamState(enum.Enum):
    OPENING = "opening"
    STREAMING = "streaming"
    DETACHED = "detached"  # the client is gone; waiting for a resume
    CLOSING = "closing"  # CloseStream received: flushing
    CLOSED = "closed"


class Closed(Exception):
    """The stream is over; ``code`` and ``reason`` are what the client gets. ``keep_session``: the
    connection closes but the session waits for a resume (as when the client drops)."""

    def __init__(self, code: CloseCode, reason: str, *, keep_session: bool = False) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason[:120]  # close reasons must fit in a control frame (123 bytes)
        self.keep_session = keep_session


class LiveStream:
    def __init__(
        self,
        state: GatewayState,
        owner_id: str,
        params: ListenParams,
        send: Send,
        *,
        decoder: AudioDecoder | None = None,
    ) -> None:
        self.state = state
        self.settings = state.settings
        self.owner_id = owner_id
        self.params = params
        self.options = params.options
        self._send = send
        self.request_id = protocol.new_request_id()
        self.connection_id = uuid.uuid4().hex
        self.session_id = params.session_id or protocol.new_session_id()
        self.decoder = decoder or make_decoder(params.encoding, params.sample_rate, params.channels)
        self.raw_16k = params.frames_one_to_one
        self.ingest: AudioIngest | None = None
        self.status = StreamState.OPENING
        self.finals_sent = 0
        self.words_sent = 0
        # How far the ASR worker trails this session's audio, from the lag it reports on every result and,
        # in silence, once a second (LiveKind.PROGRESS).
        self.lag = LagMeter(self.settings.max_buffered_audio_s)
        self.speakers: dict[int, list[int]] = {}
        self.last_speaker: int | None = None
        self._subs: list[Subscription] = []
        # Results that arrive (replayed finals on a resume) before the opening Metadata went out wait here,
        # so the Metadata is always the first message a client sees.
        self._held: list[dict[str, Any]] | None = []
        self._flushed = asyncio.Event()
        self._finishing: asyncio.Task[None] | None = None
        self._grace_task: asyncio.Task[None] | None = None
        self._refresh_task: asyncio.Task[None] | None = None
        # A resume of this session on another connection of this gateway took the ingest over: this
        # connection no longer speaks for the session (its drop or timeout must not end it).
        self._superseded = False
        self.started_monotonic = time.monotonic()
        self.last_activity = time.monotonic()

    # ------------------------------------------------------------ opening

    async def open(self) -> None:
        """Create (or resume) the session, subscribe to its results, make sure a worker serves it, and send
        the opening Metadata. Raises ProtocolError / Closed with what the client should be told."""
        existing = self.state.streams.get(self.session_id)
        if self.params.session_id is not None:
            await self._resume(existing)
        else:
            await self._create()
        self.state.streams[self.session_id] = self
        await self._attach()
        self.status = StreamState.STREAMING
        await self._send_now(
            protocol.metadata_message(
                request_id=self.request_id,
                session_id=self.session_id,
                duration_s=0.0,
                channels=self.params.channels,
                model=self.options.model or self.settings.asr_model,
                resumed=self.params.session_id is not None,
                next_seq=self.ingest.next_seq if self.ingest else 0,
            )
        )
        held = self._held or []
        while held:  # results arriving during this flush are appended to `held` and go out in order
            await self._send_now(held.pop(0))
        self._held = None

    async def _create(self) -> None:
        backend = self.settings.diarize_backend.value
        row = await sessions_repo.create(
            self.state.pool,
            self.session_id,
            self.owner_id,
            language=self.options.language,
            model=self.options.model or self.settings.asr_model,
            options=self.options.model_dump(),
            diarize_backend=backend,
            diarization_status=sessions_repo.StepStatus.OFF
            if backend == "off"
            else sessions_repo.StepStatus.PENDING,
        )
        if row is None:
            raise ProtocolError(CloseCode.POLICY, "session id collision; reconnect")
        start = bus.SessionStart(
            session_id=self.session_id, owner_id=self.owner_id, options=self.options, started_at=time.time()
        )
        self.ingest = AudioIngest(self.state.js, start)
        await self._subscribe(replay_from_final=0)
        await self.ingest.announce()
        try:
            worker = await self.ingest.wait_for_worker(WORKER_CLAIM_TIMEOUT_S)
        except NoCapacity as exc:
            await self.ingest.withdraw()
            await sessions_repo.update_state(
                self.state.pool, self.session_id, status=sessions_repo.SessionStatus.FAILED, error=str(exc)
            )
            await self._unsubscribe()
            raise Closed(CloseCode.TRY_AGAIN, f"no ASR capacity: {exc}; try again later") from exc
        await sessions_repo.update_state(self.state.pool, self.session_id, worker_id=worker)

    async def _resume(self, existing: LiveStream | None) -> None:
        row = await sessions_repo.get(self.state.pool, self.owner_id, self.session_id)
        if row is None:
            raise ProtocolError(CloseCode.POLICY, f"session {self.session_id} does not exist or is not yours")
        if row.ended_at is not None or row.status != sessions_repo.SessionStatus.LIVE:
            raise Closed(CloseCode.SESSION_ENDED, f"session {self.session_id} has ended; open a new stream")
        self.options = bus.StreamOptions.model_validate(row.options or {})
        if existing is not None and existing.ingest is not None:
            # This gateway still holds the session: take its ingest over (numbering continues). The old
            # connection may still be open (the client reconnected before this server saw it drop).
            existing._supersede()
            await existing._unsubscribe()
            self.state.streams.pop(self.session_id, None)
            self.ingest = existing.ingest
            self.finals_sent = existing.finals_sent
            self.words_sent = existing.words_sent
            self.lag = existing.lag
        else:
            start = bus.SessionStart(
                session_id=self.session_id,
                owner_id=self.owner_id,
                options=self.options,
                started_at=time.time(),
            )
            next_seq = self.params.resume_seq
            if next_seq is None:
                next_seq = await self._next_seq_on_bus()
            self.ingest = AudioIngest(self.state.js, start, next_seq=next_seq)
        if self.params.resume_seq is not None:  # 1:1 frames (parse_params): resent frames keep their numbers
            self.ingest.next_seq = self.params.resume_seq
            self.ingest.published_bytes = self.params.resume_seq * FRAME_BYTES
            self.ingest.provisional_bytes = 0
            self.ingest.framer = Framer()  # resent audio starts on a frame boundary
        self.lag.caught_up_to(self.ingest.duration_s)  # corrected by the next report
        replay = self.params.resume_final
        if replay is None:  # finals that end after the first resent frame start are new to the client
            replay = -1
        await self._subscribe(replay_from_final=replay)

    async def _next_seq_on_bus(self) -> int:
        """The number the session's next frame gets when another gateway published its audio: one past the
        last frame on ``audio.<session>`` (markers carry the next frame's number)."""
        try:
            last = await self.state.js.get_last_msg(bus.AUDIO_STREAM, bus.audio_subject(self.session_id))
        except NotFoundError:
            return 0
        headers = last.headers or {}
        seq = int(headers.get(bus.HDR_SEQ, "-1"))
        kind = headers.get(bus.HDR_KIND, bus.FrameKind.AUDIO)
        # A Finalize that carried the start of frame ``seq`` ends that frame there: the audio that follows
        # is new, and would be taken for the rest of the frame if it had the same number.
        if kind == bus.FrameKind.AUDIO or (kind == bus.FrameKind.FINALIZE and last.data):
            return seq + 1
        return seq

    async def _attach(self) -> None:
        """This connection serves the session now (a resume elsewhere replaces the attachment), and says so
        every ATTACHMENT_REFRESH_S: a worker ends a session that has had neither audio nor an attached
        client for a while, and a client that only sends KeepAlive (a muted microphone) is attached."""
        kv = await self.state.js.key_value(bus.KV_LIVE_STREAMS)
        now = time.time()
        attachment = bus.Attachment(
            connection_id=self.connection_id, gateway=GATEWAY_ID, attached_at=now, seen_at=now
        )
        await kv.put(self.session_id, attachment.model_dump_json().encode())
        self._refresh_task = asyncio.create_task(self._refresh_attachment(), name=f"attach-{self.session_id}")

    async def _refresh_attachment(self) -> None:
        # Not while flushing (CLOSING): a flush that cannot finish must leave the session to the worker's
        # abandonment check, not hold it forever.
        while self.status in (StreamState.OPENING, StreamState.STREAMING):
            await asyncio.sleep(ATTACHMENT_REFRESH_S)
            try:
                if not await self._update_attachment(seen_at=time.time()):
                    return  # another connection serves the session now
            except Exception as exc:  # NATS unavailable: try again at the next refresh
                log.debug("refreshing the attachment of %s failed: %s", self.session_id, exc)

    async def _update_attachment(self, **changes: Any) -> bool:
        """Rewrite this connection's attachment, only while it is still the session's (compare and set);
        False when another connection (a resume, here or on another gateway) holds the session."""
        found = await bus.read_attachment(self.state.js, self.session_id)
        if found is None or found[0].connection_id != self.connection_id:
            return False
        current, revision = found
        kv = await self.state.js.key_value(bus.KV_LIVE_STREAMS)
        await kv.update(
            self.session_id, current.model_copy(update=changes).model_dump_json().encode(), last=revision
        )
        return True

    async def _held_elsewhere(self) -> bool:
        """Whether another connection is known to serve the session now (False when that cannot be read)."""
        with contextlib.suppress(Exception):
            found = await bus.read_attachment(self.state.js, self.session_id)
            return found is not None and found[0].connection_id != self.connection_id
        return False

    async def _still_attached(self) -> bool:
        try:
            found = await bus.read_attachment(self.state.js, self.session_id)
        except Exception:
            return False
        return found is not None and found[0].connection_id == self.connection_id

    # ------------------------------------------------------------ results from the bus

    async def _subscribe(self, replay_from_final: int) -> None:
        sid = self.session_id
        self._replay_from_final = replay_from_final
        self._subs.append(await self.state.nc.subscribe(bus.transcript_subject(sid), cb=self._on_live))
        self._subs.append(await self.state.nc.subscribe(bus.speaker_subject(sid), cb=self._on_speaker))
        self._subs.append(await self.state.nc.subscribe(bus.control_subject(sid), cb=self._on_notice))
        sub = await self.state.js.subscribe(
            bus.final_subject(sid),
            cb=self._on_final,
            ordered_consumer=True,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
        )
        self._subs.append(sub)

    async def _unsubscribe(self) -> None:
        for sub in self._subs:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        self._subs.clear()

    async def send(self, message: dict[str, Any]) -> None:
        if self._held is not None:
            self._held.append(message)
            return
        await self._send_now(message)

    async def _send_now(self, message: dict[str, Any]) -> None:
        if self.status in (StreamState.DETACHED, StreamState.CLOSED):
            return
        try:
            await self._send(message)
        except Exception as exc:  # the client went away mid-send: the reader notices and detaches
            log.debug("send failed for %s: %s", self.session_id, exc)

    def _with_speakers(self, result: bus.TranscriptResult) -> bus.TranscriptResult:
        if not self.options.diarize:
            return result
        known = self.speakers.get(result.index) if result.is_final else None
        for i, word in enumerate(result.words):
            if known is not None and i < len(known):
                word.speaker = known[i]
            elif word.speaker is None:
                word.speaker = self.last_speaker
        return result

    async def _on_live(self, msg: Msg) -> None:
        kind = (msg.headers or {}).get(bus.HDR_KIND, bus.LiveKind.INTERIM.value)
        if kind == bus.LiveKind.INTERIM:
            if not self.options.interim_results:
                return
            result = bus.TranscriptResult.model_validate_json(msg.data)
            self._note_progress(result)
            await self.send(self._results(self._with_speakers(result)))
        elif kind == bus.LiveKind.PROGRESS:
            self._note_progress(bus.TranscriptResult.model_validate_json(msg.data))
        elif kind == bus.LiveKind.SPEECH_STARTED:
            if self.options.vad_events:
                await self.send(
                    protocol.speech_started_message(bus.SpeechStarted.model_validate_json(msg.data))
                )
        elif kind == bus.LiveKind.UTTERANCE_END and self.options.utterance_end_ms is not None:
            await self.send(protocol.utterance_end_message(bus.UtteranceEnd.model_validate_json(msg.data)))

    async def _on_final(self, msg: Msg) -> None:
        kind = (msg.headers or {}).get(bus.HDR_KIND, bus.FinalKind.RESULT.value)
        if kind == bus.FinalKind.FLUSHED:
            self._flushed.set()
            return
        result = bus.TranscriptResult.model_validate_json(msg.data)
        self._note_progress(result)
        replay_from = self._replay_from_final
        if replay_from > 0 and result.index < replay_from:
            return
        resent_from_s = (self.params.resume_seq or 0) * 0.1
        if replay_from < 0 and result.end_s <= resent_from_s and self.params.session_id:
            return
        self.finals_sent = max(self.finals_sent, result.index + 1)
        self.words_sent += len(result.words)
        await self.send(self._results(self._with_speakers(result)))

    async def _on_speaker(self, msg: Msg) -> None:
        update = bus.SpeakerUpdate.model_validate_json(msg.data)
        self.speakers[update.final_index] = update.speakers
        if update.speakers:
            self.last_speaker = update.speakers[-1]
        if self.options.diarize:
            await self.send(update.model_dump(mode="json"))

    async def _on_notice(self, msg: Msg) -> None:
        notice = bus.Notice.model_validate_json(msg.data)
        await self.send({"type": notice.type, "code": notice.code, "message": notice.message})

    def _results(self, result: bus.TranscriptResult) -> dict[str, Any]:
        return protocol.results_message(
            result, request_id=self.request_id, options=self.options, channels=self.params.channels
        )

    def _note_progress(self, result: bus.TranscriptResult) -> None:
        self.lag.note(result, self.ingest.duration_s if self.ingest is not None else 0.0)

    # ------------------------------------------------------------ from the client

    async def audio(self, data: bytes) -> None:
        self._check_superseded()
        if self.ingest is None or self.status is not StreamState.STREAMING:
            raise ProtocolError(CloseCode.AFTER_CLOSE, "audio after CloseStream")
        if len(data) > self.settings.max_frame_bytes:
            raise ProtocolError(
                CloseCode.TOO_BIG, f"frame of {len(data)} bytes exceeds {self.settings.max_frame_bytes}"
            )
        self.last_activity = time.monotonic()
        try:
            pcm = self.decoder.feed(data)
        except DecodeError as exc:
            raise ProtocolError(CloseCode.BAD_AUDIO, str(exc)) from exc
        await self.ingest.push_pcm(pcm)
        if self.ingest.duration_s >= self.settings.max_session_s:
            await self.finish()
            raise Closed(
                CloseCode.TOO_LONG,
                f"session reached its maximum length of {self.settings.max_session_s:.0f} s",
            )
        await self._check_lag()

    async def _check_lag(self) -> None:
        """Warn past ``max_buffered_audio_s`` of lag; past ``max_lag_s`` close, keeping the session: the
        worker catches up on what it has, and the client resumes when it is ready to. A Warning always goes
        out before that close."""
        assert self.ingest is not None
        verdict, lag_s = self.lag.verdict(self.ingest.duration_s)
        if verdict is LagVerdict.FINE:
            return
        await self.send(
            {
                "type": "Warning",
                "code": "asr_lagging",
                "message": f"transcription is {lag_s:.0f} s behind the audio; results will catch up "
                f"(the stream closes with 4004 past {self.lag.max_s:.0f} s)",
            }
        )
        if verdict is LagVerdict.WARN_AND_CLOSE:
            raise Closed(
                CloseCode.TOO_FAR_BEHIND,
                f"transcription is {lag_s:.0f} s behind (limit {self.lag.max_s:.0f} s); session kept: "
                f"resume later with resume_seq={self.ingest.next_seq}",
                keep_session=True,
            )

    async def control(self, control: Control) -> bool:
        """Handle a control message; True after CloseStream: the stream flushes in the background
        (``finish()`` waits for it) and refuses audio meanwhile."""
        self.last_activity = time.monotonic()
        self._check_superseded()
        if control in (Control.KEEPALIVE, Control.CONFIGURE):
            return False
        if self.ingest is None or self.status is not StreamState.STREAMING:
            raise ProtocolError(CloseCode.AFTER_CLOSE, f"{control.value} after CloseStream")
        if control is Control.FINALIZE:
            if isinstance(self.decoder, ContainerDecoder):
                await self._check_decoder()  # a container can only be flushed at its end
            else:
                await self.ingest.push_pcm(await self._flush_decoder())
            await self.ingest.finalize()
            return False
        if isinstance(self.decoder, ContainerDecoder):
            await self.ingest.push_pcm(await self._flush_decoder(strict=True))
        self.start_finish()
        return True

    def _check_superseded(self) -> None:
        if self._superseded:
            raise Closed(CloseCode.NORMAL, "the session was resumed on another connection", keep_session=True)

    async def _check_decoder(self) -> None:
        try:
            pcm = self.decoder.feed(b"")
        except DecodeError as exc:
            raise ProtocolError(CloseCode.BAD_AUDIO, str(exc)) from exc
        if pcm and self.ingest is not None:
            await self.ingest.push_pcm(pcm)

    async def _flush_decoder(self, strict: bool = False) -> bytes:
        try:
            if self.raw_16k:
                return b""
            if isinstance(self.decoder, ContainerDecoder):  # waits for its decoding thread: not on the loop
                return await asyncio.to_thread(self.decoder.flush)
            return self.decoder.flush()
        except DecodeError as exc:
            if strict:
                raise ProtocolError(CloseCode.BAD_AUDIO, str(exc)) from exc
            return b""

    # ------------------------------------------------------------ ending

    def start_finish(self, reason: str = "closed") -> asyncio.Task[None]:
        """CloseStream: refuse audio from now on and flush in the background; the task ends after the
        closing Metadata. Calling it again returns the same task."""
        if self._finishing is None:
            self.status = StreamState.CLOSING
            self._finishing = asyncio.create_task(
                self._flush_and_close(reason), name=f"finish-{self.session_id}"
            )
        return self._finishing

    async def finish(self, reason: str = "closed") -> None:
        """Flush everything, wait for the last finals, send the closing Metadata (see ``start_finish``).
        A connection that no longer holds the session (the client resumed on another one, which this
        connection's idle timeout or error must not end) only lets go."""
        if self.ingest is None or (self._finishing is None and self.status is StreamState.CLOSED):
            return
        if self._finishing is None and (self._superseded or await self._held_elsewhere()):
            await self._release(keep_session=True)
            return
        await asyncio.shield(self.start_finish(reason))  # a cancelled caller does not cut the flush short

    async def _flush_and_close(self, reason: str) -> None:
        assert self.ingest is not None
        await self.ingest.push_pcm(await self._flush_decoder())
        await self.ingest.close(reason)
        await sessions_repo.mark_ended(
            self.state.pool,
            self.session_id,
            last_seq=self.ingest.next_seq - 1,
            duration_s=self.ingest.duration_s,
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._flushed.wait(), FLUSH_TIMEOUT_S)
        await asyncio.sleep(0.05)  # let the last callbacks deliver
        await self.send(  # CLOSING still sends: the closing Metadata is the last message
            protocol.metadata_message(
                request_id=self.request_id,
                session_id=self.session_id,
                duration_s=self.ingest.duration_s,
                channels=self.params.channels,
                model=self.options.model or self.settings.asr_model,
                finals=self.finals_sent,
                words=self.words_sent,
                flushed=self._flushed.is_set(),
            )
        )
        await self._release()

    async def detach(self) -> None:
        """The client vanished without CloseStream: keep the session for a resume."""
        if self._superseded:
            await self._release(keep_session=True)
            return
        if self.status is not StreamState.STREAMING:
            await self._release()
            return
        self.status = StreamState.DETACHED
        attached = True  # (when NATS is unavailable, the grace period decides)
        with contextlib.suppress(Exception):
            attached = await self._update_attachment(detached_at=time.time())
        if not attached:  # the client already resumed on another gateway
            await self._release(keep_session=True)
            return
        self._grace_task = asyncio.create_task(self._close_after_grace())

    def _supersede(self) -> None:
        self._superseded = True
        self._cancel_grace()
        if self._refresh_task is not None:
            self._refresh_task.cancel()

    def _cancel_grace(self) -> None:
        if self._grace_task is not None:
            self._grace_task.cancel()
            self._grace_task = None

    async def _close_after_grace(self) -> None:
        await asyncio.sleep(RESUME_GRACE_S)
        attached = await self._still_attached()
        if self.status is not StreamState.DETACHED or self._superseded:
            # Cancelled meanwhile (a resume, shutdown, or an erasure that purges the session) and the cancel
            # was lost in the KV read (cancel_and_wait): closing now would publish audio being erased.
            return
        if attached and self.ingest is not None and not self.ingest.closed:
            log.info("session %s: no resume within %.0f s, closing", self.session_id, RESUME_GRACE_S)
            self.status = StreamState.STREAMING
            self._send = _discard
            await self.finish(reason="client gone")
        else:
            await self._release()

    async def abort(self, reason: str) -> None:
        """Server shutting down: the client may resume elsewhere, so the session stays open."""
        self._cancel_grace()
        await self._release(keep_session=True)
        log.info("session %s detached: %s", self.session_id, reason)

    async def _release(self, keep_session: bool = False) -> None:
        self.status = StreamState.CLOSED
        if self._refresh_task is not None:
            self._refresh_task.cancel()
        await self._unsubscribe()
        if self.state.streams.get(self.session_id) is self:
            del self.state.streams[self.session_id]
        if not keep_session:
            kv = await self.state.js.key_value(bus.KV_LIVE_STREAMS)
            with contextlib.suppress(Exception):
                if await self._still_attached():
                    await kv.delete(self.session_id)


async def _discard(message: dict[str, Any]) -> None:
    del message


def dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))
