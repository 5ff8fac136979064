"""What a running gateway holds: settings, the NATS connection, the database pool, the archive, and the
live streams this process serves."""

from __future__ import annotations

import contextlib
import dataclasses
from typing import TYPE_CHECKING

import asyncpg
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from ayka.connect import close_nats, connect_nats
from ayka.settings import Settings
from persistence.archive import Archive, open_archive
from persistence.db import create_pool

if TYPE_CHECKING:
    from gateway.listen.session import LiveStream


@dataclasses.dataclass
class GatewayState:
    settings: Settings
    nc: NATS
    js: JetStreamContext
    pool: asyncpg.Pool
    archive: Archive
    streams: dict[str, LiveStream] = dataclasses.field(default_factory=dict)

    @classmethod
    async def open(cls, settings: Settings) -> GatewayState:
        if not settings.nats_url or not settings.database_url:
            raise RuntimeError("the gateway needs AYKA_NATS_URL and AYKA_DATABASE_URL (ayka up sets both)")
        nc = await connect_nats(settings.nats_url, "gateway", lease_ttl_s=settings.asr_lease_ttl_s)
        try:
            pool = await create_pool(settings.database_url)
        except BaseException:
            await nc.close()
            raise
        archive = open_archive(settings)
        return cls(settings=settings, nc=nc, js=nc.jetstream(), pool=pool, archive=archive)

    async def close(self) -> None:
        for stream in list(self.streams.values()):
            with contextlib.suppress(Exception):
                await stream.abort("server shutting down")
        with contextlib.suppress(Exception):
            await self.pool.close()
        await close_nats(self.nc)
