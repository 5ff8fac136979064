"""The ``ayka`` command: ``up``, ``gateway``, ``worker KIND``, ``migrate``, ``keys create``, ``stream``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import Sequence
from typing import TextIO

from ayka.settings import Settings, describe_error

WORKERS = ("asr", "recorder", "diarize", "agents", "webhooks")


def _settings(**overrides: object) -> Settings:
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except Exception as exc:
        print(f"ayka: bad configuration: {describe_error(exc)}", file=sys.stderr)
        raise SystemExit(2) from None
    return settings


def _logging(settings: Settings, stream: TextIO = sys.stderr) -> None:
    """Services (gateway, workers) log JSON lines with secrets redacted (ayka.logs)."""
    from ayka.logs import configure_logging

    configure_logging(settings.log_level, stream)


def _progress_logging(settings: Settings, stream: TextIO) -> None:
    """`ayka up` talks to a person: plain lines (its children's JSON logs go to <data dir>/logs)."""
    from ayka.logs import QUIET_LOGGERS, redact

    class Redacted(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return redact(super().format(record))

    handler = logging.StreamHandler(stream)
    handler.setFormatter(Redacted("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=settings.log_level, handlers=[handler])
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)


# ---------------------------------------------------------------- up


def cmd_up(args: argparse.Namespace) -> int:
    overrides: dict[str, object] = {}
    if args.asr_workers is not None:
        overrides["asr_workers"] = args.asr_workers
    settings = _settings(**overrides)
    _progress_logging(settings, sys.stdout)  # stdout; stderr carries only a start-up error, in one line
    from ayka.runtime.supervisor import up

    return up(settings, settings.asr_workers)


# ---------------------------------------------------------------- gateway


def cmd_gateway(args: argparse.Namespace) -> int:
    import uvicorn

    from ayka.secrets import ensure_secrets
    from gateway.app import create_app

    settings = ensure_secrets(_settings())
    _logging(settings)
    app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        log_config=None,  # uvicorn's loggers go through our JSON handler (redacted), not its own
        access_log=False,  # gateway.middleware logs each request once (JSON, redacted)
        ws_max_size=settings.max_frame_bytes * 4,
        ws_ping_interval=20,
        ws_ping_timeout=20,
        timeout_graceful_shutdown=10,
        proxy_headers=True,
    )
    return 0


# ---------------------------------------------------------------- workers


async def _run_worker(kind: str, settings: Settings) -> None:
    from ayka import bus
    from ayka.connect import Heartbeat, close_nats, connect_nats

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if settings.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(settings.metrics_port)
    nc = await connect_nats(settings.nats_url, kind, lease_ttl_s=settings.asr_lease_ttl_s)
    try:
        if kind == "asr":
            from stream_asr.worker import run_asr_worker

            await run_asr_worker(settings, nc, stop)
            return
        from persistence.archive import open_archive
        from persistence.db import create_pool

        pool = await create_pool(settings.database_url)
        heartbeat = Heartbeat(
            nc,
            bus.WorkerInfo(
                kind=bus.WorkerKind(kind),
                worker_id=f"{kind}-{os.getpid()}",
                pid=os.getpid(),
                host=socket.gethostname(),
            ),
        )
        heartbeat.start()
        try:
            if kind == "recorder":
                from persistence.recorder import run_recorder

                await run_recorder(settings, nc, pool, open_archive(settings), stop)
            elif kind == "diarize":
                from diarize.worker import run_diarize_worker

                await run_diarize_worker(settings, nc, pool, open_archive(settings), stop)
            elif kind == "agents":
                from agents.worker import run_agents_worker

                await run_agents_worker(settings, nc, pool, stop)
            elif kind == "webhooks":
                from agents.webhooks.delivery import run_webhook_worker

                await run_webhook_worker(settings, pool, stop)
        finally:
            await heartbeat.stop()
            await pool.close()
    finally:
        await close_nats(nc)


def cmd_worker(args: argparse.Namespace) -> int:
    from ayka.secrets import ensure_secrets

    overrides: dict[str, object] = {}
    if args.metrics_port is not None:
        overrides["metrics_port"] = args.metrics_port
    settings = ensure_secrets(_settings(**overrides))
    _logging(settings)
    if not settings.nats_url or (args.kind != "asr" and not settings.database_url):
        print("ayka worker: set AYKA_NATS_URL (and AYKA_DATABASE_URL), or use `ayka up`", file=sys.stderr)
        return 2
    from ayka.connect import Unreachable

    try:
        asyncio.run(_run_worker(args.kind, settings))
    except Unreachable as exc:
        print(f"ayka worker {args.kind}: {exc}", file=sys.stderr)
        return 1
    return 0


# ---------------------------------------------------------------- migrate, keys


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings()
    if not settings.database_url:
        print(
            "ayka migrate: set AYKA_DATABASE_URL (ayka up migrates its embedded database itself)",
            file=sys.stderr,
        )
        return 2
    from persistence.migrate import migrate_dsn

    applied = asyncio.run(migrate_dsn(settings.database_url))
    print(f"applied {len(applied)} migration(s){': ' + ', '.join(applied) if applied else ''}")
    return 0


async def _create_key(settings: Settings, name: str, scopes: list[str], email: str | None) -> str:
    from gateway.auth import create_api_key, ensure_local_user
    from persistence.db import create_pool
    from persistence.repositories import users

    pool = await create_pool(settings.database_url)
    try:
        if email:
            user = await users.get_by_email(pool, email)
            if user is None:
                raise SystemExit(f"ayka keys create: no user with email {email}")
            owner = user.id
        else:
            owner = await ensure_local_user(pool)
        _public, plaintext = await create_api_key(pool, owner, name, scopes)
        return plaintext
    finally:
        await pool.close()


def _database_url_for_cli(settings: Settings) -> Settings:
    """The CLI may run beside `ayka up`: read the embedded database's DSN from the data dir."""
    if settings.database_url:
        return settings
    from ayka.runtime.postgres import EmbeddedPostgres

    pg_dir = settings.data_dir / "postgres"
    if not (pg_dir / "PG_VERSION").exists():
        raise SystemExit("ayka: no database yet; start `ayka up` first or set AYKA_DATABASE_URL")
    postgres = EmbeddedPostgres(pg_dir)
    dsn = postgres.running_dsn()
    if not dsn:
        raise SystemExit("ayka: the embedded database is not running; start `ayka up` first")
    return settings.model_copy(update={"database_url": dsn})


def cmd_keys_create(args: argparse.Namespace) -> int:
    settings = _database_url_for_cli(_settings())
    scopes = [s.strip() for s in args.scopes.split(",") if s.strip()]
    key = asyncio.run(_create_key(settings, args.name, scopes, args.email))
    print(key)
    print("Store this key now: it is shown only once.", file=sys.stderr)
    return 0


def cmd_stream(args: argparse.Namespace) -> int:
    from ayka.stream_client import run_stream_command

    return run_stream_command(args)


# ---------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ayka", description="AYKA real-time transcription platform")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("up", help="run the whole platform on this machine (embedded NATS and PostgreSQL)")
    p.add_argument("--asr-workers", type=int, default=None, help="ASR worker processes (AYKA_ASR_WORKERS)")
    p.set_defaults(func=cmd_up)

    p = sub.add_parser("gateway", help="run the gateway (HTTP API, /v1/listen, web UI)")
    p.set_defaults(func=cmd_gateway)

    p = sub.add_parser("worker", help="run one worker process")
    p.add_argument("kind", choices=WORKERS)
    p.add_argument("--metrics-port", type=int, default=None, help="serve Prometheus /metrics on this port")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("migrate", help="apply database migrations (AYKA_DATABASE_URL)")
    p.set_defaults(func=cmd_migrate)

    keys = sub.add_parser("keys", help="API keys").add_subparsers(dest="keys_command", required=True)
    p = keys.add_parser("create", help="create an API key (printed once)")
    p.add_argument("--name", required=True)
    p.add_argument("--scopes", default="listen,read,write", help="comma-separated: listen,read,write,admin")
    p.add_argument("--email", default=None, help="owner (default: the local owner account)")
    p.set_defaults(func=cmd_keys_create)

    p = sub.add_parser("stream", help="stream a file or the microphone through /v1/listen with live captions")
    p.add_argument("file", nargs="?", help="an audio file (any format FFmpeg reads)")
    p.add_argument("--mic", action="store_true", help="stream the microphone instead of a file")
    p.add_argument("--fast", action="store_true", help="send as fast as possible instead of real time")
    p.add_argument("--url", default=None, help="gateway base URL (default http://AYKA_HOST:AYKA_PORT)")
    p.add_argument("--key", default=None, help="API key (default: AYKA_API_KEY)")
    p.add_argument("--out", default=None, help="write OUT.json, OUT.srt and OUT.vtt")
    p.add_argument("--language", default=None)
    p.add_argument("--diarize", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no live captions, only the final transcript")
    p.set_defaults(func=cmd_stream)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
