"""Faults injected into real processes while a client streams: nats-server restarted, PostgreSQL
restarted, the gateway killed. After each, every final the client received is in PostgreSQL, the archive
holds exactly the audio sent (sha256), and the transcript is the one a run without the fault gives.

One cluster for the module: nats-server, PostgreSQL, two gateways behind a TCP balancer, two ASR workers
and the recorder, each a separate process."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ayka import bus
from tests.reliability.cluster import Balancer, Cluster, clip_pcm

pytestmark = pytest.mark.timeout(240)

CLIP_S = 12.0
FAULT_FRAME = 45  # 4.5 s into the stream


@pytest.fixture(scope="module")
async def cluster() -> AsyncIterator[tuple[Cluster, Balancer]]:
    cluster = await Cluster.start()
    balancer = Balancer([])
    try:
        for name in ("gw-a", "gw-b"):
            balancer.backends.append(cluster.start_gateway(name))
        for name in ("asr-1", "asr-2"):
            cluster.start_worker(name, "asr")
        cluster.start_worker("recorder", "recorder")
        await balancer.start()
        await cluster.wait_ready("gw-a", asr_workers=2)
        await cluster.wait_ready("gw-b", asr_workers=2)
        yield cluster, balancer
    finally:
        await balancer.close()
        await cluster.stop()


@pytest.fixture(scope="module")
async def baseline(cluster: tuple[Cluster, Balancer]) -> list[str]:
    """The transcript of the clip with no fault."""
    nodes, balancer = cluster
    assert nodes.client is not None
    pcm = clip_pcm(CLIP_S)
    result, _ = await nodes.client.stream(f"http://127.0.0.1:{balancer.port}", pcm)
    words = await nodes.client.check_nothing_lost(result, pcm)
    assert len(words) >= 15, words
    return words


def _similar(words: list[str], baseline: list[str]) -> float:
    from tests.data.clips import wer

    return wer(" ".join(baseline), " ".join(words))


async def test_postgres_restart_mid_stream_loses_no_final(
    cluster: tuple[Cluster, Balancer], baseline: list[str]
) -> None:
    nodes, balancer = cluster
    assert nodes.client is not None
    pcm = clip_pcm(CLIP_S)

    async def fault(messages: list[dict[str, Any]]) -> None:
        await nodes.client.session_of(messages)  # type: ignore[union-attr]
        await nodes.restart_postgres(down_s=3.0)

    result, _ = await nodes.client.stream(
        f"http://127.0.0.1:{balancer.port}", pcm, fault_at_frame=FAULT_FRAME, fault=fault
    )
    words = await nodes.client.check_nothing_lost(result, pcm)
    assert words == baseline


async def test_killed_gateway_client_resumes_on_the_other_gateway(
    cluster: tuple[Cluster, Balancer], baseline: list[str]
) -> None:
    nodes, balancer = cluster
    assert nodes.client is not None
    pcm = clip_pcm(CLIP_S)

    async def fault(messages: list[dict[str, Any]]) -> None:
        started = time.monotonic()
        await nodes.client.session_of(messages)  # type: ignore[union-attr]
        print(f"session open {time.monotonic() - started:.1f} s after the fault frame")
        # The balancer sends new connections to the first live gateway: gw-a serves the stream.
        nodes.kill("gw-a")

    try:
        result, messages = await nodes.client.stream(
            f"http://127.0.0.1:{balancer.port}", pcm, fault_at_frame=FAULT_FRAME, fault=fault
        )
    finally:
        nodes.start_gateway("gw-a")
    assert result.reconnects >= 1
    metadata = [m for m in messages if m.get("type") == "Metadata"]
    assert metadata[0]["session_id"] == result.transcript.session_id
    assert any(m.get("resumed") for m in metadata), "the client did not resume its session"
    words = await nodes.client.check_nothing_lost(result, pcm)
    assert words == baseline
    await nodes.wait_ready("gw-a", asr_workers=2)


async def test_nats_restart_mid_stream_loses_nothing(
    cluster: tuple[Cluster, Balancer], baseline: list[str]
) -> None:
    nodes, balancer = cluster
    assert nodes.client is not None
    pcm = clip_pcm(CLIP_S)

    async def fault(messages: list[dict[str, Any]]) -> None:
        await nodes.client.session_of(messages)  # type: ignore[union-attr]
        await nodes.restart_nats(down_s=1.0)

    result, messages = await nodes.client.stream(
        f"http://127.0.0.1:{balancer.port}", pcm, fault_at_frame=FAULT_FRAME, fault=fault
    )
    words = await nodes.client.check_nothing_lost(result, pcm)
    # The stream either went on or resumed; either way the same words, at most a word of drift where a
    # decode window straddled the outage.
    assert _similar(words, baseline) <= 0.1, (words, baseline, result.reconnects)
    for name in ("gw-a", "gw-b"):
        body = await nodes.readyz(name)
        assert body["components"]["nats"]["state"] == "ready", body
    assert [m for m in messages if m.get("type") == "Metadata"][-1].get("finals") == len(
        result.transcript.finals
    )


async def test_cluster_is_clean_after_the_faults(cluster: tuple[Cluster, Balancer]) -> None:
    """No session is left claimed or waiting once every stream has closed."""
    nodes, _ = cluster
    import nats

    nc = await nats.connect(nodes.nats.url)
    try:
        js = nc.jetstream()
        leftovers: dict[str, list[str]] = {}
        for _ in range(60):
            leftovers = {}
            for bucket in (bus.KV_ASR_SESSIONS, bus.KV_ASR_OWNERS):
                kv = await js.key_value(bucket)
                try:
                    keys = await kv.keys()
                except Exception:
                    keys = []
                if keys:
                    leftovers[bucket] = keys
            if not leftovers:
                break
            await asyncio.sleep(0.5)
        assert not leftovers, json.dumps(leftovers)
    finally:
        await nc.close()
