"""The platform as real, separate processes, so one part can be killed or restarted while a client
streams: nats-server, PostgreSQL, gateways, ASR workers and the recorder, each its own process, plus a
tiny TCP balancer in front of the gateways (clients reconnect to one address and land on a live
gateway, as behind a load balancer in production)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from ayka.runtime.nats import EmbeddedNats
from ayka.runtime.postgres import EmbeddedPostgres
from ayka.runtime.process import free_port, stop_process, wait_for_port
from ayka.settings import DiarizeBackend, Settings
from ayka.stream_client import StreamResult, stream_frames
from gateway.auth import create_api_key, ensure_local_user
from persistence.archive import Archive, open_archive
from persistence.db import Pool, create_pool
from persistence.migrate import migrate_dsn
from persistence.repositories import segments as segments_repo
from persistence.repositories import sessions as sessions_repo
from tests.data.clips import normalise, sample_clip

FRAME_BYTES = 3200
LEASE_TTL_S = 3.0


def clip_pcm(seconds: float) -> bytes:
    audio = sample_clip().audio[: int(seconds * 16000)]
    return bytes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())


def make_root(prefix: str) -> Path:
    """A data dir the embedded PostgreSQL (another user when we are root) can traverse; not pytest's
    tmp_path, whose root is 0700."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    root.chmod(0o755)
    return root


class Balancer:
    """Forwards each TCP connection to the first backend that accepts it, in order."""

    def __init__(self, backends: list[int]) -> None:
        self.backends = backends
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._pipes):
            task.cancel()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for port in self.backends:
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                continue
            for src, dst in ((reader, up_writer), (up_reader, writer)):
                task = asyncio.create_task(self._pipe(src, dst))
                self._pipes.add(task)
                task.add_done_callback(self._pipes.discard)
            return
        writer.close()

    @staticmethod
    async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(Exception):
                dst.close()  # an upstream that dies drops the client too, as a real balancer does


