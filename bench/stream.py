"""Streaming ASR benchmark: real-time paced sessions through the scheduler (or a Deepgram-style URL).

Prints WER of the joined finals against the reference, first-interim latency after speech onset,
finalization latency (arrival of the final containing a word minus the word's end in the audio),
model update time, real-time factor and CPU.

    .venv/bin/python -m bench.stream                       # 1 session, real time, the sample clip
    .venv/bin/python -m bench.stream --concurrency 4
    .venv/bin/python -m bench.stream --loop 10              # a 10-minute stream (clip repeated)
    .venv/bin/python -m bench.stream --fast                 # as fast as possible (latency in audio time)
    .venv/bin/python -m bench.stream --url ws://127.0.0.1:8000/v1/listen --token KEY
    .venv/bin/python -m bench.stream --synth 8              # streaming vs offline WER, 8 espeak-ng calls
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ayka.settings import Settings
from stream_asr.audio import float_to_pcm16
from stream_asr.calibration import calibrate
from stream_asr.config import EngineConfig, FinalPolicy
from stream_asr.decode import Decoder
from stream_asr.engine import StreamingEngine
from stream_asr.events import Interim, SegmentFinal
from stream_asr.model import Device, ModelConfig, ModelRuntime
from stream_asr.scheduler import GPU_MAX_BATCH, LoadPolicy, Scheduler
from stream_asr.vad import SileroModel
from tests.data.clips import SAMPLE_RATE, Clip, sample_clip, silence, wer

FRAME_S = 0.1


@dataclass
class WordArrival:
    end_s: float
    arrival_s: float


@dataclass
class SessionResult:
    finals: list[str] = field(default_factory=list)
    final_words: list[WordArrival] = field(default_factory=list)
    first_results: list[float] = field(default_factory=list)  # per onset: latency of the first result
    interim_count: int = 0


# A transport streams PCM frames and yields (arrival time since stream start, kind, words) where words
# are (start_s, end_s, punctuated) and kind is "interim" or "final".
Received = tuple[float, str, list[tuple[float, float, str]]]
Transport = Callable[[np.ndarray, bool], AsyncIterator[Received]]


def looped(clip: Clip, minutes: float) -> Clip:
    if minutes <= 0:
        return clip
    pieces, refs, onsets = [], [], []
    total = 0.0
    while total < minutes * 60:
        pieces += [clip.audio, silence(1.0)]
        refs.append(clip.reference)
        onsets += [total + o for o in clip.speech_onsets_s]
        total += clip.duration_s + 1.0
    return Clip(clip.name, np.concatenate(pieces), " ".join(refs), tuple(onsets))


def scheduler_transport(scheduler: Scheduler, config: EngineConfig, name: str) -> Transport:
    """Stream through the in-process scheduler (what a worker does, without NATS)."""

    async def run(audio: np.ndarray, fast: bool) -> AsyncIterator[Received]:
        handle = scheduler.open(name, config)
        frame = round(FRAME_S * SAMPLE_RATE)
        started = time.monotonic()

        async def feed() -> None:
            for i, begin in enumerate(range(0, len(audio), frame)):
                if not fast:
                    await asyncio.sleep(max(0.0, started + i * FRAME_S - time.monotonic()))
                else:
                    await asyncio.sleep(0)
                handle.push(float_to_pcm16(audio[begin : begin + frame]))
            handle.close()

        feeder = asyncio.create_task(feed())
        async for event in handle:
            now = handle.processed_s if fast else time.monotonic() - started
            if isinstance(event, Interim):
                yield now, "interim", [(w.start_s, w.end_s, w.punctuated) for w in event.words]
            elif isinstance(event, SegmentFinal):
                yield now, "final", [(w.start_s, w.end_s, w.punctuated) for w in event.words]
        await feeder

    return run


def engine_transport(decoder: Decoder, vad: SileroModel, config: EngineConfig) -> Transport:
    """--fast: drive one engine synchronously; arrival = audio position at emission (compute excluded)."""

    async def run(audio: np.ndarray, fast: bool) -> AsyncIterator[Received]:
        engine = StreamingEngine(config, vad)
        frame = round(FRAME_S * SAMPLE_RATE)
        for begin in range(0, len(audio) + frame, frame):
            if begin < len(audio):
                engine.push_samples(audio[begin : begin + frame])
            else:
                engine.close()
            while (request := engine.prepare()) is not None:
                engine.apply(decoder.decode([request])[0])
            now = engine.processed_samples / SAMPLE_RATE
            for event in engine.take_events():
                if isinstance(event, Interim):
                    yield now, "interim", [(w.start_s, w.end_s, w.punctuated) for w in event.words]
                elif isinstance(event, SegmentFinal):
                    yield now, "final", [(w.start_s, w.end_s, w.punctuated) for w in event.words]
            await asyncio.sleep(0)

    return run


def deepgram_transport(url: str, token: str) -> Transport:
    """Stream through a Deepgram-compatible WebSocket (the gateway): 100 ms binary frames, JSON back."""

    async def run(audio: np.ndarray, fast: bool) -> AsyncIterator[Received]:
        import websockets

        headers = {"Authorization": f"Token {token}"} if token else {}
        sep = "&" if "?" in url else "?"
        full = f"{url}{sep}encoding=linear16&sample_rate=16000&channels=1&interim_results=true"
        async with websockets.connect(full, additional_headers=headers, max_size=None) as ws:
            started = time.monotonic()
            frame = round(FRAME_S * SAMPLE_RATE)

            async def feed() -> None:
                for i, begin in enumerate(range(0, len(audio), frame)):
                    if not fast:
                        await asyncio.sleep(max(0.0, started + i * FRAME_S - time.monotonic()))
                    await ws.send(float_to_pcm16(audio[begin : begin + frame]))
                await ws.send(json.dumps({"type": "CloseStream"}))

            feeder = asyncio.create_task(feed())
            async for message in ws:
                if isinstance(message, bytes):
                    continue
                data = json.loads(message)
                if data.get("type") != "Results":
                    continue
                alt = data["channel"]["alternatives"][0]
                words = [(w["start"], w["end"], w.get("punctuated_word", w["word"])) for w in alt["words"]]
                yield time.monotonic() - started, "final" if data.get("is_final") else "interim", words
            await feeder

    return run


async def run_session(transport: Transport, clip: Clip, fast: bool, delay_s: float) -> SessionResult:
    await asyncio.sleep(delay_s)
    result = SessionResult()
    pending_onsets = list(clip.speech_onsets_s)
    async for arrival, kind, words in transport(clip.audio, fast):
        if kind == "interim":
            result.interim_count += 1
        while pending_onsets and words and any(end > pending_onsets[0] for _, end, _ in words):
            result.first_results.append(arrival - pending_onsets.pop(0))
        if kind == "final":
            result.finals.append(" ".join(w for _, _, w in words))
            result.final_words += [WordArrival(end, arrival) for _, end, _ in words]
    return result


async def _monitor(scheduler: Scheduler, started: float, out: list[tuple[float, float, float]]) -> None:
    """Every 5 s: (seconds since start, the largest session lag, resident memory in MB)."""
    page = resource.getpagesize()
    while True:
        await asyncio.sleep(5)
        rss_mb = int(Path("/proc/self/statm").read_text().split()[1]) * page / 2**20  # noqa: ASYNC240
        out.append((time.monotonic() - started, scheduler.stats().max_lag_s, rss_mb))


def per_minute(results: list[SessionResult], samples: list[tuple[float, float, float]]) -> None:
    """For long streams: does lag, memory or latency grow? One line per minute of the run."""
    print("minute  max lag s  RSS MB  finalization p50 / p95 s")
    minutes = int(samples[-1][0] // 60) + 1
    for m in range(minutes):
        inside = [x for x in samples if m * 60 <= x[0] < (m + 1) * 60]
        words = [w for r in results for w in r.final_words if m * 60 <= w.arrival_s < (m + 1) * 60]
        lat = [w.arrival_s - w.end_s for w in words]
        if not inside:
            continue
        print(
            f"{m + 1:6d}  {max(x[1] for x in inside):9.2f}  {max(x[2] for x in inside):6.0f}  "
            f"{_pct(lat, 50):.2f} / {_pct(lat, 95):.2f}"
        )


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return float(np.percentile(np.array(values), q))


def _seconds(value: float | None) -> str:
    """A calibration figure, or "-" where it was not measured (no previews, one core)."""
    return "-" if value is None else f"{value:.2f} s"


def summarise(results: list[SessionResult], clip: Clip, wall_s: float, scheduler: Scheduler | None) -> None:
    lat = [w.arrival_s - w.end_s for r in results for w in r.final_words]
    first = [r.first_results[0] for r in results if r.first_results]
    onset = [x for r in results for x in r.first_results]
    wers = [wer(clip.reference, " ".join(r.finals)) for r in results]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s = usage.ru_utime + usage.ru_stime
    print(f"sessions: {len(results)}  audio: {clip.duration_s:.1f} s each  wall: {wall_s:.1f} s")
    print(f"WER (joined finals): mean {statistics.mean(wers):.3f}  per session {[round(w, 3) for w in wers]}")
    first_mean = statistics.mean(first) if first else float("nan")
    print(f"first result after first speech onset: mean {first_mean:.2f} s")
    print(
        f"first result after each utterance onset: p50 {_pct(onset, 50):.2f} s  p95 {_pct(onset, 95):.2f} s"
    )
    print(
        f"finalization latency: mean {statistics.mean(lat) if lat else float('nan'):.2f} s  "
        f"p50 {_pct(lat, 50):.2f} s  p95 {_pct(lat, 95):.2f} s  max {max(lat, default=float('nan')):.2f} s  "
        f"({len(lat)} words)"
    )
    if scheduler is not None:
        stats = scheduler.stats()
        durations = list(scheduler.update_durations_s)
        print(
            f"model calls: {stats.model_calls} ({stats.decodes} decodes)  call time: mean "
            f"{statistics.mean(durations) if durations else 0:.3f} s  p50 {_pct(durations, 50):.3f} s  "
            f"p95 {_pct(durations, 95):.3f} s  RTF {stats.real_time_factor:.3f}"
        )
        if stats.wide_calls:
            print(f"calls on every core: {stats.wide_calls} of {stats.model_calls}")
        print(f"update floor at the end (a lone session): {stats.update_floor_s:.1f} s")
        if stats.preview_calls:
            print(
                f"previews: {stats.preview_calls} calls, mean "
                f"{stats.preview_seconds_total / stats.preview_calls:.3f} s"
            )
    print(f"CPU: {cpu_s:.1f} s process time = {cpu_s / wall_s:.2f} cores busy on average")
    print(f"max RSS: {usage.ru_maxrss / 1024:.0f} MB")


async def compare_synthetic(
    runtime: ModelRuntime, config: EngineConfig, count: int, buckets: tuple[float, ...]
) -> None:
    """Streaming against offline WER on ``count`` synthetic conversations (bench.diarize's espeak-ng
    calls: 2-4 voices, short gaps and overlaps, telephone band): material the sample clip does not cover.
    The engine runs unpaced (``engine_transport``), so the finals are what real time would give when the
    model keeps up."""
    from bench.diarize import synth_conversation

    decoder, vad = Decoder(runtime, window_buckets_s=buckets), SileroModel()
    totals = {"offline": 0.0, "streaming": 0.0}
    words = 0
    for seed in range(100, 100 + count):
        call = synth_conversation(seed)
        reference = " ".join(u.text for u in call.utterances)
        segments, _ = runtime.whisper.transcribe(call.waveform, beam_size=5, language="en", vad_filter=True)
        offline = " ".join(s.text.strip() for s in segments)
        clip = Clip(f"synth{seed}", call.waveform, reference, ())
        result = await run_session(engine_transport(decoder, vad, config), clip, True, 0.0)
        figures = {"offline": wer(reference, offline), "streaming": wer(reference, " ".join(result.finals))}
        n = len(reference.split())
        words += n
        for key, value in figures.items():
            totals[key] += value * n
        print(
            f"synth{seed}: {len(call.waveform) / SAMPLE_RATE:.0f} s, {n} words, WER offline (beam 5, VAD) "
            f"{figures['offline']:.3f}, streaming {figures['streaming']:.3f}, {len(result.finals)} finals"
        )
    print(
        f"{count} conversations, {words} words: WER offline {totals['offline'] / words:.3f}, "
        f"streaming {totals['streaming'] / words:.3f} (word-weighted)"
    )


async def main_async(args: argparse.Namespace) -> None:
    clip = looped(sample_clip(), args.loop)
    config = EngineConfig(
        update_s=args.update_s,
        beam_size=args.beam,
        context_s=args.context_s,
        endpointing_ms=args.endpointing_ms,
        final_policy=FinalPolicy(args.final_policy),
        first_update_s=args.first_update_s,
        quick_first_update=not args.no_quick_first,
        preview_every_s=args.preview_s or None,
    )
    scheduler: Scheduler | None = None
    transports: list[Transport]
    buckets = tuple(float(x) for x in args.window_buckets.split(","))
    if args.url:
        transports = [deepgram_transport(args.url, args.token) for _ in range(args.concurrency)]
    else:
        runtime = ModelRuntime(
            ModelConfig(
                name=args.model,
                device=Device(args.device),
                cpu_threads=args.cpu_threads,
                parallel_calls=args.parallel_calls,
                wide_instance=args.wide_sessions > 0,
            )
        )
        if args.synth:
            await compare_synthetic(runtime, config, args.synth, buckets)
            return
        if args.fast:
            decoder, vad = Decoder(runtime, window_buckets_s=buckets), SileroModel()
            transports = [engine_transport(decoder, vad, config) for _ in range(args.concurrency)]
        else:
            min_update_s, quick_sessions = args.min_update_s, args.quick_sessions
            wide_min_update_s = min_update_s
            if min_update_s is None or quick_sessions is None:  # as a worker does at start
                decoder = Decoder(runtime, window_buckets_s=buckets)
                batch = (args.max_batch or GPU_MAX_BATCH) if args.device == "cuda" else 1
                parallel = max(1, runtime.parallel_calls)
                measured = calibrate(decoder, parallel, batch, previews=bool(args.preview_s))
                if min_update_s is None:
                    min_update_s = measured.update_floor_s()
                    wide_min_update_s = measured.wide_update_floor_s()
                loaded_s = max(args.update_s, args.loaded_update_s, min_update_s)
                if quick_sessions is None:
                    quick_sessions = measured.full_window_sessions(loaded_s)
                print(
                    f"calibration: full-window call {measured.full_call_s:.2f} s "
                    f"({_seconds(measured.shared_full_call_s)} beside a preview, "
                    f"{_seconds(measured.wide_full_call_s)} on every core), quick call "
                    f"{measured.quick_call_s:.3f} s; update floor {min_update_s} s "
                    f"({wide_min_update_s} s on every core), full windows up to "
                    f"{quick_sessions} sessions, a worker would admit {measured.capacity(loaded_s)}"
                )
            scheduler = Scheduler(
                runtime,
                capacity=args.concurrency,
                max_batch=args.max_batch or None,
                window_buckets_s=buckets,
                load_policy=LoadPolicy(
                    args.fast_sessions,
                    args.loaded_update_s,
                    quick_sessions,
                    min_update_s,
                    wide_sessions=args.wide_sessions,
                    wide_min_update_s=wide_min_update_s or 0.0,
                    follow_calls=args.min_update_s is None,  # as a worker does with a calibrated floor
                ),
            )
            scheduler.start()
            transports = [
                scheduler_transport(scheduler, config, f"bench-{i}") for i in range(args.concurrency)
            ]
    stagger = 0.0 if args.fast else args.update_s / max(args.concurrency, 1)
    if args.stagger is not None and not args.fast:
        stagger = args.stagger
    started = time.monotonic()
    samples: list[tuple[float, float, float]] = []
    monitor = asyncio.create_task(_monitor(scheduler, started, samples)) if scheduler else None
    results = await asyncio.gather(
        *(run_session(t, clip, args.fast, i * stagger) for i, t in enumerate(transports))
    )
    wall = time.monotonic() - started
    if monitor is not None:
        monitor.cancel()
    summarise(list(results), clip, wall, scheduler)
    if args.loop and samples:
        per_minute(list(results), samples)
    if scheduler is not None:
        await scheduler.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--loop", type=float, default=0.0, help="repeat the clip to this many minutes")
    parser.add_argument(
        "--stagger",
        type=float,
        default=None,
        help="seconds between the sessions' starts (default: update interval / N, so that the same clip "
        "pauses nearly together in every session; e.g. 7.5 with --loop for sessions whose pauses differ)",
    )
    parser.add_argument(
        "--fast", action="store_true", help="no pacing; latencies in audio time (compute excluded)"
    )
    parser.add_argument(
        "--synth", type=int, default=0, help="streaming vs offline WER on N espeak-ng conversations"
    )
    parser.add_argument("--url", default="", help="Deepgram-compatible ws:// URL (through the gateway)")
    parser.add_argument("--token", default="", help="API key for --url")
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--cpu-threads", type=int, default=0, help="threads per model call (0 = auto)")
    parser.add_argument("--parallel-calls", type=int, default=0, help="model calls at once (0 = auto)")
    parser.add_argument("--update-s", type=float, default=EngineConfig().update_s)
    policy = LoadPolicy()
    parser.add_argument("--loaded-update-s", type=float, default=policy.loaded_update_s)
    parser.add_argument("--fast-sessions", type=int, default=policy.fast_sessions)
    parser.add_argument(
        "--quick-sessions", type=int, default=None, help="full-window sessions at most (default: calibrate)"
    )
    parser.add_argument(
        "--min-update-s", type=float, default=None, help="floor of the update interval (default: calibrate)"
    )
    parser.add_argument(
        "--wide-sessions",
        type=int,
        default=Settings.model_fields["asr_wide_sessions"].default,
        help="with at most this many sessions, calls run one at a time on every core (0 = off)",
    )
    parser.add_argument("--first-update-s", type=float, default=EngineConfig().first_update_s)
    parser.add_argument(
        "--no-quick-first", action="store_true", help="first look at an utterance on a full 30 s window"
    )
    parser.add_argument(
        "--preview-s",
        type=float,
        default=EngineConfig().preview_every_s or 0.0,
        help="a preview for the interim every this much audio on a spare model slot (0 = off)",
    )
    parser.add_argument("--beam", type=int, default=1)
    parser.add_argument(
        "--context-s",
        type=float,
        default=EngineConfig().context_s,
        help="a trim keeps this much transcribed speech in the buffer (0 = cut at the last commit)",
    )
    parser.add_argument("--endpointing-ms", type=int, default=300)
    parser.add_argument(
        "--final-policy", default=EngineConfig().final_policy.value, choices=["sentence", "commit"]
    )
    parser.add_argument(
        "--max-batch",
        type=int,
        default=0,
        help=f"sessions per model call (0 = {GPU_MAX_BATCH} on a GPU, 1 on a CPU)",
    )
    parser.add_argument(
        "--window-buckets", default="30", help="encoder window sizes in s, e.g. 10,20,30 (30 = Whisper's own)"
    )
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
