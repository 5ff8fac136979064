"""Many sessions on one model: earliest-deadline-first updates, batched decodes, admission control.

The event loop owns the engines (VAD and agreement are cheap); only the model call runs in a worker
thread, where CTranslate2 releases the GIL. A session never has more than one update in flight; with a
model slot to spare it may also have one preview (a quick look at its newest audio for the interim).
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import dataclasses
import logging
import statistics
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stream_asr.calibration import calibrate, sustainable_update_s
from stream_asr.config import SAMPLE_RATE, EngineConfig, ResumePoint
from stream_asr.decode import Decoder, DecodeRequest, Hypothesis
from stream_asr.engine import StreamingEngine
from stream_asr.events import Event
from stream_asr.model import ModelRuntime
from stream_asr.options import engine_config, model_config
from stream_asr.vad import SileroModel

if TYPE_CHECKING:
    from ayka.settings import Settings

__all__ = [
    "CapacityExceeded",
    "DecodeFailed",
    "EngineConfig",
    "LoadPolicy",
    "ResumePoint",
    "Scheduler",
    "SchedulerStats",
    "SessionExists",
    "SessionHandle",
    "UpdateRecord",
    "build_scheduler",
    "engine_config",
]


class CapacityExceeded(RuntimeError):
    """The worker already serves as many sessions as it admits; another worker must take this one."""


class SessionExists(RuntimeError):
    """A session with this id is already open on this scheduler."""


class DecodeFailed(RuntimeError):
    """The model call for this session raised; the session is over (its events iterator raises this)."""


@dataclass(frozen=True, slots=True)
class UpdateRecord:
    """One model call, for metrics."""

    duration_s: float
    batch_size: int
    audio_s: float  # total length of the decoded windows
    preview: bool = False  # previews for interims (StreamingEngine.preview), not updates
    wide: bool = False  # on the instance that runs one call on every core (a lone session)


@dataclass(frozen=True, slots=True)
class SchedulerStats:
    active_sessions: int
    capacity: int
    refused_sessions: int
    model_calls: int
    decodes: int
    decode_seconds_total: float
    audio_seconds_total: float  # session audio processed (received and walked by the engines)
    max_lag_s: float
    preview_calls: int = 0
    preview_seconds_total: float = 0.0
    wide_calls: int = 0  # model calls (updates) that ran on every core, one at a time
    # The shortest update interval a lone session would get now (on every core where the worker runs a
    # lone session's calls there): the calibrated floor, raised to what the live calls sustain.
    update_floor_s: float = 0.0

    @property
    def real_time_factor(self) -> float:
        """Model time per second of processed audio (below 1 keeps up)."""
        return self.decode_seconds_total / self.audio_seconds_total if self.audio_seconds_total else 0.0


@dataclass(frozen=True, slots=True)
class LoadPolicy:
    """How a worker spends its compute as it fills up; decided by the number of open sessions, so that a
    session's results depend on the audio and the load, never on timing.

    With at most ``fast_sessions`` sessions each engine updates at its own ``update_s`` (the short
    interval: lowest latency); with more, every live session updates every ``loaded_update_s``; with
    more than ``quick_sessions``, every update (not the flushes that make everything final: pauses,
    endpoints, Finalize, close) also encodes the shortest window that holds its buffer
    (``Decoder.quick_buckets_s``: a third to a sixth of the encoder's cost, at a small cost in accuracy).

    With at most ``wide_sessions`` sessions (and a model that loaded ``ModelConfig.wide_instance``), the
    model calls run one at a time, each on every core: a lone session's call is 1.6x faster than on its
    share of the cores, so its updates may come as often as ``wide_min_update_s`` (the floor of one
    session: N sessions take turns, so theirs is N times that).

    With ``follow_calls`` (on where the floors were calibrated rather than set), the scheduler raises a
    lone session's floor to what its live full-window calls sustain (``LIVE_CALLS``), never below the
    calibrated one. A session's results then depend on those calls' times too, as they already depend on
    the calibration's: set ``AYKA_ASR_MIN_UPDATE_S`` where workers must decode alike.
    """

    fast_sessions: int = 1
    loaded_update_s: float = 1.0
    quick_sessions: int = 2
    min_update_s: float = 0.0  # no session updates more often: what this machine's model sustains
    wide_sessions: int = 0
    wide_min_update_s: float = 0.0  # the same, for calls on every core
    follow_calls: bool = False

    def update_s(self, sessions: int, own_update_s: float, *, wide: bool = False) -> float:
        wanted = own_update_s if sessions <= self.fast_sessions else max(own_update_s, self.loaded_update_s)
        return max(wanted, self.wide_min_update_s * max(sessions, 1) if wide else self.min_update_s)

    def wide(self, sessions: int) -> bool:
        return sessions <= self.wide_sessions

    def all_quick(self, sessions: int) -> bool:
        return sessions > self.quick_sessions


_END = object()
GPU_MAX_BATCH = 8
# The calibration times a call on 8 s of quiet noise; a live call decodes and aligns speech and shares the
# machine with the platform's other services. On the AMD host a lone stream's calls on every core took
# 0.50 s against a 0.32-0.34 s calibration, and end to end its calibrated 0.6 s floor fell behind
# (finalization p50 2.6-4.4 s) where 0.8 s held (1.75 s). So with ``LoadPolicy.follow_calls`` a lone
# session's floor follows the mean of the last LIVE_CALLS full-window calls of its kind (on every core, or
# per core), with LIVE_HEADROOM for the scheduler's own work and the calls' spread; from LIVE_MIN_CALLS on.
LIVE_CALLS = 8
LIVE_MIN_CALLS = 4
LIVE_HEADROOM = 1.2
log = logging.getLogger("ayka.asr")


@dataclass(slots=True)
class _Call:
    """One model call in flight."""

    started: float
    handles: list[SessionHandle]
    requests: list[DecodeRequest]
    preview: bool = False
    wide: bool = False  # holds every core: nothing else runs beside it
    sessions: int = 1  # sessions open when it started


class SessionHandle:
    """One open session: push audio, ask for finals, read events (an async iterator)."""

    def __init__(self, scheduler: Scheduler, session_id: str, engine: StreamingEngine) -> None:
        self.session_id = session_id
        self._scheduler = scheduler
        self.engine = engine
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._arrivals: collections.deque[tuple[int, float]] = collections.deque()
        self._processed = engine.processed_samples
        self.in_flight = False
        self.preview_in_flight = False
        self.ready_since: float | None = None  # when the pending decision's audio arrived
        self.finished = False

    # ----- input (call on the scheduler's event loop)
    def push(self, pcm: bytes) -> None:
        """16 kHz mono PCM16 little-endian audio, any length."""
        self.engine.push(pcm)
        self._arrivals.append((self.engine.received_samples, time.monotonic()))
        if len(self._arrivals) > 4096:  # a long silence makes no requests: keep the deque bounded
            self._arrival_time(self.engine.processed_samples)
        self._scheduler._wake()

    def finalize(self, at_sample: int | None = None) -> None:
        self.engine.finalize(at_sample)
        self._scheduler._wake()

    def close(self) -> None:
        """Flush everything; the events iterator ends after the last final."""
        self.engine.close()
        self._scheduler._wake()

    def discard(self) -> None:
        """Drop the session now without flushing (for example when its lease was lost)."""
        self._scheduler._drop(self, None)

    def resume_point(self) -> ResumePoint:
        return self.engine.resume_point()

    @property
    def received_s(self) -> float:
        return self.engine.received_samples / SAMPLE_RATE

    @property
    def processed_s(self) -> float:
        return self._processed / SAMPLE_RATE

    @property
    def lag_s(self) -> float:
        return self.received_s - self.processed_s

    # ----- output
    def __aiter__(self) -> AsyncIterator[Event]:
        return self.events()

    async def events(self) -> AsyncIterator[Event]:
        while True:
            item = await self._queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]

    # ----- scheduler side
    def _arrival_time(self, position: int) -> float:
        """Wall time when audio up to ``position`` had arrived."""
        while len(self._arrivals) > 1 and self._arrivals[1][0] <= position:
            self._arrivals.popleft()
        for samples, at in self._arrivals:
            if samples >= position:
                return at
        return time.monotonic()

    def _deliver(self) -> None:
        for event in self.engine.take_events():
            self._queue.put_nowait(event)


class Scheduler:
    """Serves up to ``capacity`` sessions with one model; use ``async with`` or ``start``/``aclose``."""

    def __init__(
        self,
        runtime: ModelRuntime,
        capacity: int,
        *,
        vad_model: SileroModel | None = None,
        max_batch: int | None = None,
        on_update: Callable[[UpdateRecord], None] | None = None,
        window_buckets_s: tuple[float, ...] = (30.0,),
        load_policy: LoadPolicy | None = None,
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self.runtime = runtime
        self.capacity = capacity
        # Updates of several sessions in one call pay on a GPU; on a CPU a batch of two costs more than two
        # calls (full window 1.23 s vs 2 x 0.60 s, quick 0.43 vs 2 x 0.20 s on one core) and the first
        # session waits for the second, so each CPU call decodes one session.
        self.max_batch = max_batch or (GPU_MAX_BATCH if runtime.device == "cuda" else 1)
        self.load_policy = load_policy
        self._all_quick = False
        self._wide = False  # calls run one at a time on every core (LoadPolicy.wide_sessions)
        self.on_update = on_update
        self.vad_model = vad_model or SileroModel()
        self.decoder = Decoder(runtime, window_buckets_s=window_buckets_s)
        self.sessions: dict[str, SessionHandle] = {}
        self.refused_sessions = 0
        self.model_calls = 0
        self.decodes = 0
        self.decode_seconds_total = 0.0
        self.preview_calls = 0
        self.preview_seconds_total = 0.0
        self.wide_calls = 0
        self.update_durations_s: collections.deque[float] = collections.deque(maxlen=1000)
        # Full-window update calls, on every core (True) or per core (False), and the floors they sustain.
        self._live_calls: dict[bool, collections.deque[float]] = {
            wide: collections.deque(maxlen=LIVE_CALLS) for wide in (False, True)
        }
        self._live_floor_s: dict[bool, float] = {False: 0.0, True: 0.0}
        self._audio_samples_done = 0
        # Model calls in flight at once (CTranslate2 runs them in parallel, each on its own threads): on a
        # CPU, one call per core measured twice the throughput of one call using every core.
        self.parallel = max(1, runtime.parallel_calls)
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=self.parallel, thread_name_prefix="asr-model"
        )
        self._event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Scheduler:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="asr-scheduler")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        for handle in list(self.sessions.values()):
            self._drop(handle, None)
        self._executor.shutdown(wait=True)

    def open(self, session_id: str, config: EngineConfig, resume: ResumePoint | None = None) -> SessionHandle:
        """Admit a session (at ``resume`` if given); raises ``CapacityExceeded`` when full."""
        if session_id in self.sessions:
            raise SessionExists(f"session {session_id} is already open")
        if len(self.sessions) >= self.capacity:
            self.refused_sessions += 1
            raise CapacityExceeded(
                f"worker at capacity: {len(self.sessions)} of {self.capacity} sessions active; "
                "session refused so that latency holds"
            )
        self.start()
        handle = SessionHandle(self, session_id, StreamingEngine(config, self.vad_model, resume))
        self.sessions[session_id] = handle
        self._apply_load_policy()
        return handle

    def _policy_now(self) -> LoadPolicy | None:
        """The load policy with its floors raised to what the live calls sustain (``follow_calls``).

        The floor for calls on every core follows (those sessions take turns, one call at a time: a
        lone one by default), and the per-core floor while a session is alone: its updates come one
        after another, and a call longer than its interval puts it further behind with every update.
        Sessions that share the cores in parallel calls update every ``loaded_update_s`` (or on quick
        windows), where the calls' length is a matter of sharing: following it there lengthened their
        intervals and cost 0.5 s of finalization p50 at three streams end to end (`bench.load`, 2.19 ->
        2.69-2.99 s)."""
        policy = self.load_policy
        if policy is None or not policy.follow_calls:
            return policy
        per_core = self._live_floor_s[False] if len(self.sessions) <= 1 else 0.0
        return dataclasses.replace(
            policy,
            min_update_s=max(policy.min_update_s, per_core),
            wide_min_update_s=max(policy.wide_min_update_s, self._live_floor_s[True]),
        )

    def _apply_load_policy(self) -> None:
        policy = self._policy_now()
        if policy is None:
            return
        count = len(self.sessions)
        self._wide = self.decoder.has_wide and policy.wide(count)
        for handle in self.sessions.values():
            handle.engine.update_s = policy.update_s(count, handle.engine.config.update_s, wide=self._wide)
        self._all_quick = policy.all_quick(count)

    def discard(self, session_id: str) -> None:
        """Forget a session without flushing it (no-op when it is not open)."""
        handle = self.sessions.get(session_id)
        if handle is not None:
            self._drop(handle, None)

    def stats(self) -> SchedulerStats:
        return SchedulerStats(
            active_sessions=len(self.sessions),
            capacity=self.capacity,
            refused_sessions=self.refused_sessions,
            model_calls=self.model_calls,
            decodes=self.decodes,
            decode_seconds_total=self.decode_seconds_total,
            audio_seconds_total=self._audio_samples_done / SAMPLE_RATE,
            max_lag_s=max((h.lag_s for h in self.sessions.values()), default=0.0),
            preview_calls=self.preview_calls,
            preview_seconds_total=self.preview_seconds_total,
            wide_calls=self.wide_calls,
            update_floor_s=self._floor_now(),
        )

    # ----- internals
    def _floor_now(self) -> float:
        """A lone session's update floor now (``SchedulerStats.update_floor_s``), whatever is open."""
        policy = self.load_policy
        if policy is None:
            return 0.0
        live = self._live_floor_s if policy.follow_calls else {False: 0.0, True: 0.0}
        if self.decoder.has_wide and policy.wide(1):
            return max(policy.wide_min_update_s, live[True])
        return max(policy.min_update_s, live[False])

    def _wake(self) -> None:
        self._event.set()

    def _drop(self, handle: SessionHandle, error: BaseException | None) -> None:
        if self.sessions.get(handle.session_id) is handle:
            del self.sessions[handle.session_id]
            self._apply_load_policy()
        if not handle.finished:
            handle.finished = True
            handle._queue.put_nowait(error if error is not None else _END)

    def _advance(self, handle: SessionHandle) -> DecodeRequest | None:
        """Walk one session's audio to its next decision; deliver what it emitted on the way."""
        before = handle.engine.processed_samples
        request = handle.engine.prepare()
        self._audio_samples_done += handle.engine.processed_samples - before
        handle._deliver()
        if request is None:
            handle._processed = handle.engine.processed_samples
            handle.ready_since = None
            if handle.engine.done:
                self._drop(handle, None)
        elif handle.ready_since is None:
            handle.ready_since = handle._arrival_time(handle.engine.processed_samples)
        return request

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        inflight: dict[asyncio.Future[list[Hypothesis]], _Call] = {}
        while True:
            ready: list[tuple[float, SessionHandle, DecodeRequest]] = []
            for handle in list(self.sessions.values()):
                if handle.in_flight:
                    continue
                try:
                    request = self._advance(handle)
                except Exception as exc:  # a fault in one session's engine ends that session, not all
                    self._fail(handle, exc)
                    continue
                if request is not None and handle.ready_since is not None:
                    ready.append((handle.ready_since, handle, request))
            ready.sort(key=lambda item: item[0])  # earliest deadline first
            while ready and (free := self._slots(inflight) - len(inflight)) > 0:
                size = min(self.max_batch, -(-len(ready) // free))  # spread what is due over the free slots
                batch, ready = ready[:size], ready[size:]
                requests = [self._quicken(r) for _, _, r in batch]
                handles = [handle for _, handle, _ in batch]
                for handle in handles:
                    handle.in_flight = True
                wide = self._wide
                future = loop.run_in_executor(self._executor, self._decode, requests, wide)
                inflight[future] = _Call(
                    time.perf_counter(), handles, requests, wide=wide, sessions=len(self.sessions)
                )
            self._start_previews(loop, inflight)
            # Wait for a model call to finish or for new audio (VAD events go out on time meanwhile).
            self._event.clear()
            waiter = asyncio.ensure_future(self._event.wait())
            try:
                either: list[asyncio.Future[Any]] = [*inflight, waiter]
                await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()
            for future in [f for f in inflight if f.done()]:
                call = inflight.pop(future)
                try:
                    self._finish(call, future)
                except Exception as exc:  # (the metrics callback, say): these sessions end, the loop lives
                    for handle in call.handles:
                        handle.in_flight = handle.preview_in_flight = False
                        self._fail(handle, exc)

    def _fail(self, handle: SessionHandle, exc: Exception) -> None:
        log.error("session %s failed in the scheduler", handle.session_id, exc_info=exc)
        self._drop(handle, DecodeFailed(f"session failed: {exc!r}"))

    def _slots(self, inflight: dict[asyncio.Future[list[Hypothesis]], _Call]) -> int:
        """How many calls may be in flight now: a wide call holds every core, and one starts only when
        nothing else runs (calls in flight when the load changed finish first)."""
        if any(call.wide for call in inflight.values()):
            return 0
        return 1 if self._wide else self.parallel

    def _start_previews(
        self, loop: asyncio.AbstractEventLoop, inflight: dict[asyncio.Future[list[Hypothesis]], _Call]
    ) -> None:
        """Spend an idle model slot on previews (one call for every session that has one due), keeping a
        slot for updates: previews never hold up what becomes final for longer than one quick call."""
        previews = sum(1 for call in inflight.values() if call.preview)
        slots = self._slots(inflight)
        if self._wide or len(inflight) >= slots or previews >= slots - 1:
            return
        handles: list[SessionHandle] = []
        requests: list[DecodeRequest] = []
        for handle in self.sessions.values():
            if len(requests) == self.max_batch:
                break
            if handle.preview_in_flight or handle.finished:
                continue
            request = handle.engine.preview()
            if request is not None:
                handle.preview_in_flight = True
                handles.append(handle)
                requests.append(request)
        if requests:
            future = loop.run_in_executor(self._executor, self._decode, requests)
            inflight[future] = _Call(time.perf_counter(), handles, requests, preview=True)

    def _finish_preview(self, call: _Call, future: asyncio.Future[list[Hypothesis]]) -> None:
        hypotheses: list[Hypothesis | None] = [None] * len(call.handles)
        try:
            hypotheses = list(future.result())
        except Exception:  # an interim is lost, nothing else: the next update shows the words
            log.warning("a preview model call failed", exc_info=True)
        duration = time.perf_counter() - call.started
        self.preview_calls += 1
        self.preview_seconds_total += duration
        if self.on_update is not None:
            audio_s = sum(len(r.audio) for r in call.requests) / SAMPLE_RATE
            self.on_update(UpdateRecord(duration, len(call.requests), audio_s, preview=True))
        for handle, hypothesis in zip(call.handles, hypotheses, strict=True):
            handle.preview_in_flight = False
            if not handle.finished:
                try:
                    handle.engine.apply_preview(hypothesis)
                except Exception as exc:
                    self._fail(handle, exc)
                    continue
                handle._deliver()

    def _quicken(self, request: DecodeRequest) -> DecodeRequest:
        if self._all_quick and not request.final and not request.quick:
            return dataclasses.replace(request, quick=True)
        return request

    def _finish(self, call: _Call, future: asyncio.Future[list[Hypothesis]]) -> None:
        if call.preview:
            self._finish_preview(call, future)
            return
        for handle in call.handles:
            handle.in_flight = False
        try:
            hypotheses = future.result()
        except Exception as exc:  # the model failed: end these sessions, keep serving the others
            for handle in call.handles:
                self._drop(handle, DecodeFailed(f"decode failed: {exc!r}"))
            return
        duration = time.perf_counter() - call.started
        self._record(duration, call.requests, wide=call.wide)
        self._follow(duration, call)
        for handle, hypothesis in zip(call.handles, hypotheses, strict=True):
            if handle.finished:
                continue
            try:
                handle.engine.apply(hypothesis)
            except Exception as exc:  # a fault in one session's engine ends that session, not its batch
                self._fail(handle, exc)
                continue
            handle._processed = handle.engine.processed_samples
            handle.ready_since = None
            handle._deliver()
            if handle.engine.done:
                self._drop(handle, None)

    def _follow(self, duration: float, call: _Call) -> None:
        """Move the floor of this kind of call to what the live full-window calls sustain."""
        policy = self.load_policy
        if policy is None or not policy.follow_calls or any(r.quick for r in call.requests):
            return
        if not call.wide and (call.sessions > 1 or len(call.requests) > 1):  # shared: not a lone one's
            return
        wide = call.wide
        calls = self._live_calls[wide]
        calls.append(duration)
        if len(calls) < LIVE_MIN_CALLS:
            return
        floor = sustainable_update_s(statistics.fmean(calls), LIVE_HEADROOM)
        if floor != self._live_floor_s[wide]:
            self._live_floor_s[wide] = floor
            self._apply_load_policy()

    def _decode(self, requests: list[DecodeRequest], wide: bool = False) -> list[Hypothesis]:
        return self.decoder.decode(requests, wide=wide)

    def _record(self, duration: float, requests: list[DecodeRequest], *, wide: bool = False) -> None:
        self.model_calls += 1
        self.wide_calls += wide
        self.decodes += len(requests)
        self.decode_seconds_total += duration
        self.update_durations_s.append(duration)
        if self.on_update is not None:
            audio_s = sum(len(r.audio) for r in requests) / SAMPLE_RATE
            self.on_update(
                UpdateRecord(duration_s=duration, batch_size=len(requests), audio_s=audio_s, wide=wide)
            )


def build_scheduler(settings: Settings) -> Scheduler:
    """Load the model named by the settings (blocking: seconds) and wrap it in a scheduler. Whatever of
    ``asr_min_update_s``, ``asr_quick_sessions`` and ``asr_capacity`` is not set comes from a few
    calibration calls that time this machine's model (``stream_asr.calibration``)."""
    policy = LoadPolicy(
        fast_sessions=settings.asr_fast_sessions,
        loaded_update_s=settings.asr_loaded_update_s,
        min_update_s=settings.asr_min_update_s or 0.0,
        wide_sessions=settings.asr_wide_sessions,
        wide_min_update_s=settings.asr_min_update_s or 0.0,
    )
    if settings.asr_quick_sessions is not None:
        policy = dataclasses.replace(policy, quick_sessions=settings.asr_quick_sessions)
    scheduler = Scheduler(
        ModelRuntime(model_config(settings)),
        capacity=settings.asr_capacity or 1,
        window_buckets_s=tuple(sorted(settings.asr_window_buckets_s)),
        load_policy=policy,
    )
    if None in (settings.asr_min_update_s, settings.asr_quick_sessions, settings.asr_capacity):
        previews = settings.asr_preview_s > 0
        measured = calibrate(scheduler.decoder, scheduler.parallel, scheduler.max_batch, previews=previews)
        if settings.asr_min_update_s is None:
            policy = dataclasses.replace(
                policy,
                min_update_s=measured.update_floor_s(),
                wide_min_update_s=measured.wide_update_floor_s(),
                follow_calls=True,
            )
        loaded_s = policy.update_s(policy.fast_sessions + 1, settings.asr_update_s)
        if settings.asr_quick_sessions is None:
            # One session always decodes on full windows: at the floor interval it keeps up, unshared.
            full_sessions = max(1, measured.full_window_sessions(loaded_s))
            policy = dataclasses.replace(policy, quick_sessions=full_sessions)
        if settings.asr_capacity is None:
            scheduler.capacity = max(measured.capacity(loaded_s), policy.quick_sessions, 1)
        scheduler.load_policy = policy
        log.info(
            "model calls: %.2f s on a full window (%s beside a preview, %s on every core), %.2f s quick; "
            "live updates at least every %.1f s (%.1f s with calls on every core), full windows up to %d "
            "sessions, capacity %d",
            measured.full_call_s,
            "-" if measured.shared_full_call_s is None else f"{measured.shared_full_call_s:.2f} s",
            "-" if measured.wide_full_call_s is None else f"{measured.wide_full_call_s:.2f} s",
            measured.quick_call_s,
            policy.min_update_s,
            policy.wide_min_update_s,
            policy.quick_sessions,
            scheduler.capacity,
            extra={
                "calibration_call_s": round(measured.full_call_s, 3),
                "calibration_quick_call_s": round(measured.quick_call_s, 3),
                "calibration_shared_call_s": measured.shared_full_call_s,
                "calibration_wide_call_s": measured.wide_full_call_s,
            },
        )
    return scheduler