@dataclass
class Cluster:
    root: Path
    nats: EmbeddedNats
    postgres: EmbeddedPostgres
    env: dict[str, str]
    settings: Settings
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    gateway_ports: dict[str, int] = field(default_factory=dict)
    client: Client | None = None

    # ------------------------------------------------------------ processes

    @classmethod
    async def start(cls, prefix: str = "ayka-rel-") -> Cluster:
        root = make_root(prefix)
        nats = EmbeddedNats(root / "nats")
        nats_url = nats.start()
        postgres = EmbeddedPostgres(root / "pgdata", durable=False)
        dsn = await asyncio.to_thread(postgres.start)
        await migrate_dsn(dsn)
        settings = Settings(
            data_dir=root / "data",
            nats_url=nats_url,
            database_url=dsn,
            jwt_secret="rel-jwt-secret-" + "x" * 32,
            url_signing_secret="rel-url-secret-" + "y" * 32,
            diarize_backend=DiarizeBackend.OFF,
            asr_lease_ttl_s=LEASE_TTL_S,
        )
        env = dict(os.environ)
        env.update(
            AYKA_DATA_DIR=str(settings.data_dir),
            AYKA_NATS_URL=nats_url,
            AYKA_DATABASE_URL=dsn,
            AYKA_ARCHIVE_URL=settings.archive_url,
            AYKA_JWT_SECRET=settings.jwt_secret,
            AYKA_URL_SIGNING_SECRET=settings.url_signing_secret,
            AYKA_DIARIZE_BACKEND="off",
            AYKA_ASR_LEASE_TTL_S=str(LEASE_TTL_S),
            AYKA_ASR_CPU_THREADS="1",
            AYKA_ASR_MIN_UPDATE_S="1.0",  # both workers alike, whatever their calibration would measure
            AYKA_ASR_QUICK_SESSIONS="2",
            AYKA_ASR_CAPACITY="4",
            AYKA_RATE_LIMIT_PER_MINUTE="100000",
            AYKA_LOG_LEVEL="INFO",
        )
        (root / "logs").mkdir()
        cluster = cls(root=root, nats=nats, postgres=postgres, env=env, settings=settings)
        pool = await create_pool(dsn)
        owner_id = await ensure_local_user(pool)
        _public, key = await create_api_key(pool, owner_id, "rel", ["listen", "read"])
        cluster.client = Client(pool, open_archive(settings), key)
        return cluster

    def spawn(self, name: str, *args: str, **extra_env: str) -> subprocess.Popen[bytes]:
        env = {**self.env, **extra_env}
        log = open(self.root / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - the child owns it
        proc = subprocess.Popen(
            [sys.executable, "-m", "ayka", *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        self.procs[name] = proc
        return proc

    def start_gateway(self, name: str, port: int | None = None) -> int:
        port = port or self.gateway_ports.get(name) or free_port()
        self.gateway_ports[name] = port
        self.spawn(name, "gateway", AYKA_PORT=str(port), AYKA_HOST="127.0.0.1")
        return port

    def start_worker(self, name: str, kind: str) -> None:
        self.spawn(name, "worker", kind)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs[name]
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        proc.wait(timeout=30)

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.root / "logs" / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    async def readyz(self, gateway: str) -> dict[str, Any]:
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{self.gateway_ports[gateway]}/readyz", timeout=5)
        body: dict[str, Any] = response.json()
        body["http_status"] = response.status_code
        return body

    async def wait_ready(self, gateway: str, asr_workers: int, timeout_s: float = 180) -> None:
        port = self.gateway_ports[gateway]
        await asyncio.to_thread(wait_for_port, "127.0.0.1", port, timeout_s, self.procs[gateway])
        deadline = time.monotonic() + timeout_s
        body: dict[str, Any] = {}
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError, ValueError):
                body = await self.readyz(gateway)
                asr = [w for w in body["components"]["workers"] if w["kind"] == "asr"]
                if body["http_status"] == 200 and len(asr) >= asr_workers:
                    return
            await asyncio.sleep(0.3)
        raise AssertionError(f"{gateway} not ready: {body}\n{self.log_tail(gateway)}")

    async def asr_workers(self, gateway: str) -> list[dict[str, Any]]:
        body = await self.readyz(gateway)
        return [w for w in body["components"]["workers"] if w["kind"] == "asr"]

    async def restart_nats(self, down_s: float) -> None:
        self.nats.kill()
        await asyncio.sleep(down_s)
        await asyncio.to_thread(self.nats.start)

    async def restart_postgres(self, down_s: float) -> None:
        await asyncio.to_thread(self.postgres.stop)
        await asyncio.sleep(down_s)
        await asyncio.to_thread(self.postgres.start)

    async def stop(self) -> None:
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            await asyncio.to_thread(stop_process, proc, 15)
        if self.client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.client.pool.close(), 10)
        await asyncio.to_thread(self.postgres.stop)
        self.nats.stop()
        # Keep the last run's process logs for a post-mortem.
        keep = Path(tempfile.gettempdir()) / "ayka-reliability-logs"
        shutil.rmtree(keep, ignore_errors=True)
        with contextlib.suppress(OSError):
            shutil.copytree(self.root / "logs", keep)
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Client:
    """Streams as a customer would, and checks afterwards, in storage, that nothing was lost."""

    pool: Pool
    archive: Archive
    api_key: str

    async def stream(
        self,
        base_url: str,
        pcm: bytes,
        *,
        fault_at_frame: int | None = None,
        fault: Callable[[list[dict[str, Any]]], Any] | None = None,
        pace_s: float = 0.1,
    ) -> tuple[StreamResult, list[dict[str, Any]]]:
        """Stream ``pcm`` at ``pace_s`` per 100 ms frame; at frame ``fault_at_frame`` run ``fault`` (a
        coroutine function, given the messages received so far) beside the stream. Returns the result
        and every message received."""
        messages: list[dict[str, Any]] = []
        fault_task: list[asyncio.Task[Any]] = []

        async def frames() -> AsyncIterator[bytes]:
            started = time.monotonic()
            for n, i in enumerate(range(0, len(pcm), FRAME_BYTES)):
                if n == fault_at_frame and fault is not None:
                    fault_task.append(asyncio.create_task(fault(messages)))
                delay = started + n * pace_s - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                yield pcm[i : i + FRAME_BYTES]

        result = await stream_frames(
            base_url, self.api_key, frames(), on_message=messages.append, max_reconnects=20
        )
        for task in fault_task:
            try:
                await task
            except AssertionError as exc:
                raise AssertionError(
                    f"{exc}; the stream ended {result.close_code} {result.close_reason!r} after "
                    f"{len(messages)} messages, {result.reconnects} reconnects"
                ) from exc
        return result, messages

    @staticmethod
    async def session_of(messages: list[dict[str, Any]], timeout_s: float = 30) -> str:
        """The session id from the opening Metadata (a client can resume only once it has it)."""
        deadline = time.monotonic() + timeout_s
        while not (ids := [m["session_id"] for m in messages if m.get("type") == "Metadata"]):
            assert time.monotonic() < deadline, "no Metadata: the stream never opened"
            await asyncio.sleep(0.05)
        return str(ids[0])

    async def wait_session_ready(self, session_id: str, timeout_s: float = 90) -> sessions_repo.Session:
        deadline = time.monotonic() + timeout_s
        row = None
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                row = await sessions_repo.get_for_worker(self.pool, session_id)
                if row is not None and row.ready_at is not None:
                    return row
            await asyncio.sleep(0.3)
        raise AssertionError(f"session {session_id} never became ready: {row}")

    async def check_nothing_lost(self, result: StreamResult, pcm: bytes) -> list[str]:
        """Every final the client got is in PostgreSQL; the archive holds exactly the audio sent.
        Returns the client's final transcript as normalised words."""
        assert result.close_code == 1000, (result.close_code, result.close_reason)
        finals = result.transcript.finals
        assert sorted(finals) == list(range(len(finals))), f"finals lost or out of order: {sorted(finals)}"
        session_id = result.transcript.session_id
        await self.wait_session_ready(session_id)
        stored = {s.idx: s.text for s in await segments_repo.list_for_worker(self.pool, session_id)}
        for index, message in finals.items():
            text = message["channel"]["alternatives"][0]["transcript"]
            assert stored.get(index) == text, (
                f"final {index} not in PostgreSQL: {text!r} vs {stored.get(index)!r}"
            )
        archived = await asyncio.to_thread(self.archive.read_pcm, session_id)
        assert hashlib.sha256(archived).hexdigest() == hashlib.sha256(pcm).hexdigest(), (
            f"archived audio differs: {len(archived)} bytes archived, {len(pcm)} sent"
        )
        return normalise(result.transcript.text).split()
