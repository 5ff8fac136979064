"""The agents worker: durable consumers on the bus that run the agents after each call.

- ``session.diarized`` (EVENTS): the transcript has its speakers; run the agents.
- ``session.ready`` (EVENTS), only when diarization is off in the settings or for the session: run at once.
- ``final.*`` (TRANSCRIPTS, new messages only): live leads for sessions that asked for them.

A trigger is acknowledged after its results are stored (a long LLM run keeps it alive with
``in_progress``), so a crash re-delivers it and nothing is lost; a finished session is not re-run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import FetchTimeoutError

from agents.live import LiveLeads
from agents.pipeline import Outcome, process_session
from agents.store import store_live_leads
from agents.webhooks.clock import Clock
from ayka import bus
from ayka.settings import DiarizeBackend, Settings
from persistence.db import TRANSIENT_ERRORS, Pool
from persistence.repositories import sessions
from persistence.repositories.sessions import StepStatus

if TYPE_CHECKING:
    from crewai.llms.base_llm import BaseLLM

log = logging.getLogger("ayka.agents")

DIARIZED_CONSUMER = "agents-diarized"
READY_CONSUMER = "agents-ready"
LIVE_CONSUMER = "agents-live"
ACK_WAIT_S = 60.0
HEARTBEAT_S = 20.0
MAX_DELIVER = 5
STOP_GRACE_S = 5.0
_TRANSIENT = TRANSIENT_ERRORS

Handler = Callable[[Msg], Awaitable[None]]


async def _consumer(
    js: JetStreamContext, stream: str, subject: str, durable: str, new_only: bool = False
) -> Any:
    config = ConsumerConfig(
        durable_name=durable,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.NEW if new_only else DeliverPolicy.ALL,
        ack_wait=ACK_WAIT_S,
        max_deliver=MAX_DELIVER,
        filter_subject=subject,
    )
    return await js.pull_subscribe(subject, durable=durable, stream=stream, config=config)


async def _heartbeat(msg: Msg) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_S)
        with contextlib.suppress(Exception):
            await msg.in_progress()


async def _loop(sub: Any, handle: Handler, stop: asyncio.Event, batch: int = 1) -> None:
    while not stop.is_set():
        try:
            msgs = await sub.fetch(batch, timeout=1)
        except (FetchTimeoutError, TimeoutError):
            continue
        except Exception as exc:
            log.warning("fetch failed (%s); retrying", exc)
            await asyncio.sleep(0.5)
            continue
        for msg in msgs:
            beat = asyncio.create_task(_heartbeat(msg))
            try:
                await handle(msg)
            except _TRANSIENT as exc:
                log.warning("%s: storage unavailable (%s); will be redelivered", msg.subject, exc)
                with contextlib.suppress(Exception):
                    await msg.nak(delay=2)
                continue
            except Exception:
                log.exception("dropping unprocessable message on %s", msg.subject)
            finally:
                beat.cancel()
            with contextlib.suppress(Exception):
                await msg.ack()


async def run_agents_worker(
    settings: Settings,
    nc: NATS,
    pool: Pool,
    stop_event: asyncio.Event,
    *,
    llm: BaseLLM | None = None,
    clock: Clock | None = None,
) -> None:
    """Run until ``stop_event`` is set. ``llm`` overrides the one the settings name (tests)."""
    js = nc.jetstream()
    live = LiveLeads()

    in_progress: dict[str, tuple[asyncio.Lock, list[int]]] = {}  # session: (lock, [runs holding or waiting])

    async def on_diarized(msg: Msg) -> None:
        event = bus.SessionEvent.model_validate_json(msg.data)
        # Where nobody diarizes, ``ready`` and ``diarized`` both trigger the session, each on its own loop:
        # the second waits for the first and then finds it done, instead of running the engine (an LLM's
        # calls) a second time. Across workers the database decides (``sessions.claim_agents``).
        lock, users = in_progress.setdefault(event.session_id, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                outcome = await process_session(settings, pool, js, event.session_id, llm=llm, clock=clock)
        finally:
            users[0] -= 1
            if not users[0]:
                del in_progress[event.session_id]
        log.info("agents on session %s: %s", event.session_id, outcome.value)
        live.end(event.session_id)

    async def on_ready(msg: Msg) -> None:
        event = bus.SessionEvent.model_validate_json(msg.data)
        session = await sessions.get_for_worker(pool, event.session_id)
        if session is None:
            return
        if settings.diarize_backend == DiarizeBackend.OFF or session.diarization_status == StepStatus.OFF:
            await on_diarized(msg)  # nobody will diarize it: run now

    not_live: set[str] = set()  # sessions seen without live leads: skip their finals cheaply

    async def on_final(msg: Msg) -> None:
        session_id = bus.session_of(msg.subject)
        if (msg.headers or {}).get(bus.HDR_KIND) == bus.FinalKind.FLUSHED:
            live.end(session_id)
            not_live.discard(session_id)
            return
        if session_id in not_live:
            return
        session = await sessions.get_for_worker(pool, session_id)
        if (
            session is None
            or not session.options.get("live_leads")
            or session.agents_status == StepStatus.DONE
        ):
            if len(not_live) > 100_000:
                not_live.clear()
            not_live.add(session_id)
            return
        found = live.add(bus.TranscriptResult.model_validate_json(msg.data))
        if found is not None:
            await store_live_leads(pool, session, found)
        live.forget_idle()

    loops: list[tuple[Any, Handler]] = [
        (
            await _consumer(
                js, bus.EVENTS_STREAM, bus.every_session(bus.SESSION_DIARIZED), DIARIZED_CONSUMER
            ),
            on_diarized,
        ),
        (
            await _consumer(js, bus.EVENTS_STREAM, bus.every_session(bus.SESSION_READY), READY_CONSUMER),
            on_ready,
        ),
        (
            await _consumer(
                js, bus.TRANSCRIPTS_STREAM, f"{bus.FINAL_PREFIX}.*", LIVE_CONSUMER, new_only=True
            ),
            on_final,
        ),
    ]
    tasks = [asyncio.create_task(_loop(sub, handle, stop_event)) for sub, handle in loops]
    try:
        await stop_event.wait()
        # Let each loop finish its fetch: a fetch cut short leaves its pull request open on the server,
        # and a message delivered to it would wait ``ack_wait`` before anyone else gets it.
        await asyncio.wait(tasks, timeout=STOP_GRACE_S)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for sub, _ in loops:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()


__all__ = ["Outcome", "run_agents_worker"]
